/**
 * The loss table: every fact about the paper's four losses that is not a
 * formula, in one place and without TensorFlow.js, so that code that only
 * needs names (the UFM, sweeps, figures, run folders) does not load it.
 * Order, abbreviations, parameters and their reference defaults, legend
 * labels: everything else reads them from here.
 *
 * @example
 * ```ts
 * LOSSES.map((l) => l.short); // ["ce", "ls", "fl", "mse"]
 * lossLabel("focal_loss", { gamma: 2 }); // "FL (γ = 2)"
 * ```
 *
 * @module
 */

/** The parameter of a loss: its name (the flag and `loss_params` key), symbol and the reference's default. */
export interface LossParameter {
  key: "smoothing" | "gamma" | "rescale";
  /** As legends write it: `α`, `γ`, `scale`. */
  symbol: string;
  /** The reference's default (seed-spec.md). */
  default: number;
}

/** One row of the loss table. */
export interface LossInfo {
  /** As `--loss` and `config.json` spell it (the reference's names). */
  name: "cross_entropy" | "label_smoothing" | "focal_loss" | "mean_square_error";
  /** In run folder names (`wideres50-2-fl-800-1`) and sweep flags. */
  short: string;
  /** In legends, titles and tables. */
  label: string;
  parameter: LossParameter | null;
}

/** The losses in the order every list, figure and table shows them: CE, LS, FL, MSE. */
export const LOSSES = [
  { name: "cross_entropy", short: "ce", label: "CE", parameter: null },
  { name: "label_smoothing", short: "ls", label: "LS", parameter: { key: "smoothing", symbol: "α", default: 0.05 } },
  { name: "focal_loss", short: "fl", label: "FL", parameter: { key: "gamma", symbol: "γ", default: 3 } },
  {
    name: "mean_square_error",
    short: "mse",
    label: "MSE",
    parameter: { key: "rescale", symbol: "scale", default: 15 },
  },
] as const satisfies readonly LossInfo[];

/** Loss names accepted by `--loss`, in table order. */
export const LOSS_NAMES: readonly LossName[] = LOSSES.map((l) => l.name);
/** One of {@linkcode LOSS_NAMES}. */
export type LossName = LossInfo["name"];

/** The loss parameters, each with the reference's default: `{ smoothing: 0.05, gamma: 3, rescale: 15 }`. */
export const DEFAULT_LOSS_PARAMS: Readonly<Record<LossParameter["key"], number>> = Object.freeze(
  Object.fromEntries(LOSSES.flatMap((l) => l.parameter ? [[l.parameter.key, l.parameter.default]] : [])) as Record<
    LossParameter["key"],
    number
  >,
);

/** The table row of `name`, or `undefined` for a name that is not a loss. */
export function lossInfo(name: string): LossInfo | undefined {
  return LOSSES.find((l) => l.name === name);
}

/** Short names used in run folders (`wideres50-2-ce-800-1`). */
export const LOSS_ABBREVIATIONS: Record<LossName, string> = Object.fromEntries(
  LOSSES.map((l) => [l.name, l.short]),
) as Record<LossName, string>;

/** The full loss name for an abbreviation of {@linkcode LOSS_ABBREVIATIONS} (`fl` → `focal_loss`), else `name` unchanged. */
export function expandLossAbbreviation(name: string): string {
  return LOSSES.find((l) => l.short === name.toLowerCase())?.name ?? name;
}

/**
 * The legend label of a loss with its parameter when known: `CE`, `LS (α = 0.05)`,
 * `FL (γ = 3)`, `MSE (scale 15)`; an unknown name is its own label.
 */
export function lossLabel(name: string, params: Partial<Record<string, number>> = {}): string {
  const info = lossInfo(name);
  if (!info) return name;
  const value = info.parameter ? params[info.parameter.key] : undefined;
  if (!info.parameter || typeof value !== "number") return info.label;
  const { symbol } = info.parameter;
  return `${info.label} (${symbol === "scale" ? `scale ${value}` : `${symbol} = ${value}`})`;
}
