/**
 * Power-of-two rescaling of inputs before any product, so that the squares
 * and products of the metrics (Σ_W, Σ_B, Gram matrices, their eigenvalues
 * squared) neither overflow nor underflow in float64 — nor in the float32
 * projection — whatever the scale of the data. Multiplying by 2^s is exact in
 * floating point (while results stay normal) and commutes with every rounding,
 * so scale-invariant metrics come out bit for bit as for the unscaled data;
 * inputs whose largest |value| already lies in [2^-16, 2^16] are not scaled at
 * all (shift 0).
 *
 * @module
 */

/** Largest |value| used as it is; beyond it (or below its reciprocal) inputs are scaled. */
const UNSCALED_LIMIT = 2 ** 16;

/**
 * The exponent s such that max|x| · 2^s lies in [1, 2) — or 0 when max|x|
 * is 0 or already within [2^-16, 2^16]. Clamped to [−1022, 1022] so that
 * 2^s is a normal float64.
 */
export function scaleShift(maxAbs: number): number {
  if (maxAbs === 0 || (maxAbs >= 1 / UNSCALED_LIMIT && maxAbs <= UNSCALED_LIMIT)) return 0;
  let e = Math.floor(Math.log2(maxAbs));
  // log2 may round across a power of two; fix e so that 2^e ≤ maxAbs < 2^(e+1) where representable.
  if (e < 1023 && 2 ** (e + 1) <= maxAbs) e++;
  if (e > -1074 && 2 ** e > maxAbs) e--;
  return Math.max(-1022, Math.min(1022, -e));
}

/** x · 2^s for any integer s in [−2044, 2044], in two exact steps where 2^s alone is not a normal float64. */
export function timesPowerOfTwo(x: number, s: number): number {
  if (s === 0) return x;
  const half = Math.trunc(s / 2);
  return x * 2 ** half * 2 ** (s - half);
}

/** Multiplies every entry of `a` by 2^s in place (see {@linkcode timesPowerOfTwo}). */
export function scaleInPlace(a: Float64Array, s: number): void {
  if (s === 0) return;
  const half = Math.trunc(s / 2);
  const f1 = 2 ** half;
  const f2 = 2 ** (s - half);
  for (let i = 0; i < a.length; i++) a[i] = a[i] * f1 * f2;
}

/** Largest |x_i| of an array, NaN when it holds a NaN (±Infinity gives Infinity). */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (!(a <= m)) m = a;
  }
  return m;
}
