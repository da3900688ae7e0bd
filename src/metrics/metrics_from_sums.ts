/**
 * The neural-collapse metrics as pure functions of pass 1's class means
 * ({@linkcode FrozenMeans}) and pass 2's sums ({@linkcode Pass2Sums}); see
 * `neural_collapse_accumulator.ts` for the formulas, the pseudo-inverse
 * tolerance, the scaling and the degenerate cases.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { dot, eigen, gemm } from "./_gemm.ts";
import { maxAbs, scaleInPlace, scaleShift, timesPowerOfTwo } from "./_scale.ts";
import type { FrozenMeans, OodSum } from "./class_means.ts";
import type { Pass2Sums } from "./pass2_accumulator.ts";
import { simplexEtfDistance } from "./simplex_etf_distance.ts";
import { DEFAULT_INPUT_NAMES, type InputNames, type MeasuredMetrics } from "./types.ts";

/**
 * Every metric (NC5 too when `ood` is given) from the means of pass 1 and the
 * sums of pass 2 over the same samples; throws when pass 2 did not see the
 * samples of pass 1.
 *
 * @example
 * ```ts
 * const means = pass1.freeze(); // pass1: ClassMeans after every batch
 * const pass2 = new Pass2Accumulator(means);
 * for (const [h, y] of batches()) pass2.add(h, y);
 * const { nc1, nc2, cdnv } = metricsFromSums(means, pass2.sums(), pass1.ood());
 * ```
 */
export function metricsFromSums(
  means: FrozenMeans,
  sums: Pass2Sums,
  ood: OodSum | null = null,
  names: InputNames = DEFAULT_INPUT_NAMES,
): MeasuredMetrics {
  const k = means.numClasses;
  for (let c = 0; c < k; c++) {
    if (sums.counts[c] !== means.counts[c]) {
      throw new Error(
        `pass 2 saw ${sums.counts[c]} samples of class ${c}, pass 1 saw ${means.counts[c]}; ` +
          "pass 2 must revisit exactly the samples of pass 1",
      );
    }
  }
  const n = means.n;
  // Gram MᵀM [K, K]: G_kl = (μ_k − μ_G)·(μ_l − μ_G).
  const mRows = means.stack.subarray(0, k * means.dim);
  const gram = new Float64Array(k * k);
  gemm(mRows, mRows, gram, k, k, means.dim);
  const { nc1, nc1Svd } = nc1FromScatter(gram, sums.scatter, k, means.dim, n);
  const wCentred = centredWeights(means.weights, k, means.dim);
  const meanNorms = new Float64Array(k);
  for (let c = 0; c < k; c++) meanNorms[c] = Math.sqrt(gram[c * k + c]);
  const angles = meanAngles(gram, meanNorms, k);
  const nc5 = ood === null ? undefined : nc5FromOod(means, ood, mRows, meanNorms);
  return {
    nc1,
    nc2: nc2(wCentred, k, means.dim),
    nc3: nc3(wCentred, mRows, k, means.dim),
    nc4_bias: nc4Bias(means, names),
    nc4_ncc: sums.nccMismatch / n,
    equinorm_means: coefficientOfVariation(meanNorms),
    equinorm_weights: coefficientOfVariation(weightNorms(means.weights, k, means.dim)),
    equiangularity: populationStd(angles.cosines),
    max_angle: angles.maxAngle,
    cdnv: cdnv(sums.sqDist, means.counts, means.meanDistances, k, names),
    top1: (100 * sums.top1) / n,
    top5: (100 * sums.top5) / n,
    nc1_trace: nc1Trace(gram, sums.sqDist, k, n),
    nc1_svd: nc1Svd,
    nc2_means: simplexEtfDistance(gram, k),
    self_duality: normalisedDifference(wCentred, mRows),
    uniformity_log: uniformity(angles.cosines, meanNorms, k),
    ...(nc5 === undefined ? {} : { nc5 }),
  };
}

/**
 * NC1 = tr(Σ_W Σ_B^†)/K = (1/N) Σ_{λ_j > τ} v_jᵀ S v_j / λ_j², and Han et al.'s
 * form over the top min(K − 1, d) eigenpairs of the Gram MᵀM; `scatter` is S's
 * upper triangle (not changed).
 */
export function nc1FromScatter(
  gram: Float64Array,
  scatter: Float64Array,
  k: number,
  d: number,
  n: number,
): { nc1: number; nc1Svd: number } {
  const s = scatter.slice();
  for (let a = 0; a < k; a++) for (let c = 0; c < a; c++) s[a * k + c] = s[c * k + a];
  const { values, vectors } = eigen(gram, k);
  const quadratic = quadraticForms(s, vectors, k);
  const lambdaMax = values[k - 1];
  const tau = 2 * Math.max(k, d) * Number.EPSILON * lambdaMax;
  // Han et al.'s form keeps the top min(K − 1, d) eigenpairs whatever their size (exact zeros excepted).
  const svdKeep = Math.min(k - 1, d);
  let nc1 = 0;
  let nc1Svd = 0;
  for (let j = 0; j < k; j++) {
    const lambda = values[j];
    const inPinv = lambda > tau;
    const inSvd = j >= k - svdKeep && lambda > 0;
    if (!inPinv && !inSvd) continue;
    const q = quadratic(j);
    if (inPinv) nc1 += q / (lambda * lambda);
    if (inSvd) nc1Svd += q / (lambda * lambda);
  }
  return { nc1: nc1 / n, nc1Svd: nc1Svd / n };
}

/**
 * j ↦ v_jᵀ S v_j for the columns v_j of `vectors` and a symmetric S [k, k].
 * From K = 128 on, T = Vᵀ S is one matrix product (rows of T and Vᵀ are
 * contiguous: at K = 1000 the column-wise loop took 1.8 s); below, the
 * column-wise loop, whose rounding the results of small K have always had.
 */
function quadraticForms(s: Float64Array, vectors: Float64Array, k: number): (j: number) => number {
  if (k < 128) {
    return (j) => {
      let q = 0;
      for (let a = 0; a < k; a++) {
        let t = 0;
        for (let c = 0; c < k; c++) t += s[a * k + c] * vectors[c * k + j];
        q += vectors[a * k + j] * t;
      }
      return q;
    };
  }
  const vt = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let j = 0; j < k; j++) vt[j * k + a] = vectors[a * k + j];
  const t = new Float64Array(k * k);
  gemm(vt, s, t, k, k, k);
  return (j) => dot(vt, j * k, t, j * k, k);
}

/** Tirer et al.'s trace quotient tr(Σ_W)/tr(Σ_B), tr(Σ_W) = (1/N) Σ_i ‖e_i‖², tr(Σ_B) = (1/K) Σ_k ‖μ_k − μ_G‖². */
export function nc1Trace(gram: Float64Array, sqDist: Float64Array, k: number, n: number): number {
  let traceW = 0;
  let traceB = 0;
  for (let c = 0; c < k; c++) {
    traceW += sqDist[c];
    traceB += gram[c * k + c];
  }
  traceW /= n;
  traceB /= k;
  return traceB > 0 ? traceW / traceB : 0;
}

/** W̃ = W − 1 w̄ᵀ, the classifier centred over classes. */
function centredWeights(w: Float64Array, k: number, d: number): Float64Array {
  const wMean = new Float64Array(d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) wMean[j] += w[c * d + j];
  for (let j = 0; j < d; j++) wMean[j] /= k;
  const wCentred = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) wCentred[c * d + j] = w[c * d + j] - wMean[j];
  return wCentred;
}

/** NC2: W̃W̃ᵀ against the simplex ETF. */
export function nc2(wCentred: Float64Array, k: number, d: number): number {
  const wwt = new Float64Array(k * k);
  gemm(wCentred, wCentred, wwt, k, k, d);
  return simplexEtfDistance(wwt, k);
}

/** NC3: W̃H against the simplex ETF, (W̃H)_kl = w̃_k·(μ_l − μ_G). */
export function nc3(wCentred: Float64Array, mRows: Float64Array, k: number, d: number): number {
  const wh = new Float64Array(k * k);
  gemm(wCentred, mRows, wh, k, k, d);
  return simplexEtfDistance(wh, k);
}

/**
 * Reference NC4: ‖W μ_G + b‖₂, computed as 2^(s_h + s_W) (W μ_G + b), scaled again by 2^t
 * (exact) so that its squares stay in range, and scaled back at the end.
 */
export function nc4Bias(means: FrozenMeans, names: InputNames = DEFAULT_INPUT_NAMES): number {
  const { numClasses: k, dim: d, weights: w } = means;
  const t4 = new Float64Array(k);
  for (let c = 0; c < k; c++) t4[c] = dot(w, c * d, means.globalMean, 0, d) + means.bias[c];
  const t4Shift = scaleShift(maxAbs(t4));
  scaleInPlace(t4, t4Shift);
  let nc4Sq = 0;
  for (let c = 0; c < k; c++) nc4Sq += t4[c] * t4[c];
  const nc4Scaled = Math.sqrt(nc4Sq);
  const nc4Shift = t4Shift + means.featureShift + means.weightShift;
  const value = timesPowerOfTwo(nc4Scaled, -nc4Shift);
  if (!Number.isFinite(value)) {
    throw new UserError(
      `${names.weights}, ${names.bias}, ${names.features}: nc4_bias = ‖W μ_G + b‖ ≈ ` +
        `2^${Math.round(Math.log2(nc4Scaled) - nc4Shift)} overflows float64`,
    );
  }
  return value;
}

/** ‖w_k‖ [K]. */
function weightNorms(w: Float64Array, k: number, d: number): Float64Array {
  const norms = new Float64Array(k);
  for (let c = 0; c < k; c++) norms[c] = Math.sqrt(dot(w, c * d, w, c * d, d));
  return norms;
}

/** cos∠(μ_k − μ_G, μ_l − μ_G) over pairs k < l, and the max-angle mean |cos + 1/(K−1)|. */
function meanAngles(
  gram: Float64Array,
  meanNorms: Float64Array,
  k: number,
): { cosines: Float64Array; maxAngle: number } {
  const cosines = new Float64Array((k * (k - 1)) / 2);
  let p = 0;
  let maxAngle = 0;
  for (let a = 0; a < k; a++) {
    for (let c = a + 1; c < k; c++) {
      const denom = meanNorms[a] * meanNorms[c];
      const cos = denom > 0 ? gram[a * k + c] / denom : 0;
      cosines[p++] = cos;
      maxAngle += Math.abs(cos + 1 / (k - 1));
    }
  }
  return { cosines, maxAngle: maxAngle / cosines.length };
}

/** CDNV: mean over k < l of (σ_k² + σ_l²)/(2‖μ_k − μ_l‖²). */
export function cdnv(
  sqDist: Float64Array,
  counts: Float64Array,
  meanDist: Float64Array,
  k: number,
  names: InputNames = DEFAULT_INPUT_NAMES,
): number {
  let sum = 0;
  for (let a = 0; a < k; a++) {
    for (let c = a + 1; c < k; c++) {
      const num = sqDist[a] / counts[a] + sqDist[c] / counts[c];
      const den = 2 * meanDist[a * k + c];
      if (den > 0) sum += num / den;
      else if (num > 0) {
        throw new UserError(
          `${names.features}: classes ${a} and ${c} have identical means but non-zero spread, ` +
            "so the CDNV is infinite",
        );
      }
    }
  }
  return sum / ((k * (k - 1)) / 2);
}

/**
 * Log energy of the normalised centred means u_k: mean over k < l of −log‖u_k − u_l‖,
 * ‖u_k − u_l‖² = 2 − 2 cos (1 when one of them is zero, having no direction; 0 when both are).
 * 2 − 2 cos carries an absolute error of about ε, so squared distances below ε are unresolved and
 * count as ε: coinciding directions add −½ log ε = 26 ln 2 ≈ 18.0, never Infinity.
 */
function uniformity(cosines: Float64Array, meanNorms: Float64Array, k: number): number {
  let sum = 0;
  let p = 0;
  for (let a = 0; a < k; a++) {
    for (let c = a + 1; c < k; c++) {
      const cos = cosines[p++];
      const zeros = (meanNorms[a] > 0 ? 0 : 1) + (meanNorms[c] > 0 ? 0 : 1);
      if (zeros === 0) sum -= 0.5 * Math.log(Math.max(Number.EPSILON, 2 - 2 * cos));
    }
  }
  return sum / cosines.length;
}

/** NC5 (Ammar et al. 2024): mean over classes of |cos∠(μ_k − μ_G, μ_G^OOD − μ_G)|. */
function nc5FromOod(means: FrozenMeans, ood: OodSum, mRows: Float64Array, meanNorms: Float64Array): number {
  const { numClasses: k, dim: d } = means;
  // μ_G^OOD − μ_G in the scale of the larger of the two (smaller shift); cosines ignore the scale.
  const common = Math.min(ood.shift, means.featureShift);
  const diff = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    diff[j] = timesPowerOfTwo(ood.sum[j] / ood.count, common - ood.shift) -
      timesPowerOfTwo(means.globalMean[j], common - means.featureShift);
  }
  const oodNorm = Math.sqrt(dot(diff, 0, diff, 0, d));
  let nc5 = 0;
  for (let c = 0; c < k; c++) {
    const denom = meanNorms[c] * oodNorm;
    if (denom > 0) nc5 += Math.abs(dot(mRows, c * d, diff, 0, d)) / denom;
  }
  return nc5 / k;
}

/**
 * ‖A/‖A‖_F − B/‖B‖_F‖_F for two matrices of the same size, a zero matrix
 * normalising to 0 (as in NC2 and NC3).
 */
function normalisedDifference(a: Float64Array, b: Float64Array): number {
  const na = Math.sqrt(dot(a, 0, a, 0, a.length));
  const nb = Math.sqrt(dot(b, 0, b, 0, b.length));
  const sa = na > 0 ? 1 / na : 0;
  const sb = nb > 0 ? 1 / nb : 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const t = a[i] * sa - b[i] * sb;
    sum += t * t;
  }
  return Math.sqrt(sum);
}

/** Population standard deviation (ddof = 0) over the entries of x. */
function populationStd(x: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mean) ** 2;
  return Math.sqrt(v / x.length);
}

/** std/mean (population std), defined as 0 when every entry is 0. */
function coefficientOfVariation(x: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  return mean > 0 ? populationStd(x) / mean : 0;
}
