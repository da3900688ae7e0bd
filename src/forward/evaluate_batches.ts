/**
 * Loss and top-1 / top-5 accuracy of a model over a split, in evaluation mode
 * (batch norm with running statistics, no augmentation).
 *
 * @module
 */
import type { LossFn } from "../losses/mod.ts";
import type { Model } from "../models/mod.ts";
import { type Batch, evaluateBatch, scoresFromSums, type SplitScores } from "./evaluate_batch.ts";

/** Evaluates `model` with `loss` over `batches`, whose shape is `sampleShape`. */
export async function evaluateBatches(
  model: Model,
  loss: LossFn,
  batches: Iterable<Batch>,
  sampleShape: number[],
): Promise<SplitScores> {
  const sums = new Float64Array(3);
  let n = 0;
  for (const b of batches) {
    const { stats } = evaluateBatch(model, loss, b, sampleShape, false);
    for (let i = 0; i < 3; i++) sums[i] += stats[i];
    n += b.n;
    await Promise.resolve(); // let timers and signals run between batches
  }
  return scoresFromSums(sums, n);
}
