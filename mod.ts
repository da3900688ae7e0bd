/**
 * Neural Collapse under different losses, on TensorFlow.js and Deno: a
 * reproduction and extension of *Are All Losses Created Equal: A Neural
 * Collapse Perspective* (Zhou et al., NeurIPS 2022).
 *
 * Measuring collapse of any features takes five lines:
 *
 * @example
 * ```ts
 * import { neuralCollapseMetrics } from "./mod.ts";
 * // features [N, d], labels [N], classifier W [K, d] and bias b [K] (or null)
 * const m = neuralCollapseMetrics(features, labels, W, b);
 * console.log(m.nc1, m.nc2, m.nc3, m.nc4_bias, m.top1);
 * ```
 *
 * Training, evaluation, figures and the unconstrained feature model are
 * exported too; the `deno task` entry points in `tasks/` are thin wrappers
 * over these functions.
 *
 * @module
 */
export * from "./src/metrics/mod.ts";
export {
  crossEntropy,
  DEFAULT_LOSS_PARAMS,
  focalLoss,
  labelSmoothing,
  LOSS_NAMES,
  type LossFn,
  type LossName,
  type LossParams,
  lossParamsFor,
  makeLoss,
  meanSquareError,
} from "./src/losses/mod.ts";
export {
  countTrainableParameters,
  createMlp,
  createModel,
  createResNet18,
  createWideResNet50,
  type ForwardOutput,
  type Model,
  MODEL_NAMES,
  type ModelConfig,
} from "./src/models/mod.ts";
export {
  batches,
  type Dataset,
  DATASET_NAMES,
  describeDataset,
  downloadCifar,
  loadDataset,
  makeSyntheticDataset,
  type Split,
} from "./src/data/mod.ts";
export { DEFAULT_CONFIG, type TrainConfig } from "./src/run/train_config.ts";
export { type EpochRecord, type TrainResult, trainRun } from "./src/train/train.ts";
export { evaluateRun } from "./src/evaluate/evaluate_run.ts";
export type { RunInfo } from "./src/run/info.ts";
export { type BackendInfo, BACKENDS, selectBackend, tf } from "./src/backend/mod.ts";
export { tfProjector } from "./src/backend/projector.ts";
export { readNpy, writeNpy } from "./src/arrays/npy.ts";
export { Rng } from "./src/rng.ts";
export { UserError } from "./src/errors.ts";
