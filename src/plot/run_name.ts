/**
 * The reference's run-folder naming, `<model>-<width>-<loss>-<epochs>-<seed>`
 * (e.g. `wideres50-05-fl-200-321`), used to label runs in tables and on the console.
 *
 * @module
 */
import { lossStyle } from "./loss_style.ts";
import type { RunConfig } from "./types.ts";

const MODEL_ABBREV: Record<string, string> = { wide_resnet50: "wideres50" };

/**
 * The reference-style name of a run configuration: the width loses its
 * decimal point (0.25 → `025`, 0.5 → `05`), the loss is abbreviated.
 *
 * @example
 * ```ts
 * runName({ model: "wide_resnet50", width: 0.5, loss: "focal_loss", epochs: 200, seed: 321, dataset: "cifar100" });
 * // "wideres50-05-fl-200-321"
 * ```
 */
export function runName(run: RunConfig): string {
  const model = MODEL_ABBREV[run.model] ?? run.model;
  const width = String(run.width).replace(".", "");
  return `${model}-${width}-${lossStyle(run).short.toLowerCase()}-${run.epochs}-${run.seed}`;
}
