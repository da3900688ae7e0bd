/** Dense matrix products for the tests, as plain triple loops: the obvious reference the fast code is checked against. */

/**
 * A `[n, d]` · B `[m, d]`ᵀ → `[n, m]`, all row-major (entry (i, k) is the dot product of row i of A and row k of B).
 *
 * @example
 * ```ts
 * productNT([1, 2], [3, 4], 1, 1, 2); // Float64Array [11]
 * ```
 */
export function productNT(a: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number, d: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[i * d + j] * b[k * d + j];
      c[i * m + k] = s;
    }
  }
  return c;
}
