/**
 * The unconstrained feature model's objective (Zhou et al. 2022, eq. (4);
 * Zhu et al. 2021): balanced classes, n samples per class, N = Kn,
 *
 *   f(W, H, b) = (1/N) Σ_i L(W h_i + b, y_i) + λ_W/2 ‖W‖²_F + λ_H/2 ‖H‖²_F + λ_b/2 ‖b‖²,
 *
 * with W `[K, d]`, H = [h_1 … h_N] (stored here as `[N, d]`, one feature per
 * row) and b `[K]`. Everything is float64 in one flat vector so that a generic
 * optimiser (L-BFGS) can work on it.
 */
import type { UfmLoss } from "./losses.ts";

/** One instance of the UFM. */
export interface UfmProblem {
  /** Number of classes K ≥ 2. */
  K: number;
  /** Feature dimension d ≥ K − 1. */
  d: number;
  /** Samples per class n ≥ 1. */
  n: number;
  /** N = K·n. */
  N: number;
  /** Class of sample i, `[N]`: sample i belongs to class ⌊i / n⌋. */
  labels: Int32Array;
  lambdaW: number;
  lambdaH: number;
  lambdaB: number;
  loss: UfmLoss;
}

/** Where W, H and b sit in the flat parameter vector `[K·d + N·d + K]`. */
export interface UfmLayout {
  /** W `[K, d]` row-major starts here. */
  w: number;
  /** H `[N, d]` row-major (row i = h_i) starts here. */
  h: number;
  /** b `[K]` starts here. */
  b: number;
  /** Total length. */
  size: number;
}

/**
 * A UFM instance with balanced labels (class of sample i = ⌊i / n⌋).
 *
 * @example
 * ```ts
 * const p = ufmProblem(10, 32, 50, 5e-4, 5e-4, 5e-4, ufmLoss("cross_entropy"));
 * ```
 */
export function ufmProblem(
  K: number,
  d: number,
  n: number,
  lambdaW: number,
  lambdaH: number,
  lambdaB: number,
  loss: UfmLoss,
): UfmProblem {
  const N = K * n;
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) labels[i] = Math.floor(i / n);
  return { K, d, n, N, labels, lambdaW, lambdaH, lambdaB, loss };
}

/** Offsets of W, H, b in the flat vector of `problem`. */
export function ufmLayout(problem: UfmProblem): UfmLayout {
  const { K, d, N } = problem;
  return { w: 0, h: K * d, b: K * d + N * d, size: K * d + N * d + K };
}

/**
 * Evaluates f at the flat vector `x` and, when `grad` is given, writes ∇f
 * into it:
 *
 *   G = (1/N) ∂L/∂Z (`[N, K]`),  ∇_W = Gᵀ H + λ_W W,  ∇_H = G W + λ_H H,  ∇_b = Gᵀ1 + λ_b b.
 *
 * `scratch` (length 2·N·K) holds the logits and their gradient; pass one to
 * avoid allocating on every call.
 *
 * @example
 * ```ts
 * const g = new Float64Array(ufmLayout(p).size);
 * const f = ufmObjective(p, x, g);
 * ```
 */
export function ufmObjective(
  problem: UfmProblem,
  x: Float64Array,
  grad: Float64Array | null,
  scratch: Float64Array = new Float64Array(2 * problem.N * problem.K),
): number {
  const { K, d, N, labels, lambdaW, lambdaH, lambdaB, loss } = problem;
  const L = ufmLayout(problem);
  const Z = scratch.subarray(0, N * K);
  const G = scratch.subarray(N * K, 2 * N * K);
  // Z = H Wᵀ + 1 bᵀ, one row per sample.
  for (let i = 0; i < N; i++) {
    const hi = L.h + i * d;
    for (let k = 0; k < K; k++) {
      const wk = L.w + k * d;
      let s = x[L.b + k];
      for (let j = 0; j < d; j++) s += x[wk + j] * x[hi + j];
      Z[i * K + k] = s;
    }
  }
  let data = 0;
  for (let i = 0; i < N; i++) data += loss.sample(Z, i * K, K, labels[i], grad ? G : null);
  data /= N;
  let w2 = 0, h2 = 0, b2 = 0;
  for (let t = L.w; t < L.h; t++) w2 += x[t] * x[t];
  for (let t = L.h; t < L.b; t++) h2 += x[t] * x[t];
  for (let t = L.b; t < L.size; t++) b2 += x[t] * x[t];
  const f = data + 0.5 * (lambdaW * w2 + lambdaH * h2 + lambdaB * b2);
  if (!grad) return f;

  const invN = 1 / N;
  for (let t = 0; t < L.size; t++) grad[t] = 0;
  for (let i = 0; i < N; i++) {
    const hi = L.h + i * d;
    for (let k = 0; k < K; k++) {
      const g = G[i * K + k] * invN;
      if (g === 0) continue;
      const wk = L.w + k * d;
      for (let j = 0; j < d; j++) {
        grad[wk + j] += g * x[hi + j];
        grad[hi + j] += g * x[wk + j];
      }
      grad[L.b + k] += g;
    }
  }
  for (let t = L.w; t < L.h; t++) grad[t] += lambdaW * x[t];
  for (let t = L.h; t < L.b; t++) grad[t] += lambdaH * x[t];
  for (let t = L.b; t < L.size; t++) grad[t] += lambdaB * x[t];
  return f;
}
