/**
 * The dense float64 linear algebra of the metrics: products C = A Bᵀ and
 * symmetric eigendecompositions, in JavaScript or, for large operands, on
 * kernels registered with `setFloat64Kernels` (`src/float64_kernels.ts`; TensorFlow's
 * double-precision ones when the native backend is loaded; see
 * `src/backend/graph/native_float64_kernels.ts`).
 *
 * The JavaScript product:
 * C = A Bᵀ with both operands row-major, so every entry is a dot product of
 * two contiguous rows. Register blocking (2 rows of A × 4 rows of B, eight
 * running sums) lets V8 keep the operands in registers and reuse each load
 * four or two times; on a 2-core EPYC it reaches about 2.4 × 10⁹
 * multiply-adds per second, three to four times a plain triple loop.
 *
 * @module
 */
import { checkSymmetricInput, type SymmetricEigen, symmetricEigen } from "./symmetric_eigen.ts";
import { float64Kernels } from "../float64_kernels.ts";

/** Whether float64 kernels are registered (`setFloat64Kernels`). */
export function hasFloat64Kernels(): boolean {
  return float64Kernels() !== null;
}

/** Products of at least this many multiply-adds go to the registered kernels (a few ms in JavaScript). */
const NATIVE_GEMM_WORK = 1 << 22;
/** Eigendecompositions of at least this order go to the registered kernels. */
const NATIVE_EIGEN_ORDER = 128;

/** C[n, m] = A[n, d] · B[m, d]ᵀ (row-major, overwriting `c`): {@linkcode gemmNT}, or the registered kernel when large. */
export function gemm(a: Float64Array, b: Float64Array, c: Float64Array, n: number, m: number, d: number): void {
  const registered = float64Kernels();
  if (registered !== null && n * m * d >= NATIVE_GEMM_WORK) registered.gemmNT(a, b, c, n, m, d);
  else gemmNT(a, b, c, n, m, d);
}

/** `symmetricEigen(a, n)`, or the registered kernel for n ≥ 128 (the same checks first). */
export function eigen(a: Float64Array, n: number): SymmetricEigen {
  const registered = float64Kernels();
  if (registered === null || n < NATIVE_EIGEN_ORDER) return symmetricEigen(a, n);
  checkSymmetricInput(a, n);
  return registered.symmetricEigen(a, n);
}

/**
 * C[n, m] = A[n, d] · B[m, d]ᵀ, overwriting `c`. All arrays row-major.
 *
 * @example
 * ```ts
 * const c = new Float64Array(1);
 * gemmNT(new Float64Array([1, 2]), new Float64Array([3, 4]), c, 1, 1, 2); // c[0] = 11
 * ```
 */
export function gemmNT(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  d: number,
): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a0 = i * d;
    const a1 = a0 + d;
    const c0 = i * m;
    const c1 = c0 + m;
    let k = 0;
    for (; k + 3 < m; k += 4) {
      const b0 = k * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let j = 0; j < d; j++) {
        const x0 = a[a0 + j];
        const x1 = a[a1 + j];
        const y0 = b[b0 + j];
        const y1 = b[b1 + j];
        const y2 = b[b2 + j];
        const y3 = b[b3 + j];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      c[c0 + k] = s00;
      c[c0 + k + 1] = s01;
      c[c0 + k + 2] = s02;
      c[c0 + k + 3] = s03;
      c[c1 + k] = s10;
      c[c1 + k + 1] = s11;
      c[c1 + k + 2] = s12;
      c[c1 + k + 3] = s13;
    }
    for (; k < m; k++) {
      c[c0 + k] = dot(a, a0, b, k * d, d);
      c[c1 + k] = dot(a, a1, b, k * d, d);
    }
  }
  for (; i < n; i++) {
    for (let k = 0; k < m; k++) c[i * m + k] = dot(a, i * d, b, k * d, d);
  }
}

/** Σ_j x[xo + j] · y[yo + j] for j < d, in float64. */
export function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, d: number): number {
  let s0 = 0, s1 = 0;
  let j = 0;
  for (; j + 1 < d; j += 2) {
    s0 += x[xo + j] * y[yo + j];
    s1 += x[xo + j + 1] * y[yo + j + 1];
  }
  if (j < d) s0 += x[xo + j] * y[yo + j];
  return s0 + s1;
}

/**
 * Bytes the measurement of K classes in dimension d holds at its peak,
 * roughly: a dozen K × K float64 matrices (pass 2's scatter, the mean logits
 * and distances, the Gram, its eigenvectors and the products that use them,
 * the copies the registered kernels make) and a few K × d ones (means, W,
 * the centred stack, the class sums of pass 1 and its worker's). Batches of
 * features come on top. For a one-line
 * refusal before anything is read: at K = 30 000 a measurement needs about
 * 90 GB, and without the check it ran for a minute before the kernel killed
 * it at 24 GB.
 */
export function measurementBytes(numClasses: number, dim: number): number {
  return 12 * 8 * numClasses * numClasses + 7 * 8 * numClasses * dim;
}
