/**
 * Run folder names, in the reference's style `<model>-<width>-<loss>-<epochs>-<seed>`
 * (e.g. `wideres50-05-fl-200-321`), made injective: two different grid points
 * never share a folder.
 *
 * @module
 */
import { LOSS_ABBREVIATIONS, type LossName } from "../losses/names.ts";
import type { RunSummary } from "./info.ts";

const MODEL_ABBREV: Record<string, string> = { wide_resnet50: "wideres50" };

/**
 * A width as it appears in a run name. Below 1 it keeps the reference's
 * spelling, the decimal point dropped (0.25 → `025`, 0.5 → `05`): those all
 * start with `0`. From 1 on, a fractional width writes its point as `p`
 * (1.5 → `1p5`, 12.5 → `12p5`), so it can no longer meet an integer width
 * (15 → `15`), which the reference's spelling allowed.
 *
 * @example
 * ```ts
 * widthToken(0.5); // "05"
 * widthToken(1.5); // "1p5"
 * widthToken(15); // "15"
 * ```
 */
export function widthToken(width: number): string {
  if (!Number.isFinite(width) || width <= 0) throw new RangeError(`width ${width} has no run name`);
  // Shortest round-trip decimal, never exponent notation (1e-7 → "0.0000001").
  let text = String(width);
  if (/e/i.test(text)) text = width.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
  return width < 1 ? text.replace(".", "") : text.replace(".", "p");
}

/**
 * The name of a run: model, width ({@linkcode widthToken}), loss
 * abbreviation, epochs, seed.
 *
 * @example
 * ```ts
 * runName({ model: "wide_resnet50", width: 0.5, loss: "focal_loss", epochs: 200, seed: 321, dataset: "cifar100" });
 * // "wideres50-05-fl-200-321"
 * ```
 */
export function runName(run: Pick<RunSummary, "model" | "width" | "loss" | "epochs" | "seed">): string {
  const model = MODEL_ABBREV[run.model] ?? run.model;
  const loss = LOSS_ABBREVIATIONS[run.loss as LossName] ?? run.loss;
  return `${model}-${widthToken(run.width)}-${loss}-${run.epochs}-${run.seed}`;
}
