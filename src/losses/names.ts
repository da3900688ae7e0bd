/**
 * The loss names and their abbreviations, without TensorFlow.js, so that
 * code that only needs names (the UFM, sweeps) does not load it.
 *
 * @module
 */

/** Loss names accepted by `--loss`, as in the reference. */
export const LOSS_NAMES = ["cross_entropy", "mean_square_error", "focal_loss", "label_smoothing"] as const;
/** One of {@linkcode LOSS_NAMES}. */
export type LossName = typeof LOSS_NAMES[number];

/** Short names used in run folders (`wideres50-2-ce-800-1`). */
export const LOSS_ABBREVIATIONS: Record<LossName, string> = {
  cross_entropy: "ce",
  mean_square_error: "mse",
  focal_loss: "fl",
  label_smoothing: "ls",
};

/** The full loss name for an abbreviation of {@linkcode LOSS_ABBREVIATIONS} (`fl` → `focal_loss`), else `name` unchanged. */
export function expandLossAbbreviation(name: string): string {
  return LOSS_NAMES.find((l) => LOSS_ABBREVIATIONS[l] === name.toLowerCase()) ?? name;
}
