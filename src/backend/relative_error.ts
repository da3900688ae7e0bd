/**
 * How far one backend's output is from the reference backend's, for the checks that the native backend
 * computes what `cpu` does (`deno task setup` and `tests/backend_agreement_test.ts`).
 */

/**
 * max |a − b| / max |b| over the entries of `a` and `b` (same length): relative to the reference's scale, so
 * entries near zero do not dominate; the plain max |a − b| when `b` is all zeros.
 *
 * @example
 * ```ts
 * relativeError(new Float32Array([2, 0.5]), new Float32Array([2, 0.25])); // 0.25 / 2
 * ```
 */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
