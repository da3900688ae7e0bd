/**
 * One-shot neural-collapse measurement of features held in memory.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import {
  type AccumulatorOptions,
  type FeatureArray,
  NeuralCollapseAccumulator,
} from "./neural_collapse_accumulator.ts";
import { DEFAULT_INPUT_NAMES, type NeuralCollapseMetrics } from "./types.ts";
import { addPass2Parallel, startHelpers, stopHelpers } from "./_parallel_pass2.ts";
import { pass2UsesNativeKernels } from "./pass2_accumulator.ts";

/** Options of {@linkcode neuralCollapseMetrics}. */
export interface NeuralCollapseMetricsOptions extends AccumulatorOptions {
  /**
   * Threads for pass 2 (default 2; 1 = this thread only). Extra threads are
   * Workers; where they cannot start, this thread does their share. Unused
   * with a `projector`, whose matrix product brings its own threads.
   */
  threads?: number;
}

/**
 * Below this many multiply-adds of pass 2 (N·d·K) starting a worker and
 * copying its rows costs more than it saves.
 */
const PARALLEL_MIN_WORK = 2 ** 27;

/**
 * Every neural-collapse metric of features [N, d] (row-major) with labels [N]
 * in {0 … K−1}, classifier weights W [K, d] and bias b [K] (null for b = 0).
 * N is `labels.length`; d and K follow from the array lengths. Runs both passes
 * of {@linkcode NeuralCollapseAccumulator} over the arrays; see there for the
 * formulas, the pseudo-inverse tolerance and the degenerate cases.
 *
 * Pass 2, nearly all the time on large inputs, runs on `options.threads`
 * threads (default 2); the result equals the one-thread result up to the
 * order of float64 sums (≲ 1e-12 relative). With `options.projector` pass 2's
 * products are float32 matrix products instead (for example on a tfjs
 * backend, {@linkcode tfProjector} in `src/backend/projector.ts`): several
 * times faster, ≈ 1e-6 relative on NC1 (see the accumulator's notes).
 *
 * @example
 * ```ts
 * // K = 2 classes in d = 1: features ±1 exactly on their class means.
 * const m = neuralCollapseMetrics(
 *   new Float64Array([1, -1, 1, -1]), [0, 1, 0, 1],
 *   new Float64Array([1, -1]), null,
 * );
 * // m.nc1 === 0, m.top1 === 100
 * ```
 */
export function neuralCollapseMetrics(
  features: FeatureArray,
  labels: ArrayLike<number>,
  weights: FeatureArray,
  bias: FeatureArray | null,
  options: NeuralCollapseMetricsOptions = {},
): NeuralCollapseMetrics {
  const names = { ...DEFAULT_INPUT_NAMES, ...options.names };
  const n = labels.length;
  if (n === 0) throw new UserError(`${names.labels}: no samples`);
  if (features.length % n !== 0 || features.length === 0) {
    throw new UserError(`${names.features}: ${features.length} values do not form ${n} rows (one per label)`);
  }
  const d = features.length / n;
  if (weights.length % d !== 0 || weights.length === 0) {
    throw new UserError(
      `${names.weights}: ${weights.length} values do not form rows of the feature dimension d = ${d}`,
    );
  }
  const k = weights.length / d;
  const threads = options.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UserError(`threads must be a positive integer, got ${threads}`);
  }
  const acc = new NeuralCollapseAccumulator(k, d, weights, bias, options);
  // Started before pass 1 so that their modules load meanwhile.
  const parallel = threads > 1 && n * d * k >= PARALLEL_MIN_WORK && !options.projector && !pass2UsesNativeKernels(k);
  const helpers = parallel ? startHelpers(threads - 1) : [];
  try {
    // Pass 1 validates every label and feature, so no error is left for the helpers to find.
    acc.addPass1(features, labels);
    acc.startPass2();
    if (helpers.length > 0) addPass2Parallel(acc, features, labels, helpers);
    else acc.addPass2(features, labels);
    return acc.result();
  } finally {
    stopHelpers(helpers);
    acc.dispose();
  }
}
