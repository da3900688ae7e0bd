/**
 * Top-k accuracy from logits, with one tie rule shared by every metric:
 * classes are ranked by logit, descending, ties broken towards the lower class
 * index (so top-1 is NumPy's `argmax`, which returns the first maximum).
 *
 * @module
 */
import { UserError } from "../errors.ts";

/**
 * Rank of class `y` among the K logits `z[offset … offset+K)`: the number of
 * classes ahead of it, #{k : z_k > z_y} + #{k < y : z_k = z_y}. Rank 0 means
 * the prediction argmax_k z_k is y; the sample counts towards top-t accuracy
 * when its rank is below t.
 *
 * @example
 * ```ts
 * trueClassRank(new Float64Array([0.1, 0.7, 0.2]), 0, 3, 2); // 1
 * ```
 */
export function trueClassRank(z: ArrayLike<number>, offset: number, numClasses: number, y: number): number {
  const zy = z[offset + y];
  let rank = 0;
  for (let k = 0; k < numClasses; k++) {
    const zk = z[offset + k];
    if (zk > zy || (zk === zy && k < y)) rank++;
  }
  return rank;
}

/**
 * Top-k accuracy in percent (0–100) of logits [N, K] (row-major) against
 * labels [N]. With K ≤ k every sample counts as correct, so the result is 100
 * (top-5 on a problem with fewer than 5 classes).
 *
 * @example
 * ```ts
 * topKAccuracy(new Float64Array([0.9, 0.1, 0.2, 0.8]), [0, 0], 2, 1); // 50
 * ```
 */
export function topKAccuracy(
  logits: Float32Array | Float64Array,
  labels: ArrayLike<number>,
  numClasses: number,
  k: number,
): number {
  const n = labels.length;
  if (n === 0) throw new UserError("topKAccuracy: no samples");
  if (logits.length !== n * numClasses) {
    throw new UserError(`topKAccuracy: logits have ${logits.length} entries, expected N × K = ${n} × ${numClasses}`);
  }
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new UserError(`topKAccuracy: label ${y} at index ${i} is not a class in [0, ${numClasses})`);
    }
    if (trueClassRank(logits, i * numClasses, numClasses, y) < k) correct++;
  }
  return (100 * correct) / n;
}
