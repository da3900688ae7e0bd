/**
 * Pass 1 of the neural-collapse measurement: class counts and sums (and the
 * mean of out-of-distribution features, for NC5), then {@linkcode ClassMeans.freeze}
 * fixes μ_k, μ_G and everything pass 2 needs. See `neural_collapse_accumulator.ts`
 * for the notation, the scaling and the degenerate cases.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { gemm } from "./_gemm.ts";
import { maxAbs, scaleInPlace, scaleShift, timesPowerOfTwo } from "./_scale.ts";
import { assertFinite, checkBatch, type FeatureArray } from "./_validate.ts";
import type { InputNames } from "./types.ts";

/**
 * What pass 2 needs from pass 1, so that any thread can run pass 2 over some
 * of the samples ({@linkcode Pass2Accumulator}).
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

/** Pass 1's result: the pass-2 state and what the metrics need besides the pass-2 sums. */
export interface FrozenMeans extends Pass2State {
  /** Samples per class n_k [K]. */
  counts: Float64Array;
  /** Samples N. */
  n: number;
  /** μ_G [d]. */
  globalMean: Float64Array;
  /** W · 2^weightShift [K, d]. */
  weights: Float64Array;
  /** b · 2^(featureShift + weightShift) [K]. */
  bias: Float64Array;
  /** W is held as W · 2^weightShift. */
  weightShift: number;
}

/** Mean of the out-of-distribution features, as Σ h · 2^shift over `count` samples. */
export interface OodSum {
  sum: Float64Array;
  count: number;
  shift: number;
}

/** One share of pass 1's samples as {@linkcode ClassSums} holds it, to be merged into another share. */
export interface ClassSumsState {
  /** Samples per class [K]. */
  counts: Float64Array;
  /** Σ h · 2^featureShift per class [K, d]. */
  sums: Float64Array;
  /** Samples. */
  n: number;
  /** Largest |h| seen. */
  featureMax: number;
  /** The sums hold h · 2^featureShift, featureShift = scaleShift(featureMax). */
  featureShift: number;
}

/**
 * The counting part of pass 1: class counts and float64 sums of the features,
 * which are scaled by a power of two chosen from the largest |h| seen so far
 * (rescaled exactly when it grows). Shares of the samples summed apart (on
 * other threads) come together with {@linkcode ClassSums.merge}.
 */
export class ClassSums {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  #names: InputNames;
  #featureShift = 0;
  #featureMax = 0;
  #counts: Float64Array;
  #sums: Float64Array;
  #n = 0;

  /** K and d must already be checked (positive integers). */
  constructor(numClasses: number, dim: number, names: InputNames) {
    this.numClasses = numClasses;
    this.dim = dim;
    this.#names = names;
    this.#counts = new Float64Array(numClasses);
    this.#sums = new Float64Array(numClasses * dim);
  }

  /**
   * Adds a batch of features [n, d] with labels [n]; `firstRow` is the
   * batch's first sample's index among all samples (for error messages;
   * default: the samples added so far).
   */
  add(features: FeatureArray, labels: ArrayLike<number>, firstRow: number = this.#n): void {
    const n = checkBatch(features, labels, firstRow, this.numClasses, this.dim, this.#names);
    if (features instanceof Float32Array) this.#addFloat32(features, labels, n, firstRow);
    else {
      const d = this.dim;
      const sums = this.#sums;
      this.#rescale(features, firstRow);
      const f = 2 ** this.#featureShift;
      for (let i = 0; i < n; i++) {
        const y = labels[i];
        const o = y * d;
        const r = i * d;
        // x · 1 is x: the common unscaled case skips the multiplication.
        if (f === 1) { for (let j = 0; j < d; j++) sums[o + j] += features[r + j]; }
        else for (let j = 0; j < d; j++) sums[o + j] += features[r + j] * f;
        this.#counts[y]++;
      }
    }
    this.#n += n;
  }

  /**
   * {@linkcode add} for float32 features in one pass over them instead of
   * two: each value is checked, compared with the largest |h| and summed at
   * the current scale, and when the largest |h| then asks for a new scale the
   * sums, this batch's included, are rescaled to it. The same bits as scaling
   * first: every float32 value times any scale of a float32 range, and every
   * sum of them, is a normal float64, where multiplying by a power of two
   * commutes with each rounding. (Float64 features could overflow there.)
   */
  #addFloat32(features: Float32Array, labels: ArrayLike<number>, n: number, firstRow: number): void {
    const d = this.dim;
    const sums = this.#sums;
    const counts = this.#counts;
    const f = 2 ** this.#featureShift;
    let bad = 0;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      const o = y * d;
      const r = i * d;
      if (f === 1) {
        for (let j = 0; j < d; j++) {
          const x = features[r + j];
          bad += x - x;
          const a = Math.abs(x);
          if (a > max) max = a;
          sums[o + j] += x;
        }
      } else {
        for (let j = 0; j < d; j++) {
          const x = features[r + j];
          bad += x - x;
          const a = Math.abs(x);
          if (a > max) max = a;
          sums[o + j] += x * f;
        }
      }
      counts[y]++;
    }
    if (bad !== 0) assertFinite(features, this.#names.features, d, firstRow);
    this.#featureMax = Math.max(this.#featureMax, max);
    const next = scaleShift(this.#featureMax);
    if (next !== this.#featureShift) scaleInPlace(sums, next - this.#featureShift);
    this.#featureShift = next;
  }

  /**
   * Adds another share's counts and sums (exactly rescaled to the common
   * feature scale). Only the order of the float64 additions differs from
   * having summed every sample here.
   */
  merge(part: ClassSumsState): void {
    const k = this.numClasses;
    if (part.counts.length !== k || part.sums.length !== k * this.dim) {
      throw new Error(`ClassSums.merge: a share of [${part.counts.length}] counts and ${part.sums.length} sums`);
    }
    const max = Math.max(this.#featureMax, part.featureMax);
    const next = scaleShift(max);
    scaleInPlace(this.#sums, next - this.#featureShift);
    const shift = next - part.featureShift;
    const half = Math.trunc(shift / 2);
    const f1 = 2 ** half;
    const f2 = 2 ** (shift - half);
    const sums = this.#sums;
    for (let i = 0; i < sums.length; i++) sums[i] += shift === 0 ? part.sums[i] : part.sums[i] * f1 * f2;
    for (let c = 0; c < k; c++) this.#counts[c] += part.counts[c];
    this.#n += part.n;
    this.#featureMax = max;
    this.#featureShift = next;
  }

  /** The counts and sums so far (the arrays themselves, not copies). */
  state(): ClassSumsState {
    return {
      counts: this.#counts,
      sums: this.#sums,
      n: this.#n,
      featureMax: this.#featureMax,
      featureShift: this.#featureShift,
    };
  }

  /**
   * Checks a batch of features for non-finite values and sets the feature
   * shift for the largest |h| so far, first rescaling the class sums to it
   * (exactly) when it changes.
   */
  #rescale(features: FeatureArray, firstRow: number): void {
    // x − x is 0 for finite x and NaN for NaN or ±Infinity: one cheap check, in the same pass as the largest |x|.
    let bad = 0;
    let max = 0;
    for (let i = 0; i < features.length; i++) {
      const x = features[i];
      bad += x - x;
      const a = Math.abs(x);
      if (a > max) max = a;
    }
    if (bad !== 0) assertFinite(features, this.#names.features, this.dim, firstRow);
    this.#featureMax = Math.max(this.#featureMax, max);
    const next = scaleShift(this.#featureMax);
    if (next !== this.#featureShift) scaleInPlace(this.#sums, next - this.#featureShift);
    this.#featureShift = next;
  }
}

/**
 * Pass 1: class counts and sums of features [n, d] with labels [n], batch by
 * batch; {@linkcode ClassMeans.freeze} returns the means.
 *
 * @example
 * ```ts
 * const pass1 = new ClassMeans(10, 512, W, b, DEFAULT_INPUT_NAMES); // W [10, 512], b [10]
 * for (const [h, y] of batches()) pass1.add(h, y);
 * const means = pass1.freeze(); // μ_k, μ_G, and the Pass2State of Pass2Accumulator
 * ```
 */
export class ClassMeans {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  #names: InputNames;
  /** W [K, d] · 2^weightShift and b [K], float64. */
  #w: Float64Array;
  #b: Float64Array;
  #weightShift: number;
  /** The counts and the sums of h · 2^featureShift. */
  #classSums: ClassSums;
  // Out-of-distribution samples (NC5): Σ h · 2^oodShift and their count.
  #oodSum: Float64Array | null = null;
  #oodCount = 0;
  #oodShift = 0;
  #oodMax = 0;

  /** Checks K, d, W [K, d] and b [K] (null for 0); see the accumulator for the conditions. */
  constructor(numClasses: number, dim: number, weights: FeatureArray, bias: FeatureArray | null, names: InputNames) {
    this.#names = names;
    if (!Number.isInteger(numClasses) || numClasses < 2) {
      throw new UserError(`${names.weights}: need at least 2 classes, got K = ${numClasses}`);
    }
    if (!Number.isInteger(dim) || dim < 1) {
      throw new UserError(`${names.features}: feature dimension must be at least 1, got d = ${dim}`);
    }
    const k = numClasses;
    this.numClasses = k;
    this.dim = dim;
    if (weights.length !== k * dim) {
      throw new UserError(
        `${names.weights}: expected K × d = ${k} × ${dim} = ${k * dim} values, got ${weights.length}`,
      );
    }
    assertFinite(weights, names.weights, dim, 0);
    this.#w = Float64Array.from(weights);
    this.#weightShift = scaleShift(maxAbs(weights));
    scaleInPlace(this.#w, this.#weightShift);
    this.#b = new Float64Array(k);
    if (bias !== null) {
      if (bias.length !== k) throw new UserError(`${names.bias}: expected K = ${k} values, got ${bias.length}`);
      assertFinite(bias, names.bias, null, 0);
      this.#b.set(bias);
    }
    this.#classSums = new ClassSums(k, dim, names);
  }

  /**
   * Adds a batch of features [n, d] with labels [n] to the class counts and
   * sums; `firstRow` as in {@linkcode ClassSums.add}.
   */
  add(features: FeatureArray, labels: ArrayLike<number>, firstRow?: number): void {
    this.#classSums.add(features, labels, firstRow);
  }

  /** Merges another share of the samples, summed by {@linkcode ClassSums} (on another thread). */
  merge(part: ClassSumsState): void {
    this.#classSums.merge(part);
  }

  /** Adds out-of-distribution features [n, d] (no labels) to their mean μ_G^OOD, for NC5. */
  addOutOfDistribution(features: FeatureArray): void {
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

  /** The out-of-distribution sum so far, or null when there is none. */
  ood(): OodSum | null {
    if (this.#oodSum === null || this.#oodCount === 0) return null;
    return { sum: this.#oodSum, count: this.#oodCount, shift: this.#oodShift };
  }

  /** As ClassSums' rescaling for out-of-distribution features: checks them, rescales their sum, returns their shift. */
  #rescaleOod(features: FeatureArray, sum: Float64Array): number {
    let bad = 0;
    for (let i = 0; i < features.length; i++) bad += features[i] - features[i];
    if (bad !== 0) assertFinite(features, "out-of-distribution features", this.dim, this.#oodCount);
    this.#oodMax = Math.max(this.#oodMax, maxAbs(features));
    const next = scaleShift(this.#oodMax);
    if (next !== this.#oodShift) scaleInPlace(sum, next - this.#oodShift);
    return next;
  }

  /** Fixes μ_k, μ_G and everything pass 2 needs. Throws if a class has no samples. */
  freeze(): FrozenMeans {
    const k = this.numClasses;
    const d = this.dim;
    const names = this.#names;
    const { counts, sums, n, featureMax, featureShift } = this.#classSums.state();
    if (n === 0) throw new UserError(`${names.features}: no samples`);
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        throw new UserError(
          `${names.labels}: class ${c} has no samples, so its mean μ_${c} is undefined ` +
            `(K = ${k} classes from the ${k} rows of ${names.weights}; measure only classes present in both)`,
        );
      }
    }
    const mu = new Float64Array(k * d);
    const muG = new Float64Array(d);
    for (let c = 0; c < k; c++) {
      const inv = 1 / counts[c];
      for (let j = 0; j < d; j++) {
        const s = sums[c * d + j];
        mu[c * d + j] = s * inv;
        muG[j] += s;
      }
    }
    for (let j = 0; j < d; j++) muG[j] /= n;
    const stack = new Float64Array(2 * k * d);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) stack[c * d + j] = mu[c * d + j] - muG[j];
    }
    stack.set(this.#w, k * d);
    // The logits Wh + b are used as 2^(s_h + s_W) (Wh + b): b joins them in that scale.
    const logitShift = featureShift + this.#weightShift;
    const b = this.#b.map((x) => timesPowerOfTwo(x, logitShift));
    const meanLogits = new Float64Array(k * k);
    gemm(mu, this.#w, meanLogits, k, k, d);
    for (let y = 0; y < k; y++) for (let c = 0; c < k; c++) meanLogits[y * k + c] += b[c];
    if (!meanLogits.every(Number.isFinite)) {
      throw new UserError(
        `${names.bias}: the logits Wh + b overflow float64 once W and the features are scaled near 1 ` +
          `(|b| up to ${maxAbs(this.#b)}, |W| up to ${timesPowerOfTwo(maxAbs(this.#w), -this.#weightShift)}, ` +
          `|h| up to ${featureMax}); rescale b or the inputs`,
      );
    }
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
    return {
      numClasses: k,
      dim: d,
      means: mu,
      stack,
      meanLogits,
      meanDistances: meanDist,
      featureShift,
      counts: counts.slice(),
      n,
      globalMean: muG,
      weights: this.#w,
      bias: b,
      weightShift: this.#weightShift,
    };
  }
}
