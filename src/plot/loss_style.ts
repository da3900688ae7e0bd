/**
 * How each loss looks in every figure: the reference's colours (CE blue,
 * LS green, FL red, MSE cyan), plus a marker and a dash pattern per loss so
 * that readers who cannot tell the colours apart can still tell the lines apart.
 *
 * @module
 */
import type { MarkerName, RunSummary } from "./types.ts";

/** Visual identity of one loss. */
export interface LossStyle {
  /** Abbreviation used in the reference's run names and in figure titles: `CE`, `LS`, `FL`, `MSE`. */
  short: string;
  /** Legend text with the loss's parameter, e.g. `LS (α = 0.05)`. */
  label: string;
  color: string;
  marker: MarkerName;
  /** `stroke-dasharray` used where losses must differ by line style (CE solid). */
  dash?: string;
  /** Sort key: CE, LS, FL, MSE, then anything else. */
  order: number;
}

interface Known {
  short: string;
  color: string;
  marker: MarkerName;
  dash?: string;
  /** The `loss_params` key of the loss's parameter and how to print it. */
  param?: { key: string; format: (v: number) => string };
}

// Colours: matplotlib's tab10 blue/green/red/cyan, the reference's 'b', 'g', 'r', 'c' in a print-safe shade.
const KNOWN: Record<string, Known> = {
  cross_entropy: { short: "CE", color: "#1f77b4", marker: "circle" },
  label_smoothing: {
    short: "LS",
    color: "#2ca02c",
    marker: "square",
    dash: "7,3",
    param: { key: "smoothing", format: (v) => `α = ${v}` },
  },
  focal_loss: {
    short: "FL",
    color: "#d62728",
    marker: "triangle",
    dash: "2,2.5",
    param: { key: "gamma", format: (v) => `γ = ${v}` },
  },
  mean_square_error: {
    short: "MSE",
    color: "#17becf",
    marker: "diamond",
    dash: "9,3,2,3",
    param: { key: "rescale", format: (v) => `scale ${v}` },
  },
};

/** Losses in the order figures list them. */
export const LOSS_ORDER: readonly string[] = Object.keys(KNOWN);

/**
 * The style of a run's loss, with its parameter in the label when `info.json` records it.
 *
 * @example
 * ```ts
 * lossStyle({ loss: "focal_loss", loss_params: { gamma: 3 } }).label; // "FL (γ = 3)"
 * ```
 */
export function lossStyle(run: Pick<RunSummary, "loss" | "loss_params">): LossStyle {
  const known = KNOWN[run.loss];
  if (!known) {
    // An unknown loss still gets a line: grey, labelled by its raw name.
    return { short: run.loss, label: run.loss, color: "#7f7f7f", marker: "star", dash: "4,4", order: 99 };
  }
  let label = known.short;
  const value = known.param ? run.loss_params?.[known.param.key] : undefined;
  if (known.param && typeof value === "number") label += ` (${known.param.format(value)})`;
  return {
    short: known.short,
    label,
    color: known.color,
    marker: known.marker,
    dash: known.dash,
    order: LOSS_ORDER.indexOf(run.loss),
  };
}
