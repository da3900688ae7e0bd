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

/**
 * Every neural-collapse metric of features [N, d] (row-major) with labels [N]
 * in {0 … K−1}, classifier weights W [K, d] and bias b [K] (null for b = 0).
 * N is `labels.length`; d and K follow from the array lengths. Runs both passes
 * of {@linkcode NeuralCollapseAccumulator} over the arrays; see there for the
 * formulas, the pseudo-inverse tolerance and the degenerate cases.
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
  options: AccumulatorOptions = {},
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
  const acc = new NeuralCollapseAccumulator(k, d, weights, bias, options);
  acc.addPass1(features, labels);
  acc.startPass2();
  acc.addPass2(features, labels);
  return acc.result();
}
