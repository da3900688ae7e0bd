/**
 * Learning-rate schedules, stepped once per epoch as in the reference.
 */

/** Schedule names accepted by `--lr_scheduler`. */
export const SCHEDULER_NAMES = ["step", "cos"] as const;

/**
 * The learning rate for 0-based `epoch` of `epochs`.
 *
 * - `step`: ×0.1 at epoch ⌊3E/7⌋ and again at ⌊5E/7⌋ (PyTorch `MultiStepLR`);
 * - `cos`: lr·(1 + cos(π·e/(E+1)))/2, cosine annealing over E + 1 epochs
 *   (PyTorch `CosineAnnealingLR(T_max = E + 1)`), so the last epoch keeps a small
 *   positive rate.
 *
 * @example
 * ```ts
 * learningRate("step", 0.1, 300, 700); // 0.01
 * ```
 */
export function learningRate(kind: "step" | "cos", baseLr: number, epoch: number, epochs: number): number {
  if (kind === "cos") return baseLr * (1 + Math.cos(Math.PI * epoch / (epochs + 1))) / 2;
  const milestones = [Math.floor(3 * epochs / 7), Math.floor(5 * epochs / 7)];
  const passed = milestones.filter((m) => epoch >= m).length;
  return baseLr * 0.1 ** passed;
}
