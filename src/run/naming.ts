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
  const text = plainDecimal(width);
  return width < 1 ? text.replace(".", "") : text.replace(".", "p");
}

/**
 * The shortest decimal that reads back as `x` (JavaScript's own `String(x)`),
 * written out without exponent notation, digit for digit: 1e-7 →
 * `0.0000001`, 1.2345678901234567e-15 → `0.0000000000000012345678901234567`.
 * Distinct numbers give distinct text, however small (`toFixed` keeps 20
 * decimals, so 1e-21 and 2e-21 would both read `0`).
 */
function plainDecimal(x: number): string {
  const text = String(x);
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (m === null) return text;
  const digits = m[1] + (m[2] ?? "");
  const point = 1 + Number(m[3]); // where the decimal point falls in `digits`
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  return point >= digits.length
    ? digits + "0".repeat(point - digits.length)
    : `${digits.slice(0, point)}.${digits.slice(point)}`;
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
