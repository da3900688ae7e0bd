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

/** Options of {@linkcode measureBatches}. */
export interface MeasureBatchesOptions extends AccumulatorOptions {
  /** Threads of the float64 pass 2 (default 2); unused with a projector. */
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
  const acc = new NeuralCollapseAccumulator(k, dim, weights, bias, options);
  const helpers: Pass2Helper[] = threads > 1 && !options.projector ? startHelpers(threads - 1) : [];
  const progress = options.onProgress ?? (() => {});
  try {
    let done = 0;
    for await (const b of prefetched(source.batches())) {
      acc.addPass1(b.features, b.labels);
      done += b.labels.length;
      progress("pass 1", done, source.count);
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
      else acc.addPass2(b.features, b.labels);
      done += b.labels.length;
      progress("pass 2", done, source.count);
    }
    return acc.result();
  } finally {
    stopHelpers(helpers);
    acc.dispose();
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
