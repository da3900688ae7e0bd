/**
 * Streaming measurement of neural collapse over batches of features, in
 * float64, with memory O(K·d + K²) whatever the number of samples N: no
 * feature matrix [N, d] and no d × d covariance is ever formed.
 *
 * Notation (reference `evaluate.py`, Papyan, Han & Donoho 2020): N samples
 * h_i ∈ ℝ^d with labels y_i ∈ {0 … K−1}, n_k samples in class k,
 * μ_k = (1/n_k) Σ_{y_i=k} h_i, μ_G = (1/N) Σ_i h_i,
 * M = [μ_0 − μ_G, …, μ_{K−1} − μ_G] ∈ ℝ^{d×K} (the paper's centred H),
 * Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ, Σ_B = (1/K) M Mᵀ.
 *
 * Pass 1 needs only the class sums. Pass 2, with the means known, works on
 * the centred features e_i = h_i − μ_{y_i} and computes for each sample the
 * 2K numbers z_i = Mᵀ e_i and W e_i (one K·d product each):
 *
 * - NC1 without d × d matrices. Σ_B has rank r ≤ K−1 and its range is
 *   span(M). With the eigendecomposition of the K × K Gram MᵀM = V Λ Vᵀ, the
 *   pseudo-inverse is Σ_B^† = K · M V Λ^{−2} Vᵀ Mᵀ (over the r non-zero λ_j),
 *   so tr(Σ_W Σ_B^†)/K = (1/N) Σ_j v_jᵀ S v_j / λ_j² with S = Σ_i z_i z_iᵀ
 *   (K × K). This is N·d·K work instead of the N·d² of forming Σ_W.
 * - The classifier's logits Wh_i + b = W e_i + (W μ_{y_i} + b).
 * - The nearest class centre: ‖h_i − μ_k‖² = ‖e_i‖² + ‖μ_k − μ_{y_i}‖² −
 *   2 (z_{ik} − z_{i,y_i}), since (μ_k − μ_y) = M_k − M_y. Computing it from
 *   centred quantities avoids the cancellation of ‖h‖² − 2hᵀμ_k + ‖μ_k‖².
 * - σ_k² = (1/n_k) Σ_{y_i=k} ‖e_i‖² for the CDNV.
 *
 * Pseudo-inverse tolerance: eigenvalues λ_j of MᵀM with
 * λ_j ≤ τ = 2 · max(K, d) · ε · λ_max (ε = 2⁻⁵²) are treated as zero. The
 * non-zero eigenvalues of Σ_B are λ_j/K, so this is a relative cut on Σ_B's
 * spectrum too; it is twice SciPy's default for `pinv(Σ_B)` (max(d, d)·ε when
 * d ≥ K) and bounds the rounding error of the computed Gram (≲ d·ε·λ_max) plus
 * the eigensolver's (≲ K·ε·λ_max), so the structural zero eigenvalue
 * (Σ_k n_k (μ_k − μ_G) = 0) is always cut.
 *
 * Degenerate inputs, decided once here:
 * - K < 2, d < 1 → UserError (no simplex in one class).
 * - A class with no samples → UserError naming the class (μ_k undefined).
 * - NaN or ±Infinity in features, W or b; a label outside [0, K) or not an
 *   integer → UserError naming the input, the row and the value.
 * - All class means equal (Σ_B = 0, e.g. identical features): Σ_B^† = 0 as for
 *   any pseudo-inverse, so NC1 = 0; W̃H = 0, whose normalisation we define as
 *   0, so NC3 = 1; every norm ‖μ_k − μ_G‖ is 0, so equinorm_means = 0 (all
 *   equal); a cosine involving a zero vector is defined as 0, so
 *   equiangularity = 0 and max_angle = 1/(K−1).
 * - W̃ = 0 (all classifier rows equal): NC2 = 1 by the same convention;
 *   W = 0: equinorm_weights = 0.
 * - Two classes with identical means: their CDNV term is 0 when both are also
 *   collapsed (σ_k² + σ_l² = 0), otherwise the CDNV is infinite and we throw a
 *   UserError naming the classes, so that no Infinity reaches a JSON record.
 * - K = 2: one pair of classes, so equiangularity = 0 and max_angle measures
 *   |cos + 1| (the two centred means must be antipodal).
 * - Top-5 with K ≤ 5 is 100 (every class is in the top 5).
 *
 * Scale: every product would overflow or underflow float64 for data far from
 * 1 (‖h‖² of h ~ 1e160, λ² of features ~ 1e-100), so features and W are
 * first multiplied by powers of two 2^s_h, 2^s_W that bring their largest
 * |value| near 1 (`_scale.ts`; s = 0, no change at all, when it lies in
 * [2^-16, 2^16]). Power-of-two scaling is exact, so the scale-invariant metrics
 * (NC1 in all forms, NC2, NC3, NC2 of the means, self-duality, equinorm,
 * equiangularity, max-angle, CDNV, uniformity, NC5, nc4_ncc) equal those of
 * the unscaled data, and top-1/top-5 are the same because b is scaled with
 * the logits (b · 2^(s_h + s_W)). nc4_bias is scaled back at the end; when
 * the logits' scale or the true nc4_bias does not fit in float64 the
 * measurement stops with a UserError rather than return Infinity.
 * The feature scale follows the largest |h| seen in pass 1, the sums being
 * rescaled (exactly) when it changes.
 *
 * Standard deviations are population ones (divide by the count, NumPy's
 * default `ddof=0`).
 *
 * Float32 projection (option `projector`): the 2K projections of pass 2 are
 * N·d·K multiply-adds, nearly all of the work on large inputs. With a
 * projector, the centred features e_i are still formed in float64 (so no
 * cancellation against the means), rounded once to float32 and multiplied by
 * a float32 copy of [M; W] in the projector's matrix product (for example a
 * tfjs backend's, `src/backend/projector.ts`); ‖e_i‖², the K × K sums S and
 * everything after stay float64. Each z_i then carries a relative error of
 * about √d · 2⁻²⁴ ≈ 3e-6 (of ‖e_i‖·‖m_k‖), which averages down in S: NC1 moves
 * by ~1e-6 relative; the nearest class centre of a sample within that margin
 * of a tie may change. Without a projector everything is float64.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { dot, gemmNT } from "./_gemm.ts";
import { maxAbs, scaleInPlace, scaleShift, timesPowerOfTwo } from "./_scale.ts";
import { simplexEtfDistance } from "./simplex_etf_distance.ts";
import { symmetricEigen } from "./symmetric_eigen.ts";
import { trueClassRank } from "./top_k_accuracy.ts";
import { DEFAULT_INPUT_NAMES, type InputNames, type MeasuredMetrics } from "./types.ts";

/** Features of one batch: [n, d] row-major. */
export type FeatureArray = Float32Array | Float64Array;

/** Options of {@linkcode NeuralCollapseAccumulator}. */
export interface AccumulatorOptions {
  /** Names used in error messages (default: "features", "labels", "weights", "bias"). */
  names?: Partial<InputNames>;
  /**
   * Does pass 2's projections as float32 matrix products (see the module
   * notes); without it they are float64 JavaScript.
   */
  projector?: ProjectorFactory;
}

/**
 * The float32 product of pass 2 against a fixed right-hand side:
 * `project(rows, n)` returns rows[n, d] · Bᵀ as a new row-major [n, m]
 * array, B being the [m, d] matrix the projector was made with.
 */
export interface Projector {
  project(rows: Float32Array, n: number): Float32Array;
  /**
   * Optional: the product P = rows · Bᵀ [n, m] and ZᵀZ [k, k] of its first k
   * columns Z, so that pass 2's scatter S = Σ z zᵀ is a matrix product too
   * (it is n·k²/2 scalar steps otherwise, the larger cost once K ≳ 500).
   */
  projectWithScatter?(rows: Float32Array, n: number, k: number): { product: Float32Array; scatter: Float32Array };
  /** Frees what the projector holds (tensors); called once, when the accumulator is done with it. */
  dispose(): void;
}

/** Makes a {@linkcode Projector} for B [m, d] (row-major float32; the projector may keep it). */
export type ProjectorFactory = (b: Float32Array, m: number, d: number) => Projector;

/**
 * What pass 2 needs from pass 1 ({@linkcode NeuralCollapseAccumulator.pass2State}),
 * so that another thread can run pass 2 over some of the samples.
 */
export interface Pass2State {
  /** Number of classes K. */
  numClasses: number;
  /** Feature dimension d. */
  dim: number;
  /** μ_k [K, d]. */
  means: Float64Array;
  /** [M rows; W rows] [2K, d]: row k is μ_k − μ_G, row K + k is w_k. */
  stack: Float64Array;
  /** [K, K]: entry (y, k) is w_k·μ_y + b_k. */
  meanLogits: Float64Array;
  /** [K, K]: ‖μ_y − μ_k‖². */
  meanDistances: Float64Array;
  /** Features are used as h · 2^featureShift (means, stack and logits are in that scale). */
  featureShift: number;
}

/** Pass-2 sums over some of the samples ({@linkcode NeuralCollapseAccumulator.pass2Sums}), to merge. */
export interface Pass2Sums {
  /** Samples per class [K]. */
  counts: Float64Array;
  /** S = Σ_i z_i z_iᵀ [K, K], upper triangle. */
  scatter: Float64Array;
  /** Σ_{y_i=k} ‖h_i − μ_k‖² [K]. */
  sqDist: Float64Array;
  /** Samples whose true class is the classifier's top 1. */
  top1: number;
  /** Samples whose true class is in the classifier's top 5. */
  top5: number;
  /** Samples where the classifier and the nearest class centre disagree. */
  nccMismatch: number;
  /** Samples. */
  n: number;
}

/** Rows of centred features multiplied at once; 32 keeps the block in L2 and measured fastest. */
const CHUNK_ROWS = 32;
/** Rows per call of a projector: large enough that a native GEMM runs at full speed (1024–8192 measured alike). */
const PROJECTOR_ROWS = 2048;

/**
 * Accumulates neural-collapse statistics batch by batch in two passes over
 * the same samples: `addPass1` for every batch, `startPass2()`, `addPass2`
 * for every batch again (same samples, any batching), then `result()`.
 *
 * @example
 * ```ts
 * const acc = new NeuralCollapseAccumulator(10, 512, W, b); // W [10, 512], b [10]
 * for (const [h, y] of batches()) acc.addPass1(h, y);
 * acc.startPass2();
 * for (const [h, y] of batches()) acc.addPass2(h, y);
 * const { nc1, nc2, nc3 } = acc.result();
 * ```
 */
export class NeuralCollapseAccumulator {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;

  #names: InputNames;
  /** W [K, d] and b [K] in float64. */
  #w: Float64Array;
  #b: Float64Array;
  /** W is held as W · 2^weightShift, features as h · 2^featureShift (see the module notes on scale). */
  #weightShift = 0;
  #featureShift = 0;
  /** Largest |h| seen in pass 1, which fixes featureShift. */
  #featureMax = 0;
  #phase: "pass1" | "pass2" | "done" = "pass1";
  /** Made by fromPass2State: holds pass-2 sums only, to merge elsewhere. */
  #pass2Only = false;

  // Out-of-distribution samples (NC5): their count and Σ h.
  #oodSum: Float64Array | null = null;
  #oodCount = 0;
  /** The OOD sum holds Σ h · 2^oodShift; oodMax is the largest |h| so far. */
  #oodShift = 0;
  #oodMax = 0;

  // Pass 1: n_k and Σ_{y_i=k} h_i.
  #counts: Float64Array;
  #sums: Float64Array;
  #n1 = 0;

  // Fixed at startPass2.
  /** μ_k [K, d]. */
  #mu = new Float64Array(0);
  /** μ_G [d]. */
  #muG = new Float64Array(0);
  /** [M rows; W rows] [2K, d]: row k is μ_k − μ_G, row K + k is w_k. */
  #stack = new Float64Array(0);
  /** [K, K]: entry (y, k) is w_k·μ_y + b_k, the logit of class k at h = μ_y. */
  #meanLogits = new Float64Array(0);
  /** [K, K]: ‖μ_y − μ_k‖². */
  #meanDist = new Float64Array(0);

  // Pass 2 sums.
  #counts2: Float64Array;
  /** S = Σ_i z_i z_iᵀ [K, K], upper triangle accumulated. */
  #scatter: Float64Array;
  /** Σ_{y_i=k} ‖e_i‖² [K]. */
  #sqDist: Float64Array;
  #top1 = 0;
  #top5 = 0;
  #nccMismatch = 0;
  #n2 = 0;
  #eBuf: Float64Array;
  #oBuf: Float64Array;
  #logits: Float64Array;
  #projectorFactory: ProjectorFactory | null;
  #projector: Projector | null = null;
  /** Centred rows rounded to float32, for the projector. */
  #e32 = new Float32Array(0);

  /**
   * @param numClasses K ≥ 2.
   * @param dim feature dimension d ≥ 1.
   * @param weights classifier W [K, d] row-major.
   * @param bias classifier bias b [K], or null for b = 0.
   */
  constructor(
    numClasses: number,
    dim: number,
    weights: FeatureArray,
    bias: FeatureArray | null,
    options: AccumulatorOptions = {},
  ) {
    this.#names = { ...DEFAULT_INPUT_NAMES, ...options.names };
    if (!Number.isInteger(numClasses) || numClasses < 2) {
      throw new UserError(`${this.#names.weights}: need at least 2 classes, got K = ${numClasses}`);
    }
    if (!Number.isInteger(dim) || dim < 1) {
      throw new UserError(`${this.#names.features}: feature dimension must be at least 1, got d = ${dim}`);
    }
    const k = numClasses;
    this.numClasses = k;
    this.dim = dim;
    if (weights.length !== k * dim) {
      throw new UserError(
        `${this.#names.weights}: expected K × d = ${k} × ${dim} = ${k * dim} values, got ${weights.length}`,
      );
    }
    assertFinite(weights, this.#names.weights, dim, 0);
    this.#w = Float64Array.from(weights);
    this.#weightShift = scaleShift(maxAbs(weights));
    scaleInPlace(this.#w, this.#weightShift);
    this.#b = new Float64Array(k);
    if (bias !== null) {
      if (bias.length !== k) throw new UserError(`${this.#names.bias}: expected K = ${k} values, got ${bias.length}`);
      assertFinite(bias, this.#names.bias, null, 0);
      this.#b.set(bias);
    }
    this.#counts = new Float64Array(k);
    this.#sums = new Float64Array(k * dim);
    this.#counts2 = new Float64Array(k);
    this.#scatter = new Float64Array(k * k);
    this.#sqDist = new Float64Array(k);
    this.#projectorFactory = options.projector ?? null;
    const rows = this.#projectorFactory ? PROJECTOR_ROWS : CHUNK_ROWS;
    this.#eBuf = new Float64Array(rows * dim);
    this.#oBuf = new Float64Array(rows * 2 * k);
    this.#logits = new Float64Array(k);
  }

  /**
   * Pass 1: adds a batch of features [n, d] with labels [n] to the class
   * counts and sums.
   */
  addPass1(features: FeatureArray, labels: ArrayLike<number>): void {
    if (this.#phase !== "pass1") throw new Error("addPass1 after startPass2");
    const n = this.#checkBatch(features, labels, this.#n1);
    const d = this.dim;
    const sums = this.#sums;
    this.#rescaleFeatures(features);
    const f = 2 ** this.#featureShift;
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      const o = y * d;
      const r = i * d;
      for (let j = 0; j < d; j++) sums[o + j] += features[r + j] * f;
      this.#counts[y]++;
    }
    this.#n1 += n;
  }

  /**
   * Adds out-of-distribution features [n, d] (no labels) to their mean
   * μ_G^OOD, for NC5; any time before `result()`.
   */
  addOutOfDistribution(features: FeatureArray): void {
    if (this.#phase === "done") throw new Error("addOutOfDistribution after result()");
    const d = this.dim;
    if (features.length % d !== 0) {
      throw new UserError(`out-of-distribution features: ${features.length} values do not form rows of d = ${d}`);
    }
    const sum = this.#oodSum ??= new Float64Array(d);
    const n = features.length / d;
    this.#oodShift = this.#rescaleOod(features, sum);
    const f = 2 ** this.#oodShift;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) sum[j] += features[i * d + j] * f;
    }
    this.#oodCount += n;
  }

  /**
   * Checks a pass-1 batch of features for non-finite values and sets the
   * feature shift for the largest |h| so far, first rescaling the class sums
   * to it (exactly) when it changes.
   */
  #rescaleFeatures(features: FeatureArray): void {
    // x − x is 0 for finite x and NaN for NaN or ±Infinity: one cheap check.
    let bad = 0;
    for (let i = 0; i < features.length; i++) bad += features[i] - features[i];
    if (bad !== 0) assertFinite(features, this.#names.features, this.dim, this.#n1);
    this.#featureMax = Math.max(this.#featureMax, maxAbs(features));
    const next = scaleShift(this.#featureMax);
    if (next !== this.#featureShift) scaleInPlace(this.#sums, next - this.#featureShift);
    this.#featureShift = next;
  }

  /** As #rescaleFeatures for out-of-distribution features: checks them, rescales their sum, returns their shift. */
  #rescaleOod(features: FeatureArray, sum: Float64Array): number {
    let bad = 0;
    for (let i = 0; i < features.length; i++) bad += features[i] - features[i];
    if (bad !== 0) assertFinite(features, "out-of-distribution features", this.dim, this.#oodCount);
    this.#oodMax = Math.max(this.#oodMax, maxAbs(features));
    const next = scaleShift(this.#oodMax);
    if (next !== this.#oodShift) scaleInPlace(sum, next - this.#oodShift);
    return next;
  }

  /** Ends pass 1: fixes μ_k, μ_G and everything pass 2 needs. Throws if a class has no samples. */
  startPass2(): void {
    if (this.#phase !== "pass1") throw new Error("startPass2 called twice");
    const k = this.numClasses;
    const d = this.dim;
    if (this.#n1 === 0) throw new UserError(`${this.#names.features}: no samples`);
    for (let c = 0; c < k; c++) {
      if (this.#counts[c] === 0) {
        throw new UserError(
          `${this.#names.labels}: class ${c} has no samples, so its mean μ_${c} is undefined ` +
            `(K = ${k} classes from the ${k} rows of ${this.#names.weights}; measure only classes present in both)`,
        );
      }
    }
    const mu = new Float64Array(k * d);
    const muG = new Float64Array(d);
    for (let c = 0; c < k; c++) {
      const inv = 1 / this.#counts[c];
      for (let j = 0; j < d; j++) {
        const s = this.#sums[c * d + j];
        mu[c * d + j] = s * inv;
        muG[j] += s;
      }
    }
    for (let j = 0; j < d; j++) muG[j] /= this.#n1;
    const stack = new Float64Array(2 * k * d);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) stack[c * d + j] = mu[c * d + j] - muG[j];
    }
    stack.set(this.#w, k * d);
    // The logits Wh + b are used as 2^(s_h + s_W) (Wh + b): b joins them in that scale.
    const logitShift = this.#featureShift + this.#weightShift;
    const b = this.#b.map((x) => timesPowerOfTwo(x, logitShift));
    const meanLogits = new Float64Array(k * k);
    gemmNT(mu, this.#w, meanLogits, k, k, d);
    for (let y = 0; y < k; y++) for (let c = 0; c < k; c++) meanLogits[y * k + c] += b[c];
    if (!meanLogits.every(Number.isFinite)) {
      throw new UserError(
        `${this.#names.bias}: the logits Wh + b overflow float64 once W and the features are scaled near 1 ` +
          `(|b| up to ${maxAbs(this.#b)}, |W| up to ${timesPowerOfTwo(maxAbs(this.#w), -this.#weightShift)}, ` +
          `|h| up to ${this.#featureMax}); rescale b or the inputs`,
      );
    }
    this.#b = b;
    const meanDist = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let c = a + 1; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const t = mu[a * d + j] - mu[c * d + j];
          s += t * t;
        }
        meanDist[a * k + c] = s;
        meanDist[c * k + a] = s;
      }
    }
    this.#mu = mu;
    this.#muG = muG;
    this.#stack = stack;
    this.#meanLogits = meanLogits;
    this.#meanDist = meanDist;
    if (this.#projectorFactory) {
      this.#projector = this.#projectorFactory(Float32Array.from(stack), 2 * k, d);
      this.#e32 = new Float32Array(PROJECTOR_ROWS * d);
    }
    this.#phase = "pass2";
  }

  /**
   * Pass 2: adds a batch of features [n, d] with labels [n]; the batches of
   * pass 2 must hold the same samples as those of pass 1.
   */
  addPass2(features: FeatureArray, labels: ArrayLike<number>): void {
    if (this.#phase !== "pass2") throw new Error("addPass2 needs startPass2() first (and no result() yet)");
    const n = this.#checkBatch(features, labels, this.#n2);
    const d = this.dim;
    const m = 2 * this.numClasses;
    const mu = this.#mu;
    const e = this.#eBuf;
    const f = 2 ** this.#featureShift;
    const projector = this.#projector;
    const chunk = projector ? PROJECTOR_ROWS : CHUNK_ROWS;
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const y = labels[i];
        const hOff = i * d;
        const mOff = y * d;
        const eOff = r * d;
        let sq = 0;
        for (let j = 0; j < d; j++) {
          const t = features[hOff + j] * f - mu[mOff + j];
          e[eOff + j] = t;
          sq += t * t;
        }
        if (!Number.isFinite(sq)) {
          assertFinite(features.subarray(hOff, hOff + d), this.#names.features, d, this.#n2 + i);
          throw new UserError(
            `${this.#names.features}: row ${this.#n2 + i} is far larger in pass 2 than any row of pass 1; ` +
              "pass 2 must revisit exactly the samples of pass 1",
          );
        }
        this.#sqDist[y] += sq;
        this.#counts2[y]++;
      }
      if (projector) {
        const e32 = this.#e32.subarray(0, rows * d);
        e32.set(e.subarray(0, rows * d));
        let out: Float32Array;
        if (projector.projectWithScatter) {
          const both = projector.projectWithScatter(e32, rows, this.numClasses);
          out = both.product;
          this.#addScatter(both.scatter);
        } else out = projector.project(e32, rows);
        if (out.length !== rows * m) {
          throw new Error(`projector returned ${out.length} values for ${rows} rows × ${m}, expected ${rows * m}`);
        }
        this.#oBuf.set(out);
      } else {
        gemmNT(e, this.#stack, this.#oBuf, rows, m, d);
      }
      const scatterDone = projector?.projectWithScatter !== undefined;
      for (let r = 0; r < rows; r++) this.#scoreRow(r, labels[start + r], !scatterDone);
    }
    this.#n2 += n;
  }

  /**
   * Frees the projector, if any. `result()` does so itself; call this when an
   * accumulator is abandoned before its result (an error mid-pass).
   */
  dispose(): void {
    this.#projector?.dispose();
    this.#projector = null;
  }

  /**
   * Copies of what pass 2 needs, for {@linkcode NeuralCollapseAccumulator.fromPass2State}
   * in another thread; call after `startPass2()`.
   */
  pass2State(): Pass2State {
    if (this.#phase !== "pass2") throw new Error("pass2State needs startPass2() first (and no result() yet)");
    return {
      numClasses: this.numClasses,
      dim: this.dim,
      means: this.#mu.slice(),
      stack: this.#stack.slice(),
      meanLogits: this.#meanLogits.slice(),
      meanDistances: this.#meanDist.slice(),
      featureShift: this.#featureShift,
    };
  }

  /**
   * An accumulator ready for `addPass2` on some of the samples, from the
   * state of another one after its pass 1; it has no `result()`: send its
   * {@linkcode NeuralCollapseAccumulator.pass2Sums} to the original's `mergePass2`.
   *
   * @example
   * ```ts
   * const part = NeuralCollapseAccumulator.fromPass2State(acc.pass2State());
   * part.addPass2(h2, y2); // the other half of the samples
   * acc.addPass2(h1, y1);
   * acc.mergePass2(part.pass2Sums());
   * ```
   */
  static fromPass2State(state: Pass2State, options: AccumulatorOptions = {}): NeuralCollapseAccumulator {
    const { numClasses: k, dim: d } = state;
    if (
      state.means.length !== k * d || state.stack.length !== 2 * k * d || state.meanLogits.length !== k * k ||
      state.meanDistances.length !== k * k
    ) {
      throw new Error(`pass-2 state does not match K = ${k}, d = ${d}`);
    }
    const acc = new NeuralCollapseAccumulator(k, d, state.stack.subarray(k * d), null, options);
    acc.#mu = state.means.slice();
    acc.#stack = state.stack.slice();
    acc.#meanLogits = state.meanLogits.slice();
    acc.#meanDist = state.meanDistances.slice();
    acc.#featureShift = state.featureShift;
    acc.#phase = "pass2";
    acc.#pass2Only = true;
    return acc;
  }

  /** Copies of the pass-2 sums so far, for another accumulator's `mergePass2`. */
  pass2Sums(): Pass2Sums {
    if (this.#phase !== "pass2") throw new Error("pass2Sums needs startPass2() first (and no result() yet)");
    return {
      counts: this.#counts2.slice(),
      scatter: this.#scatter.slice(),
      sqDist: this.#sqDist.slice(),
      top1: this.#top1,
      top5: this.#top5,
      nccMismatch: this.#nccMismatch,
      n: this.#n2,
    };
  }

  /** Adds pass-2 sums over other samples (from another accumulator's `pass2Sums`) to this one's. */
  mergePass2(sums: Pass2Sums): void {
    if (this.#phase !== "pass2") throw new Error("mergePass2 needs startPass2() first (and no result() yet)");
    const k = this.numClasses;
    if (sums.counts.length !== k || sums.sqDist.length !== k || sums.scatter.length !== k * k) {
      throw new Error(`pass-2 sums do not match K = ${k}`);
    }
    for (let c = 0; c < k; c++) {
      this.#counts2[c] += sums.counts[c];
      this.#sqDist[c] += sums.sqDist[c];
    }
    for (let i = 0; i < k * k; i++) this.#scatter[i] += sums.scatter[i];
    this.#top1 += sums.top1;
    this.#top5 += sums.top5;
    this.#nccMismatch += sums.nccMismatch;
    this.#n2 += sums.n;
  }

  /** S += G for a [K, K] block G = Σ z zᵀ from a projector (upper triangle, in float64). */
  #addScatter(g: Float32Array): void {
    const k = this.numClasses;
    if (g.length !== k * k) throw new Error(`projector returned a ${g.length}-value scatter, expected ${k * k}`);
    const s = this.#scatter;
    for (let a = 0; a < k; a++) for (let c = a; c < k; c++) s[a * k + c] += g[a * k + c];
  }

  /** Accuracy, NCC agreement and (when `scatter`) S += z zᵀ for row r of the product buffer. */
  #scoreRow(r: number, y: number, scatter: boolean): void {
    const k = this.numClasses;
    const o = this.#oBuf;
    const zOff = r * 2 * k;
    const wOff = zOff + k;
    const logits = this.#logits;
    const ml = this.#meanLogits;
    for (let c = 0; c < k; c++) logits[c] = o[wOff + c] + ml[y * k + c];
    const rank = trueClassRank(logits, 0, k, y);
    if (rank === 0) this.#top1++;
    if (rank < 5) this.#top5++;
    let pred = 0;
    for (let c = 1; c < k; c++) if (logits[c] > logits[pred]) pred = c;
    // Nearest class centre: argmin_c ‖μ_y − μ_c‖² − 2(z_c − z_y), first index on ties.
    const zy = o[zOff + y];
    const md = this.#meanDist;
    let ncc = 0;
    let best = Infinity;
    for (let c = 0; c < k; c++) {
      const dist = md[y * k + c] - 2 * (o[zOff + c] - zy);
      if (dist < best) {
        best = dist;
        ncc = c;
      }
    }
    if (ncc !== pred) this.#nccMismatch++;
    if (!scatter) return;
    const s = this.#scatter;
    for (let a = 0; a < k; a++) {
      const za = o[zOff + a];
      const row = a * k;
      for (let c = a; c < k; c++) s[row + c] += za * o[zOff + c];
    }
  }

  /** Every metric (NC5 too after `addOutOfDistribution`); call after pass 2 has seen all samples. */
  result(): MeasuredMetrics {
    if (this.#phase !== "pass2") throw new Error("result() needs startPass2() and pass 2 first, and returns only once");
    if (this.#pass2Only) {
      throw new Error("result() needs pass 1: an accumulator from fromPass2State only holds pass-2 sums to merge");
    }
    const k = this.numClasses;
    const d = this.dim;
    const n = this.#n1;
    for (let c = 0; c < k; c++) {
      if (this.#counts2[c] !== this.#counts[c]) {
        throw new Error(
          `pass 2 saw ${this.#counts2[c]} samples of class ${c}, pass 1 saw ${this.#counts[c]}; ` +
            "pass 2 must revisit exactly the samples of pass 1",
        );
      }
    }
    this.#phase = "done";
    this.dispose();
    const mRows = this.#stack.subarray(0, k * d);
    const w = this.#w;

    // Gram MᵀM [K, K]: G_kl = (μ_k − μ_G)·(μ_l − μ_G).
    const gram = new Float64Array(k * k);
    gemmNT(mRows, mRows, gram, k, k, d);

    // NC1 = tr(Σ_W Σ_B^†)/K = (1/N) Σ_{λ_j > τ} v_jᵀ S v_j / λ_j².
    const s = this.#scatter;
    for (let a = 0; a < k; a++) for (let c = 0; c < a; c++) s[a * k + c] = s[c * k + a];
    const { values, vectors } = symmetricEigen(gram, k);
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
      let q = 0;
      for (let a = 0; a < k; a++) {
        let t = 0;
        for (let c = 0; c < k; c++) t += s[a * k + c] * vectors[c * k + j];
        q += vectors[a * k + j] * t;
      }
      if (inPinv) nc1 += q / (lambda * lambda);
      if (inSvd) nc1Svd += q / (lambda * lambda);
    }
    nc1 /= n;
    nc1Svd /= n;

    // Tirer et al.'s trace quotient tr(Σ_W)/tr(Σ_B), tr(Σ_W) = (1/N) Σ_i ‖e_i‖², tr(Σ_B) = (1/K) Σ_k ‖μ_k − μ_G‖².
    let traceW = 0;
    let traceB = 0;
    for (let c = 0; c < k; c++) {
      traceW += this.#sqDist[c];
      traceB += gram[c * k + c];
    }
    traceW /= n;
    traceB /= k;
    const nc1Trace = traceB > 0 ? traceW / traceB : 0;

    // W̃ = W − 1 w̄ᵀ, the classifier centred over classes.
    const wMean = new Float64Array(d);
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) wMean[j] += w[c * d + j];
    for (let j = 0; j < d; j++) wMean[j] /= k;
    const wCentred = new Float64Array(k * d);
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) wCentred[c * d + j] = w[c * d + j] - wMean[j];
    // NC2: W̃W̃ᵀ against the simplex ETF.
    const wwt = new Float64Array(k * k);
    gemmNT(wCentred, wCentred, wwt, k, k, d);
    const nc2 = simplexEtfDistance(wwt, k);
    // NC3: W̃H against the simplex ETF, (W̃H)_kl = w̃_k·(μ_l − μ_G).
    const wh = new Float64Array(k * k);
    gemmNT(wCentred, mRows, wh, k, k, d);
    const nc3 = simplexEtfDistance(wh, k);
    // The class means' own ETF distance: M̃M̃ᵀ is the Gram.
    const nc2Means = simplexEtfDistance(gram, k);
    const selfDuality = normalisedDifference(wCentred, mRows);

    // Reference NC4: ‖W μ_G + b‖₂, computed as 2^(s_h + s_W) (W μ_G + b), scaled again by 2^t
    // (exact) so that its squares stay in range, and scaled back at the end.
    const t4 = new Float64Array(k);
    for (let c = 0; c < k; c++) t4[c] = dot(w, c * d, this.#muG, 0, d) + this.#b[c];
    const t4Shift = scaleShift(maxAbs(t4));
    scaleInPlace(t4, t4Shift);
    let nc4Sq = 0;
    for (let c = 0; c < k; c++) nc4Sq += t4[c] * t4[c];
    const nc4Scaled = Math.sqrt(nc4Sq);
    const nc4Shift = t4Shift + this.#featureShift + this.#weightShift;
    const nc4Bias = timesPowerOfTwo(nc4Scaled, -nc4Shift);
    if (!Number.isFinite(nc4Bias)) {
      throw new UserError(
        `${this.#names.weights}, ${this.#names.bias}, ${this.#names.features}: nc4_bias = ‖W μ_G + b‖ ≈ ` +
          `2^${Math.round(Math.log2(nc4Scaled) - nc4Shift)} overflows float64`,
      );
    }

    // Equinorm: std/mean of ‖μ_k − μ_G‖ and of ‖w_k‖.
    const meanNorms = new Float64Array(k);
    const weightNorms = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      meanNorms[c] = Math.sqrt(gram[c * k + c]);
      weightNorms[c] = Math.sqrt(dot(w, c * d, w, c * d, d));
    }

    // Equiangularity and max-angle over pairs k < l of cos∠(μ_k − μ_G, μ_l − μ_G).
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
    maxAngle /= cosines.length;

    // CDNV: mean over k < l of (σ_k² + σ_l²)/(2‖μ_k − μ_l‖²).
    let cdnv = 0;
    for (let a = 0; a < k; a++) {
      for (let c = a + 1; c < k; c++) {
        const num = this.#sqDist[a] / this.#counts[a] + this.#sqDist[c] / this.#counts[c];
        const den = 2 * this.#meanDist[a * k + c];
        if (den > 0) cdnv += num / den;
        else if (num > 0) {
          throw new UserError(
            `${this.#names.features}: classes ${a} and ${c} have identical means but non-zero spread, ` +
              "so the CDNV is infinite",
          );
        }
      }
    }
    cdnv /= cosines.length;

    // Log energy of the normalised centred means u_k: mean over k < l of −log‖u_k − u_l‖,
    // ‖u_k − u_l‖² = 2 − 2 cos (1 when one of them is zero, having no direction; 0 when both are).
    // 2 − 2 cos carries an absolute error of about ε, so squared distances below ε are unresolved and
    // count as ε: coinciding directions add −½ log ε = 26 ln 2 ≈ 18.0, never Infinity.
    let uniformity = 0;
    p = 0;
    for (let a = 0; a < k; a++) {
      for (let c = a + 1; c < k; c++) {
        const cos = cosines[p++];
        const zeros = (meanNorms[a] > 0 ? 0 : 1) + (meanNorms[c] > 0 ? 0 : 1);
        if (zeros === 0) uniformity -= 0.5 * Math.log(Math.max(Number.EPSILON, 2 - 2 * cos));
      }
    }
    uniformity /= cosines.length;

    // NC5 (Ammar et al. 2024): mean over classes of |cos∠(μ_k − μ_G, μ_G^OOD − μ_G)|.
    let nc5: number | undefined;
    if (this.#oodSum !== null && this.#oodCount > 0) {
      // μ_G^OOD − μ_G in the scale of the larger of the two (smaller shift); cosines ignore the scale.
      const common = Math.min(this.#oodShift, this.#featureShift);
      const ood = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        ood[j] = timesPowerOfTwo(this.#oodSum[j] / this.#oodCount, common - this.#oodShift) -
          timesPowerOfTwo(this.#muG[j], common - this.#featureShift);
      }
      const oodNorm = Math.sqrt(dot(ood, 0, ood, 0, d));
      nc5 = 0;
      for (let c = 0; c < k; c++) {
        const denom = meanNorms[c] * oodNorm;
        if (denom > 0) nc5 += Math.abs(dot(mRows, c * d, ood, 0, d)) / denom;
      }
      nc5 /= k;
    }

    return {
      nc1,
      nc2,
      nc3,
      nc4_bias: nc4Bias,
      nc4_ncc: this.#nccMismatch / n,
      equinorm_means: coefficientOfVariation(meanNorms),
      equinorm_weights: coefficientOfVariation(weightNorms),
      equiangularity: populationStd(cosines),
      max_angle: maxAngle,
      cdnv,
      top1: (100 * this.#top1) / n,
      top5: (100 * this.#top5) / n,
      nc1_trace: nc1Trace,
      nc1_svd: nc1Svd,
      nc2_means: nc2Means,
      self_duality: selfDuality,
      uniformity_log: uniformity,
      ...(nc5 === undefined ? {} : { nc5 }),
    };
  }

  /** Validates one batch; returns its row count n. `seen` numbers rows in messages. */
  #checkBatch(features: FeatureArray, labels: ArrayLike<number>, seen: number): number {
    const n = labels.length;
    if (features.length !== n * this.dim) {
      throw new UserError(
        `${this.#names.features}: batch has ${features.length} values, expected ${n} labels × d = ${this.dim}`,
      );
    }
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      if (!Number.isInteger(y) || y < 0 || y >= this.numClasses) {
        throw new UserError(
          `${this.#names.labels}: label ${y} at index ${seen + i} is not a class in [0, ${this.numClasses})`,
        );
      }
    }
    return n;
  }
}

/**
 * Throws a UserError naming the first non-finite entry of `x`: by row and
 * column when `width` is the row length of a matrix, by index when null.
 */
function assertFinite(x: ArrayLike<number>, name: string, width: number | null, firstRow: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const where = width === null ? `index ${i}` : `row ${firstRow + Math.floor(i / width)}, column ${i % width}`;
      throw new UserError(`${name}: non-finite value ${x[i]} at ${where}`);
    }
  }
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
