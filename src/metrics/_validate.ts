/**
 * Input checks shared by the two passes of the neural-collapse measurement.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { InputNames } from "./types.ts";

/** Features of one batch: [n, d] row-major. */
export type FeatureArray = Float32Array | Float64Array;

/**
 * Throws a UserError naming the first non-finite entry of `x`: by row and
 * column when `width` is the row length of a matrix, by index when null.
 */
export function assertFinite(x: ArrayLike<number>, name: string, width: number | null, firstRow: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const where = width === null ? `index ${i}` : `row ${firstRow + Math.floor(i / width)}, column ${i % width}`;
      throw new UserError(`${name}: non-finite value ${x[i]} at ${where}`);
    }
  }
}

/** Validates one batch of K classes in dimension d; returns its row count n. `seen` numbers rows in messages. */
export function checkBatch(
  features: FeatureArray,
  labels: ArrayLike<number>,
  seen: number,
  numClasses: number,
  dim: number,
  names: InputNames,
): number {
  const n = labels.length;
  if (features.length !== n * dim) {
    throw new UserError(`${names.features}: batch has ${features.length} values, expected ${n} labels × d = ${dim}`);
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new UserError(`${names.labels}: label ${y} at index ${seen + i} is not a class in [0, ${numClasses})`);
    }
  }
  return n;
}
