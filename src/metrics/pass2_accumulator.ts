/**
 * Pass 2 of the neural-collapse measurement: with the class means of pass 1
 * fixed ({@linkcode Pass2State}), mergeable sums over the centred features
 * e_i = h_i − μ_{y_i}. This is what a worker thread computes over its block of
 * rows; sums over disjoint blocks add up ({@linkcode Pass2Accumulator.merge}).
 * See `neural_collapse_accumulator.ts` for the formulas and the float32
 * projection.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { gemm, gemmNT, hasFloat64Kernels } from "./_gemm.ts";
import { assertFinite, checkBatch, type FeatureArray } from "./_validate.ts";
import type { Pass2State } from "./class_means.ts";
import { DEFAULT_INPUT_NAMES, type InputNames } from "./types.ts";

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
  projectWithScatter?(rows: Float32Array, n: number, k: number): ProjectionWithScatter;
  /**
   * Optional: {@linkcode Projector.projectWithScatter} computed on another
   * thread. `rows` is copied before the call returns (the caller may reuse
   * it at once); the promise gives the product and scatter.
   */
  projectWithScatterAsync?(rows: Float32Array, n: number, k: number): Promise<ProjectionWithScatter>;
  /** Frees what the projector holds (tensors); called once, when the accumulator is done with it. */
  dispose(): void;
}

/** What {@linkcode Projector.projectWithScatter} returns: P [n, m] and ZᵀZ [k, k] of P's first k columns. */
export interface ProjectionWithScatter {
  product: Float32Array;
  scatter: Float32Array;
}

/** Makes a {@linkcode Projector} for B [m, d] (row-major float32; the projector may keep it). */
export type ProjectorFactory = (b: Float32Array, m: number, d: number) => Projector;

/** Options of {@linkcode Pass2Accumulator}. */
export interface Pass2Options {
  /** Names used in error messages (default: "features", "labels", "weights", "bias"). */
  names?: Partial<InputNames>;
  /** Does the projections as float32 matrix products; without it they are float64 JavaScript. */
  projector?: ProjectorFactory;
}

/** Pass-2 sums over some of the samples, to merge. */
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
/** From this many classes on, float64 pass 2 runs on registered float64 kernels when there are any. */
const NATIVE_PASS2_CLASSES = 64;

/**
 * Whether float64 pass 2 over K classes (no projector) runs its products on
 * the registered float64 kernels (`setFloat64Kernels`): from K = 64 on, when
 * some are registered. It then computes on PROJECTOR_ROWS rows at a time in
 * the calling thread, with the scatter as a product too, and needs no helper
 * threads: at K = 100, d = 2048 TensorFlow's double GEMM on two threads did
 * pass 2 several times faster than two JavaScript threads (BENCHMARKS.md).
 * Below, pass 2 is what it always was, so small-K results keep their bits.
 * With `ifRegistered`: whether it would, were kernels registered.
 */
export function pass2UsesNativeKernels(numClasses: number, ifRegistered = false): boolean {
  return (ifRegistered || hasFloat64Kernels()) && numClasses >= NATIVE_PASS2_CLASSES;
}

/**
 * Accumulates {@linkcode Pass2Sums} batch by batch, the means of pass 1 being
 * fixed; accumulators over disjoint samples merge.
 *
 * @example
 * ```ts
 * const a = new Pass2Accumulator(means); // means from ClassMeans.freeze()
 * const b = new Pass2Accumulator(means);
 * a.add(h1, y1);
 * b.add(h2, y2); // in a worker, say
 * a.merge(b.sums());
 * const m = metricsFromSums(means, a.sums());
 * ```
 */
export class Pass2Accumulator {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  #names: InputNames;
  #mu: Float64Array;
  #stack: Float64Array;
  #meanLogits: Float64Array;
  #meanDist: Float64Array;
  #featureShift: number;
  #counts: Float64Array;
  #scatter: Float64Array;
  #sqDist: Float64Array;
  #top1 = 0;
  #top5 = 0;
  #nccMismatch = 0;
  #n = 0;
  #eBuf: Float64Array;
  #oBuf: Float64Array;
  #projector: Projector | null;
  /** Centred rows rounded to float32, for the projector. */
  #e32: Float32Array;
  /** Float64 products on the registered kernels ({@linkcode pass2UsesNativeKernels}). */
  #native: boolean;
  /** Zᵀ [K, rows] of a block and its scatter ZᵀZ [K, K], for the registered kernels. */
  #zt: Float64Array;
  #block: Float64Array;
  /** The block whose projection runs on another thread ({@linkcode Pass2Accumulator.addAsync}), not yet scored. */
  #pending: { result: Promise<ProjectionWithScatter>; labels: Int32Array; rows: number } | null = null;

  /** Starts from the means of pass 1 (the arrays are kept, not copied). */
  constructor(state: Pass2State, options: Pass2Options = {}) {
    const { numClasses: k, dim: d } = state;
    if (
      state.means.length !== k * d || state.stack.length !== 2 * k * d || state.meanLogits.length !== k * k ||
      state.meanDistances.length !== k * k
    ) {
      throw new Error(`pass-2 state does not match K = ${k}, d = ${d}`);
    }
    this.numClasses = k;
    this.dim = d;
    this.#names = { ...DEFAULT_INPUT_NAMES, ...options.names };
    this.#mu = state.means;
    this.#stack = state.stack;
    this.#meanLogits = state.meanLogits;
    this.#meanDist = state.meanDistances;
    this.#featureShift = state.featureShift;
    this.#counts = new Float64Array(k);
    this.#scatter = new Float64Array(k * k);
    this.#sqDist = new Float64Array(k);
    const factory = options.projector ?? null;
    this.#native = !factory && pass2UsesNativeKernels(k);
    const rows = factory || this.#native ? PROJECTOR_ROWS : CHUNK_ROWS;
    this.#eBuf = new Float64Array(factory ? 0 : rows * d);
    this.#oBuf = new Float64Array(rows * 2 * k);
    this.#zt = new Float64Array(this.#native ? k * PROJECTOR_ROWS : 0);
    this.#block = new Float64Array(this.#native ? k * k : 0);
    this.#projector = factory ? factory(Float32Array.from(state.stack), 2 * k, d) : null;
    this.#e32 = new Float32Array(factory ? PROJECTOR_ROWS * d : 0);
  }

  /** Adds a batch of features [n, d] with labels [n], samples of pass 1. */
  add(features: FeatureArray, labels: ArrayLike<number>): void {
    if (this.#pending !== null) throw new Error("Pass2Accumulator.add while a block is in flight: await flush() first");
    const n = checkBatch(features, labels, this.#n, this.numClasses, this.dim, this.#names);
    const d = this.dim;
    const m = 2 * this.numClasses;
    const projector = this.#projector;
    const chunk = projector || this.#native ? PROJECTOR_ROWS : CHUNK_ROWS;
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      this.#centre(features, labels, start, rows);
      if (projector) {
        const e32 = this.#e32.subarray(0, rows * d);
        if (projector.projectWithScatter) {
          this.#takeProjection(projector.projectWithScatter(e32, rows, this.numClasses), rows);
        } else {
          const out = projector.project(e32, rows);
          if (out.length !== rows * m) {
            throw new Error(`projector returned ${out.length} values for ${rows} rows × ${m}, expected ${rows * m}`);
          }
          this.#oBuf.set(out);
        }
      } else if (this.#native) {
        gemm(this.#eBuf, this.#stack, this.#oBuf, rows, m, d);
        this.#nativeScatter(rows);
      } else {
        gemmNT(this.#eBuf, this.#stack, this.#oBuf, rows, m, d);
      }
      const scatterDone = projector?.projectWithScatter !== undefined || this.#native;
      for (let r = 0; r < rows; r++) this.#scoreRow(r, labels[start + r], !scatterDone);
    }
    this.#n += n;
  }

  /**
   * {@linkcode add}, pipelined where the projector can run on another thread
   * (`projectWithScatterAsync`): each block's product is computed there
   * while this thread centres the next block and scores the one before, so
   * the JavaScript work overlaps TensorFlow's. The last block is scored by
   * {@linkcode flush}, which must come before {@linkcode sums}. The same sums
   * as {@linkcode add}, in the same order. Without such a projector it is `add`.
   */
  async addAsync(features: FeatureArray, labels: ArrayLike<number>): Promise<void> {
    const projector = this.#projector;
    if (!projector?.projectWithScatterAsync) return this.add(features, labels);
    const n = checkBatch(features, labels, this.#n, this.numClasses, this.dim, this.#names);
    const d = this.dim;
    for (let start = 0; start < n; start += PROJECTOR_ROWS) {
      const rows = Math.min(PROJECTOR_ROWS, n - start);
      this.#centre(features, labels, start, rows);
      const result = projector.projectWithScatterAsync(this.#e32.subarray(0, rows * d), rows, this.numClasses);
      result.catch(() => {}); // awaited below or by flush(); not an unhandled rejection if an earlier block fails
      const blockLabels = new Int32Array(rows);
      for (let r = 0; r < rows; r++) blockLabels[r] = labels[start + r];
      await this.flush();
      this.#pending = { result, labels: blockLabels, rows };
    }
    this.#n += n;
  }

  /** Waits for the block in flight, if any, and scores it. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    this.#takeProjection(await pending.result, pending.rows);
    for (let r = 0; r < pending.rows; r++) this.#scoreRow(r, pending.labels[r], false);
  }

  /** Centres rows [start, start + rows) of the batch into the product's input buffer, adding their ‖e‖² and counts. */
  #centre(features: FeatureArray, labels: ArrayLike<number>, start: number, rows: number): void {
    const d = this.dim;
    const mu = this.#mu;
    const f = 2 ** this.#featureShift;
    // A projector takes the centred rows rounded to float32: written so directly (the same rounding).
    const out = this.#projector ? this.#e32 : this.#eBuf;
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      const y = labels[i];
      const hOff = i * d;
      const mOff = y * d;
      const eOff = r * d;
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const t = features[hOff + j] * f - mu[mOff + j];
        out[eOff + j] = t;
        sq += t * t;
      }
      if (!Number.isFinite(sq)) {
        assertFinite(features.subarray(hOff, hOff + d), this.#names.features, d, this.#n + i);
        throw new UserError(
          `${this.#names.features}: row ${this.#n + i} is far larger in pass 2 than any row of pass 1; ` +
            "pass 2 must revisit exactly the samples of pass 1",
        );
      }
      this.#sqDist[y] += sq;
      this.#counts[y]++;
    }
  }

  /** The product of a block of `rows` into the product buffer and its scatter into S. */
  #takeProjection(both: ProjectionWithScatter, rows: number): void {
    const m = 2 * this.numClasses;
    if (both.product.length !== rows * m) {
      throw new Error(`projector returned ${both.product.length} values for ${rows} rows × ${m}, expected ${rows * m}`);
    }
    this.#addScatter(both.scatter);
    this.#oBuf.set(both.product);
  }

  /** Copies of the sums so far. */
  sums(): Pass2Sums {
    if (this.#pending !== null) {
      throw new Error("Pass2Accumulator.sums while a block is in flight: await flush() first");
    }
    return {
      counts: this.#counts.slice(),
      scatter: this.#scatter.slice(),
      sqDist: this.#sqDist.slice(),
      top1: this.#top1,
      top5: this.#top5,
      nccMismatch: this.#nccMismatch,
      n: this.#n,
    };
  }

  /** Adds sums over other samples (another accumulator's {@linkcode Pass2Accumulator.sums}) to these. */
  merge(sums: Pass2Sums): void {
    const k = this.numClasses;
    if (sums.counts.length !== k || sums.sqDist.length !== k || sums.scatter.length !== k * k) {
      throw new Error(`pass-2 sums do not match K = ${k}`);
    }
    for (let c = 0; c < k; c++) {
      this.#counts[c] += sums.counts[c];
      this.#sqDist[c] += sums.sqDist[c];
    }
    for (let i = 0; i < k * k; i++) this.#scatter[i] += sums.scatter[i];
    this.#top1 += sums.top1;
    this.#top5 += sums.top5;
    this.#nccMismatch += sums.nccMismatch;
    this.#n += sums.n;
  }

  /** Frees the projector, if any. */
  dispose(): void {
    const projector = this.#projector;
    this.#projector = null;
    // A block still in flight (an error ended the pass) must finish before its projector's memory goes.
    if (this.#pending !== null) this.#pending.result.finally(() => projector?.dispose()).catch(() => {});
    else projector?.dispose();
    this.#pending = null;
  }

  /** S += ZᵀZ for the first `rows` rows' z (the first K columns of the product buffer), as one float64 product. */
  #nativeScatter(rows: number): void {
    const k = this.numClasses;
    const o = this.#oBuf;
    const zt = this.#zt;
    for (let r = 0; r < rows; r++) {
      const row = r * 2 * k;
      for (let a = 0; a < k; a++) zt[a * rows + r] = o[row + a];
    }
    const g = this.#block;
    gemm(zt, zt, g, k, k, rows);
    const s = this.#scatter;
    for (let a = 0; a < k; a++) for (let c = a; c < k; c++) s[a * k + c] += g[a * k + c];
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
    const ml = this.#meanLogits;
    const mlOff = y * k;
    // The logits Wh + b = W e + (W μ_y + b): the true class's rank (as trueClassRank: ties go to the lower
    // index) and the prediction (first index on ties), in one pass without storing them.
    const ly = o[wOff + y] + ml[mlOff + y];
    let rank = 0;
    let pred = 0;
    let top = o[wOff] + ml[mlOff];
    for (let c = 0; c < k; c++) {
      const l = o[wOff + c] + ml[mlOff + c];
      if (l > ly || (l === ly && c < y)) rank++;
      if (l > top) {
        top = l;
        pred = c;
      }
    }
    if (rank === 0) this.#top1++;
    if (rank < 5) this.#top5++;
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
}
