/**
 * Neural-collapse measurement of samples that do not fit in memory: both
 * passes of {@linkcode NeuralCollapseAccumulator} over batches that a source
 * reads again from the start for each pass (files on disk, say), so that
 * memory is O(K·d + batch·d) whatever N is. This is the one two-pass loop over
 * batches: the measure and evaluate tasks and the benchmark run it.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import {
  type AccumulatorOptions,
  type FeatureArray,
  NeuralCollapseAccumulator,
} from "./neural_collapse_accumulator.ts";
import { addPass2Parallel, type Pass2Helper, startHelpers, stopHelpers } from "./_parallel_pass2.ts";
import { Pass1Helper } from "./_parallel_pass1.ts";
import { pass2UsesNativeKernels } from "./pass2_accumulator.ts";
import type { MeasuredMetrics } from "./types.ts";

/** A batch of samples: features [n, d] row-major, labels [n] in {0 … K−1}. */
export interface LabelledBatch {
  features: FeatureArray;
  labels: ArrayLike<number>;
}

/** Samples readable once per pass, from the first. */
export interface BatchSource {
  /** Total samples N (for progress). */
  readonly count: number;
  batches(): AsyncIterable<LabelledBatch>;
}

/** Features without labels (out-of-distribution samples), readable from the first. */
export interface UnlabelledSource {
  readonly count: number;
  batches(): AsyncIterable<FeatureArray>;
}

/**
 * Features [N, d] and labels [N] held in memory as a {@linkcode BatchSource}
 * of batches of `batchSize` rows (views, not copies).
 *
 * @example
 * ```ts
 * const m = await measureBatches(arraySource(features, labels, 512, 1000), 512, W, b);
 * ```
 */
export function arraySource(
  features: FeatureArray,
  labels: ArrayLike<number>,
  dim: number,
  batchSize: number,
): BatchSource {
  const n = labels.length;
  const rows = (start: number, end: number): ArrayLike<number> =>
    ArrayBuffer.isView(labels)
      ? (labels as unknown as Int32Array).subarray(start, end)
      : Array.from({ length: end - start }, (_, i) => labels[start + i]);
  return {
    count: n,
    async *batches() {
      for (let i = 0; i < n; i += batchSize) {
        const end = Math.min(n, i + batchSize);
        yield { features: features.subarray(i * dim, end * dim), labels: rows(i, end) };
      }
    },
  };
}

/**
 * Feature values N·d from which pass 1 is split between two threads: below,
 * starting the worker (about 0.1 s) costs more than half the pass saves.
 */
export const PARALLEL_PASS1_VALUES = 1 << 22;

/** Options of {@linkcode measureBatches}. */
export interface MeasureBatchesOptions extends AccumulatorOptions {
  /**
   * Threads (default 2): pass 1 splits its batches between this thread and a
   * worker; the float64 pass 2 in JavaScript (no projector, few classes)
   * splits its rows among this many. 1: everything on this thread, in the
   * order of the batches.
   */
  threads?: number;
  /** Out-of-distribution features, for NC5. */
  outOfDistribution?: UnlabelledSource;
  /** Called after each batch with the pass and the samples done in it. */
  onProgress?: (pass: "pass 1" | "pass 2" | "ood", done: number, total: number) => void;
}

/**
 * Every metric of {@linkcode NeuralCollapseAccumulator} (and NC5 with
 * out-of-distribution features) over the samples of `source`, read twice.
 * K = weights.length / d. The next batch is requested before the current one
 * is processed, so reading overlaps the arithmetic.
 *
 * @example
 * ```ts
 * const m = await measureBatches(source, 512, W, b, { threads: 2 }); // W [K, 512]
 * console.log(m.nc1, m.nc1_trace);
 * ```
 */
export async function measureBatches(
  source: BatchSource,
  dim: number,
  weights: FeatureArray,
  bias: FeatureArray | null,
  options: MeasureBatchesOptions = {},
): Promise<MeasuredMetrics> {
  const k = weights.length / dim;
  if (!Number.isInteger(k)) {
    throw new UserError(`weights: ${weights.length} values do not form rows of the feature dimension d = ${dim}`);
  }
  const threads = options.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UserError(`threads must be a positive integer, got ${threads}`);
  }
  let acc = new NeuralCollapseAccumulator(k, dim, weights, bias, options);
  // Pass 1 has a helper whenever threads are allowed and the pass is long enough to gain from one;
  // pass 2's float64 helpers only where pass 2 runs in JavaScript.
  const pass1Helper = threads > 1 && source.count * dim >= PARALLEL_PASS1_VALUES ? Pass1Helper.start(k, dim) : null;
  const helpers: Pass2Helper[] = threads > 1 && !options.projector && !pass2UsesNativeKernels(k)
    ? startHelpers(threads - 1)
    : [];
  const progress = options.onProgress ?? (() => {});
  try {
    let done = 0;
    for await (const b of prefetched(source.batches())) {
      const n = b.labels.length;
      const share = pass1Helper?.share(n) ?? 0;
      if (share > 0) await pass1Helper!.post(b.features, b.labels, share, done);
      if (pass1Helper?.failed) break;
      acc.addPass1(
        share > 0 ? b.features.subarray(share * dim) : b.features,
        share > 0 ? labelsFrom(b.labels, share) : b.labels,
        done + share,
      );
      done += n;
      progress("pass 1", done, source.count);
    }
    const part = pass1Helper ? await pass1Helper.finish() : null;
    pass1Helper?.stop(); // its work is done either way: its memory goes now, not after pass 2
    if (part !== null) acc.mergePass1(part);
    else if (pass1Helper !== null) {
      // The helper's share is lost (it failed, or its rows hold the data error to report): the pass again, alone.
      acc.dispose();
      acc = new NeuralCollapseAccumulator(k, dim, weights, bias, options);
      done = 0;
      for await (const b of prefetched(source.batches())) {
        acc.addPass1(b.features, b.labels);
        done += b.labels.length;
        progress("pass 1", done, source.count);
      }
    }
    const ood = options.outOfDistribution;
    if (ood !== undefined) {
      done = 0;
      for await (const f of prefetched(ood.batches())) {
        acc.addOutOfDistribution(f);
        done += f.length / dim;
        progress("ood", done, ood.count);
      }
    }
    acc.startPass2();
    done = 0;
    for await (const b of prefetched(source.batches())) {
      if (helpers.length > 0) addPass2Parallel(acc, b.features, b.labels, helpers);
      else await acc.addPass2Async(b.features, b.labels);
      done += b.labels.length;
      progress("pass 2", done, source.count);
    }
    await acc.flushPass2();
    return acc.result();
  } finally {
    pass1Helper?.stop();
    stopHelpers(helpers);
    acc.dispose();
  }
}

/** Labels [from, n) of a batch's labels [n]. */
function labelsFrom(labels: ArrayLike<number>, from: number): ArrayLike<number> {
  if (ArrayBuffer.isView(labels)) return (labels as unknown as Int32Array).subarray(from);
  return Array.from({ length: labels.length - from }, (_, i) => labels[from + i]);
}

/** A batch of every layer's features: `features[l]` is `[n, d_l]` row-major, labels `[n]`. */
export interface LayerBatch {
  features: FeatureArray[];
  labels: ArrayLike<number>;
}

/** The samples of {@linkcode measureLayerBatches}, readable once per pass, from the first. */
export interface LayerBatchSource {
  readonly count: number;
  batches(): AsyncIterable<LayerBatch>;
}

/** Options of {@linkcode measureLayerBatches}. */
export interface MeasureLayerBatchesOptions {
  /** Pass 2's projections as float32 matrix products (see {@linkcode AccumulatorOptions}). */
  projector?: AccumulatorOptions["projector"];
  /** Each layer's name, for error messages (`features of <name>`). */
  layerNames?: readonly string[];
}

/**
 * The metrics that need no classifier (NC1, CDNV, …) of several layers' features of the same samples, in the two
 * passes of {@linkcode measureBatches} with one accumulator per layer: memory O(Σ_l K·d_l + batch·Σ_l d_l),
 * whatever N is. Layer l has `dims[l]` features; K = `numClasses`. Each accumulator gets the zero classifier
 * W = 0 [K, d_l], so the classifier's metrics in the results (NC2, NC3, NC4, top-1, equinorm of W) are
 * meaningless: read only the metrics of `LAYER_METRICS` (`table.ts`). Returns one result per layer.
 *
 * @example
 * ```ts
 * const [first, last] = await measureLayerBatches(source, [256, 256], 10); // source yields { features: [h0, h1], labels }
 * console.log(first.nc1, last.nc1);
 * ```
 */
export async function measureLayerBatches(
  source: LayerBatchSource,
  dims: readonly number[],
  numClasses: number,
  options: MeasureLayerBatchesOptions = {},
): Promise<MeasuredMetrics[]> {
  const accs = dims.map((d, l) => {
    const name = options.layerNames?.[l];
    const names = name === undefined ? undefined : { features: `features of ${name}` };
    return new NeuralCollapseAccumulator(numClasses, d, new Float32Array(numClasses * d), null, {
      names,
      projector: options.projector,
    });
  });
  const each = (b: LayerBatch, add: (acc: NeuralCollapseAccumulator, f: FeatureArray) => void): void => {
    if (b.features.length !== accs.length) {
      throw new Error(`a batch holds ${b.features.length} layers' features, expected ${accs.length}`);
    }
    accs.forEach((acc, l) => add(acc, b.features[l]));
  };
  try {
    for await (const b of prefetched(source.batches())) each(b, (acc, f) => acc.addPass1(f, b.labels));
    for (const acc of accs) acc.startPass2();
    for await (const b of prefetched(source.batches())) each(b, (acc, f) => acc.addPass2(f, b.labels));
    return accs.map((acc) => acc.result());
  } finally {
    for (const acc of accs) acc.dispose();
  }
}

/** Yields the items of `it`, each time asking for the next one before handing out the current one. */
async function* prefetched<T>(it: AsyncIterable<T>): AsyncIterable<T> {
  const iterator = it[Symbol.asyncIterator]();
  try {
    let next = iterator.next();
    next.catch(() => {});
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = iterator.next();
      // Handled here so that a failed read is not reported as unhandled if the caller stops first.
      next.catch(() => {});
      // The caller's work on `current` runs while `next` reads.
      yield current.value;
    }
  } finally {
    await iterator.return?.();
  }
}
