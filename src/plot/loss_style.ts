/**
 * How each loss looks in every figure: the reference's colours (CE blue,
 * LS green, FL red, MSE cyan), plus a marker and a dash pattern per loss so
 * that readers who cannot tell the colours apart can still tell the lines apart.
 *
 * @module
 */
import { LOSS_NAMES, lossInfo, lossLabel, type LossName } from "../losses/names.ts";
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

interface Look {
  color: string;
  marker: MarkerName;
  dash?: string;
}

// Colours: matplotlib's tab10 blue/green/red/cyan, the reference's 'b', 'g', 'r', 'c' in a print-safe shade.
// Names, labels, order and parameters come from the loss table (src/losses/names.ts); only the look is here.
const LOOK: Record<LossName, Look> = {
  cross_entropy: { color: "#1f77b4", marker: "circle" },
  label_smoothing: { color: "#2ca02c", marker: "square", dash: "7,3" },
  focal_loss: { color: "#d62728", marker: "triangle", dash: "2,2.5" },
  mean_square_error: { color: "#17becf", marker: "diamond", dash: "9,3,2,3" },
};

/** Losses in the order figures list them (the loss table's order). */
export const LOSS_ORDER: readonly string[] = LOSS_NAMES;

/**
 * The style of a run's loss, with its parameter in the label when `info.json` records it.
 *
 * @example
 * ```ts
 * lossStyle({ loss: "focal_loss", loss_params: { gamma: 3 } }).label; // "FL (γ = 3)"
 * ```
 */
export function lossStyle(run: Pick<RunSummary, "loss" | "loss_params">): LossStyle {
  const info = lossInfo(run.loss);
  if (!info) {
    // An unknown loss still gets a line: grey, labelled by its raw name.
    return { short: run.loss, label: run.loss, color: "#7f7f7f", marker: "star", dash: "4,4", order: 99 };
  }
  return {
    short: info.label,
    label: lossLabel(run.loss, run.loss_params ?? {}),
    ...LOOK[info.name],
    order: LOSS_ORDER.indexOf(run.loss),
  };
}
