/**
 * Where faster float64 kernels can be registered for the metrics' dense
 * linear algebra: on the ground floor, so that `src/backend` (which provides
 * TensorFlow's double-precision kernels when the native backend loads) and
 * `src/metrics` (which uses them on large operands, `metrics/_gemm.ts`) need
 * not import each other. Process-wide, like the tfjs backend.
 *
 * @module
 */

/** Float64 kernels with the contracts of the metrics' JavaScript ones. */
export interface Float64Kernels {
  /** C[n, m] = A[n, d] · B[m, d]ᵀ, all row-major, overwriting `c`. */
  gemmNT(a: Float64Array, b: Float64Array, c: Float64Array, n: number, m: number, d: number): void;
  /**
   * Eigendecomposition of a symmetric A [n, n] (row-major; the lower triangle is read): eigenvalues ascending and
   * [n, n] row-major eigenvectors, column j (entries `vectors[i * n + j]`) the unit eigenvector of value j.
   */
  symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array };
}

let registered: Float64Kernels | null = null;

/** Registers kernels for the metrics to use on large operands (null: JavaScript only). */
export function setFloat64Kernels(k: Float64Kernels | null): void {
  registered = k;
}

/** The registered kernels, or null. */
export function float64Kernels(): Float64Kernels | null {
  return registered;
}
