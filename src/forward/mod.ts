/**
 * The forward pass over a split, in evaluation mode, shared by training's
 * validation and by evaluation: one batch at a time (`evaluateBatch`: loss,
 * top-1 / top-5 hits, features), the batches of a split (`evaluationBatches`),
 * the loss and accuracies over them (`evaluateBatches`), and moving a
 * checkpoint's values into and out of a model's variables (`restoreVariables`,
 * `saveCheckpoint`). Sits above `models/`
 * and `run/`, below `train/` and `evaluate/`, so that neither of those
 * imports the other.
 *
 * @example
 * ```ts
 * import { evaluateBatches, evaluationBatches, evaluationBatchSize } from "./mod.ts";
 *
 * const batch = evaluationBatchSize(model, 128);
 * const scores = await evaluateBatches(model, loss, evaluationBatches(ds, ds.test, batch), ds.sampleShape);
 * scores.top1; // percent
 * ```
 *
 * @module
 */
export {
  type Batch,
  type BatchEvaluation,
  batchStats,
  evaluateBatch,
  scoresFromSums,
  type SplitScores,
} from "./evaluate_batch.ts";
export { EVALUATION_BATCH_VECTORS, evaluationBatches, evaluationBatchSize } from "./evaluation_batches.ts";
export { evaluateBatches } from "./evaluate_batches.ts";
export { restoreVariables, saveCheckpoint, snapshot } from "./checkpoint_variables.ts";
