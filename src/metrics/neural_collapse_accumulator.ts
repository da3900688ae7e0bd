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
 * Structure: pass 1 is {@linkcode ClassMeans} (`class_means.ts`), whose
 * `freeze()` gives the means; pass 2 is {@linkcode Pass2Accumulator}
 * (`pass2_accumulator.ts`), mergeable sums that worker threads compute over blocks
 * of rows; `metrics_from_sums.ts` computes each metric as a pure function of
 * the two. {@linkcode NeuralCollapseAccumulator} runs them in order.
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
import { ClassMeans, type ClassSumsState, type FrozenMeans, type Pass2State } from "./class_means.ts";
import { metricsFromSums } from "./metrics_from_sums.ts";
import { Pass2Accumulator, type Pass2Sums, type ProjectorFactory } from "./pass2_accumulator.ts";
import type { FeatureArray } from "./_validate.ts";
import { DEFAULT_INPUT_NAMES, type InputNames, type MeasuredMetrics } from "./types.ts";

export type { FeatureArray } from "./_validate.ts";
export type { Pass2State } from "./class_means.ts";
export type { Pass2Sums, ProjectionWithScatter, Projector, ProjectorFactory } from "./pass2_accumulator.ts";

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
 * Accumulates neural-collapse statistics batch by batch in two passes over
 * the same samples: `addPass1` for every batch, `startPass2()`, `addPass2`
 * for every batch again (same samples, any batching), then `result()`.
 * A thin sequence over {@linkcode ClassMeans}, {@linkcode Pass2Accumulator}
 * and {@linkcode metricsFromSums}.
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
  #projector: ProjectorFactory | undefined;
  /** Pass 1; null for an accumulator from fromPass2State. */
  #means: ClassMeans | null;
  /** Pass 1's result, from startPass2 on. */
  #frozen: FrozenMeans | null = null;
  /** Pass 2, from startPass2 (or fromPass2State) until result(). */
  #pass2: Pass2Accumulator | null = null;
  #done = false;

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
    this.#projector = options.projector;
    this.#means = new ClassMeans(numClasses, dim, weights, bias, this.#names);
    this.numClasses = numClasses;
    this.dim = dim;
  }

  /** Pass 1: adds a batch of features [n, d] with labels [n] to the class counts and sums. */
  addPass1(features: FeatureArray, labels: ArrayLike<number>, firstRow?: number): void {
    if (this.#means === null || this.#frozen !== null) throw new Error("addPass1 after startPass2");
    this.#means.add(features, labels, firstRow);
  }

  /** Merges a share of pass 1 summed elsewhere (another thread's {@linkcode ClassSums}); before `startPass2()`. */
  mergePass1(part: ClassSumsState): void {
    if (this.#means === null || this.#frozen !== null) throw new Error("mergePass1 after startPass2");
    this.#means.merge(part);
  }

  /**
   * Adds out-of-distribution features [n, d] (no labels) to their mean
   * μ_G^OOD, for NC5; any time before `result()`.
   */
  addOutOfDistribution(features: FeatureArray): void {
    if (this.#done) throw new Error("addOutOfDistribution after result()");
    if (this.#means === null) {
      throw new Error("addOutOfDistribution needs pass 1 (not an accumulator from fromPass2State)");
    }
    this.#means.addOutOfDistribution(features);
  }

  /** Ends pass 1: fixes μ_k, μ_G and everything pass 2 needs. Throws if a class has no samples. */
  startPass2(): void {
    if (this.#means === null || this.#frozen !== null) throw new Error("startPass2 called twice");
    const frozen = this.#means.freeze();
    this.#pass2 = new Pass2Accumulator(frozen, { names: this.#names, projector: this.#projector });
    this.#frozen = frozen;
  }

  /**
   * Pass 2: adds a batch of features [n, d] with labels [n]; the batches of
   * pass 2 must hold the same samples as those of pass 1.
   */
  addPass2(features: FeatureArray, labels: ArrayLike<number>): void {
    this.#pass2Now("addPass2").add(features, labels);
  }

  /**
   * {@linkcode addPass2}, overlapping this thread's work with the projector's
   * products where the projector can run them on another thread
   * ({@linkcode Pass2Accumulator.addAsync}); `await flushPass2()` before `result()`.
   */
  async addPass2Async(features: FeatureArray, labels: ArrayLike<number>): Promise<void> {
    await this.#pass2Now("addPass2Async").addAsync(features, labels);
  }

  /** Scores the last block of {@linkcode addPass2Async} (a no-op after `addPass2`). */
  async flushPass2(): Promise<void> {
    await this.#pass2Now("flushPass2").flush();
  }

  /**
   * Frees the projector, if any. `result()` does so itself; call this when an
   * accumulator is abandoned before its result (an error mid-pass).
   */
  dispose(): void {
    this.#pass2?.dispose();
  }

  /**
   * Copies of what pass 2 needs, for {@linkcode NeuralCollapseAccumulator.fromPass2State}
   * in another thread; call after `startPass2()`.
   */
  pass2State(): Pass2State {
    this.#pass2Now("pass2State");
    const f = this.#frozen ?? this.#state!;
    return {
      numClasses: this.numClasses,
      dim: this.dim,
      means: f.means.slice(),
      stack: f.stack.slice(),
      meanLogits: f.meanLogits.slice(),
      meanDistances: f.meanDistances.slice(),
      featureShift: f.featureShift,
    };
  }

  /** The state of an accumulator from fromPass2State. */
  #state: Pass2State | null = null;

  /**
   * An accumulator ready for `addPass2` on some of the samples, from the
   * state of another one after its pass 1; it has no `result()`: send its
   * {@linkcode NeuralCollapseAccumulator.pass2Sums} to the original's `mergePass2`.
   * (A thread that only runs pass 2 can use {@linkcode Pass2Accumulator} directly.)
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
    const copy: Pass2State = {
      numClasses: k,
      dim: d,
      means: state.means.slice(),
      stack: state.stack.slice(),
      meanLogits: state.meanLogits.slice(),
      meanDistances: state.meanDistances.slice(),
      featureShift: state.featureShift,
    };
    acc.#means = null;
    acc.#state = copy;
    acc.#pass2 = new Pass2Accumulator(copy, { names: acc.#names, projector: options.projector });
    return acc;
  }

  /** Copies of the pass-2 sums so far, for another accumulator's `mergePass2`. */
  pass2Sums(): Pass2Sums {
    return this.#pass2Now("pass2Sums").sums();
  }

  /** Adds pass-2 sums over other samples (from another accumulator's `pass2Sums`) to this one's. */
  mergePass2(sums: Pass2Sums): void {
    this.#pass2Now("mergePass2").merge(sums);
  }

  /** Every metric (NC5 too after `addOutOfDistribution`); call after pass 2 has seen all samples. */
  result(): MeasuredMetrics {
    if (this.#pass2 === null) {
      throw new Error("result() needs startPass2() and pass 2 first, and returns only once");
    }
    if (this.#means === null || this.#frozen === null) {
      throw new Error("result() needs pass 1: an accumulator from fromPass2State only holds pass-2 sums to merge");
    }
    const sums = this.#pass2.sums();
    const m = metricsFromSums(this.#frozen, sums, this.#means.ood(), this.#names);
    this.#done = true;
    this.dispose();
    this.#pass2 = null;
    return m;
  }

  /** Pass 2's accumulator, or an error naming `what` before startPass2() or after result(). */
  #pass2Now(what: string): Pass2Accumulator {
    if (this.#pass2 === null) throw new Error(`${what} needs startPass2() first (and no result() yet)`);
    return this.#pass2;
  }
}
