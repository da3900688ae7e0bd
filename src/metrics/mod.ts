/**
 * Neural-collapse metrics of last-layer features and a linear classifier:
 * the reference's NC1–NC4 (Zhou et al. 2022, `evaluate.py`) and, beyond it,
 * Papyan et al.'s nearest-class-centre NC4, equinorm, equiangularity,
 * max-angle and the CDNV, plus top-1/top-5 accuracy. Everything is
 * accumulated in float64 and streams over batches, so a 50 000 × 2048
 * measurement never holds all features at once.
 *
 * @example
 * ```ts
 * import { neuralCollapseMetrics } from "./src/metrics/mod.ts";
 * // features [N, d], labels [N], W [K, d], b [K] (or null)
 * const m = neuralCollapseMetrics(features, labels, W, b);
 * console.log(m.nc1, m.nc2, m.nc3, m.nc4_bias, m.top1);
 * ```
 *
 * @module
 */
export {
  type AccumulatorOptions,
  type FeatureArray,
  NeuralCollapseAccumulator,
  type Pass2State,
  type Pass2Sums,
  type ProjectionWithScatter,
  type Projector,
  type ProjectorFactory,
} from "./neural_collapse_accumulator.ts";
export { ClassMeans, ClassSums, type ClassSumsState, type FrozenMeans, type OodSum } from "./class_means.ts";
export { Pass2Accumulator, type Pass2Options, pass2UsesNativeKernels } from "./pass2_accumulator.ts";
export { metricsFromSums } from "./metrics_from_sums.ts";
export { neuralCollapseMetrics, type NeuralCollapseMetricsOptions } from "./neural_collapse_metrics.ts";
export {
  arraySource,
  type BatchSource,
  type LabelledBatch,
  type LayerBatch,
  type LayerBatchSource,
  measureBatches,
  type MeasureBatchesOptions,
  measureLayerBatches,
  type MeasureLayerBatchesOptions,
  PARALLEL_PASS1_VALUES,
  type UnlabelledSource,
} from "./measure_batches.ts";
export { simplexEtfDistance } from "./simplex_etf_distance.ts";
export { measurementBytes } from "./_gemm.ts";
export { type Float64Kernels, setFloat64Kernels } from "../float64_kernels.ts";
export { type SymmetricEigen, symmetricEigen } from "./symmetric_eigen.ts";
export { type SyntheticFeatures, syntheticFeatures } from "./synthetic_features.ts";
export { topKAccuracy, trueClassRank } from "./top_k_accuracy.ts";
export {
  DEFAULT_INPUT_NAMES,
  type InputNames,
  type MeasuredMetrics,
  type NeuralCollapseMetrics,
  type OutOfDistributionMetrics,
} from "./types.ts";
