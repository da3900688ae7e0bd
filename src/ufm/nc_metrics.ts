/**
 * NC1–NC3 of a UFM point in float64, with the definitions of the reference's
 * `evaluate.py` (see `shared/reference/seed-spec.md`). A small self-contained
 * version for the UFM: the package's `src/metrics` measures networks and may
 * replace it.
 */
import { symmetricEigen } from "./_eigen.ts";

/** The three Neural-Collapse measures of one point. */
export interface NcMetrics {
  /** tr(Σ_W Σ_B^†)/K: within-class variability relative to between-class. */
  nc1: number;
  /** ‖W̃W̃ᵀ/‖W̃W̃ᵀ‖_F − (I − 11ᵀ/K)/√(K−1)‖_F: distance of the classifier from a simplex ETF. */
  nc2: number;
  /** ‖W̃M/‖W̃M‖_F − (I − 11ᵀ/K)/√(K−1)‖_F, M the centred class means: self-duality. */
  nc3: number;
}

/**
 * ‖A/‖A‖_F − (I − 11ᵀ/K)/√(K−1)‖_F for a `[K, K]` matrix A, the common form
 * of NC2 and NC3 (the scaled centring matrix is the Gram matrix of a simplex
 * ETF with unit Frobenius norm).
 */
export function etfDistance(A: Float64Array, K: number): number {
  let norm = 0;
  for (let t = 0; t < K * K; t++) norm += A[t] * A[t];
  norm = Math.sqrt(norm);
  const c = 1 / Math.sqrt(K - 1);
  let s = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const target = c * ((i === j ? 1 : 0) - 1 / K);
      const diff = A[i * K + j] / norm - target;
      s += diff * diff;
    }
  }
  return Math.sqrt(s);
}

/**
 * NC1, NC2, NC3 of features `H` `[N, d]` (row i = h_i) with `labels` `[N]`
 * and classifier `W` `[K, d]`.
 *
 * NC1 uses Σ_B = (1/K) M Mᵀ with M = [μ_1 − μ_G … μ_K − μ_G] (`[d, K]`):
 * its nonzero eigenpairs come from the K×K Gram matrix MᵀM/K = VΛVᵀ as
 * u_j = M v_j / √(Kλ_j), so tr(Σ_W Σ_B^†) = Σ_j u_jᵀΣ_W u_j / λ_j without a
 * d×d decomposition. Eigenvalues below 1e-12·λ_max count as zero (M has rank
 * at most K − 1 because its columns sum to zero).
 *
 * @example
 * ```ts
 * const { nc1, nc2, nc3 } = ncMetrics(W, H, labels, K, d);
 * ```
 */
export function ncMetrics(W: Float64Array, H: Float64Array, labels: Int32Array, K: number, d: number): NcMetrics {
  const N = labels.length;
  const mu = new Float64Array(K * d);
  const count = new Float64Array(K);
  const muG = new Float64Array(d);
  for (let i = 0; i < N; i++) {
    const k = labels[i];
    count[k]++;
    for (let j = 0; j < d; j++) {
      mu[k * d + j] += H[i * d + j];
      muG[j] += H[i * d + j];
    }
  }
  for (let j = 0; j < d; j++) muG[j] /= N;
  // M stored as [K, d]: row k = μ_k − μ_G.
  const M = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < d; j++) M[k * d + j] = mu[k * d + j] / count[k] - muG[j];
  }

  // NC1
  const gram = new Float64Array(K * K);
  for (let a = 0; a < K; a++) {
    for (let b = a; b < K; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += M[a * d + j] * M[b * d + j];
      gram[a * K + b] = gram[b * K + a] = s / K;
    }
  }
  const { values, vectors } = symmetricEigen(gram, K);
  let lmax = 0;
  for (const v of values) lmax = Math.max(lmax, v);
  const u = new Float64Array(d);
  let trace = 0;
  for (let e = 0; e < K; e++) {
    const lam = values[e];
    if (!(lam > 1e-12 * lmax)) continue;
    u.fill(0);
    const scale = 1 / Math.sqrt(K * lam);
    for (let k = 0; k < K; k++) {
      const v = vectors[k * K + e] * scale;
      for (let j = 0; j < d; j++) u[j] += v * M[k * d + j];
    }
    // u ᵀ Σ_W u = (1/N) Σ_i (u · (h_i − μ_{y_i}))²
    let q = 0;
    for (let i = 0; i < N; i++) {
      const k = labels[i];
      let s = 0;
      for (let j = 0; j < d; j++) s += u[j] * (H[i * d + j] - mu[k * d + j] / count[k]);
      q += s * s;
    }
    trace += q / N / lam;
  }
  const nc1 = trace / K;

  // W̃ = W minus its mean row.
  const Wc = new Float64Array(K * d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let k = 0; k < K; k++) m += W[k * d + j];
    m /= K;
    for (let k = 0; k < K; k++) Wc[k * d + j] = W[k * d + j] - m;
  }
  const A = new Float64Array(K * K);
  const B = new Float64Array(K * K);
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) {
      let sw = 0, sm = 0;
      for (let j = 0; j < d; j++) {
        sw += Wc[a * d + j] * Wc[b * d + j];
        sm += Wc[a * d + j] * M[b * d + j];
      }
      A[a * K + b] = sw;
      B[a * K + b] = sm;
    }
  }
  return { nc1, nc2: etfDistance(A, K), nc3: etfDistance(B, K) };
}
