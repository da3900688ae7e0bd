/**
 * Distance of a K × K matrix from the simplex equiangular tight frame, the
 * yardstick of NC2 and NC3 (reference `evaluate.py`, `compute_ETF` and
 * `compute_W_H_relation`).
 *
 * @module
 */

/**
 * ‖A/‖A‖_F − (I_K − 11ᵀ/K)/√(K−1)‖_F for A [K, K] row-major.
 *
 * The target (I_K − 11ᵀ/K)/√(K−1) has Frobenius norm 1, so the distance lies
 * in [0, 2]. A zero matrix has no direction; we define its normalisation as
 * the zero matrix, so the distance is then exactly 1 (the reference would
 * divide by zero and report NaN).
 *
 * @example
 * ```ts
 * // K = 2: the simplex ETF Gram is [[1, −1], [−1, 1]] up to scale.
 * simplexEtfDistance(new Float64Array([3, -3, -3, 3]), 2); // 0
 * ```
 */
export function simplexEtfDistance(a: ArrayLike<number>, k: number): number {
  if (!Number.isInteger(k) || k < 2 || a.length !== k * k) {
    throw new RangeError(`simplexEtfDistance: expected a K × K matrix with K ≥ 2, got ${a.length} entries, K = ${k}`);
  }
  let norm2 = 0;
  for (let i = 0; i < k * k; i++) norm2 += a[i] * a[i];
  const scale = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
  const c = 1 / Math.sqrt(k - 1);
  let dist2 = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const target = ((i === j ? 1 : 0) - 1 / k) * c;
      const diff = a[i * k + j] * scale - target;
      dist2 += diff * diff;
    }
  }
  return Math.sqrt(dist2);
}
