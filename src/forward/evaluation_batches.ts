/**
 * The batches an evaluation pass reads: their size, and the split in split
 * order without augmentation, normalised once where it is small enough.
 *
 * @module
 */
import { graphInputArray } from "../backend/graph/graph_runner.ts";
import { batches, keepsNormalised, normalisedBatches, normaliseSplit } from "../data/batches.ts";
import type { Dataset, Split } from "../data/types.ts";
import type { Model } from "../models/mod.ts";
import type { Batch } from "./evaluate_batch.ts";

/**
 * The evaluation batch of models on vector data (the MLP). Batch size changes
 * no result in evaluation mode, only speed: on the native backend each op
 * costs tens of microseconds whatever its size, so an MLP evaluated in
 * batches of 128 spent most of its time dispatching ops (33 000 images/s
 * against 100 000 at 4 096, measured on the 2-core machine).
 */
export const EVALUATION_BATCH_VECTORS = 4096;

/**
 * The batch to evaluate `model` with: `requested` for convolutional networks
 * (whose activations grow with the batch), at least
 * {@linkcode EVALUATION_BATCH_VECTORS} for the MLP.
 *
 * @example
 * ```ts
 * evaluationBatchSize({ name: "mlp" }, 128); // 4096
 * evaluationBatchSize({ name: "wide_resnet50" }, 128); // 128
 * ```
 */
export function evaluationBatchSize(model: Pick<Model, "name">, requested: number): number {
  return model.name === "mlp" ? Math.max(requested, EVALUATION_BATCH_VECTORS) : requested;
}

/**
 * Batches of `split` in split order without augmentation, for evaluation
 * passes: views of the split normalised once and kept in `kept` where it is
 * small enough (`keepsNormalised`), else written batch by batch into memory
 * that TensorFlow reads in place. The same values either way.
 *
 * @example
 * ```ts
 * const kept = new Map();
 * for (let epoch = 0; epoch < 3; epoch++) await evaluateBatches(model, loss, evaluationBatches(ds, ds.val, 4096, kept), ds.sampleShape);
 * ```
 */
export function evaluationBatches(
  ds: Dataset,
  split: Split,
  batchSize: number,
  kept?: Map<Split, Float32Array>,
): Iterable<Batch> {
  if (kept === undefined || !keepsNormalised(ds, split)) {
    return batches(ds, split, { batchSize, allocate: graphInputArray });
  }
  let x = kept.get(split);
  if (x === undefined) kept.set(split, x = normaliseSplit(ds, split, graphInputArray));
  return normalisedBatches(x, split, ds.sampleShape, batchSize);
}
