/**
 * Loss and top-1 / top-5 accuracy of a model over a split, in evaluation mode
 * (batch norm with running statistics, no augmentation).
 */
import { tf } from "../backend/tf.ts";
import type { LossFn } from "../losses/mod.ts";
import type { Model } from "../models/mod.ts";

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

/** A batch as the loaders produce it: `x` `[n, ...sampleShape]` flattened, labels `[n]`. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** Loss (mean) and accuracies (percent) over a split. */
export interface SplitScores {
  loss: number;
  top1: number;
  top5: number;
}

/**
 * Sum of the loss and the numbers of top-1 and top-5 hits in a batch, as one
 * `[3]` tensor (so one synchronisation per batch fetches all three).
 */
export function batchStats(logits: tf.Tensor2D, labels: tf.Tensor1D, meanLoss: tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => {
    const k = Math.min(5, logits.shape[1]);
    const { indices } = tf.topk(logits, k);
    const hits = tf.cast(tf.equal(indices, tf.reshape(labels, [-1, 1])), "float32");
    const top1 = tf.sum(tf.slice(hits, [0, 0], [-1, 1]));
    const topk = tf.sum(hits);
    return tf.stack([tf.mul(meanLoss, logits.shape[0]), top1, topk]) as tf.Tensor1D;
  });
}

/** Turns summed batch statistics into a {@linkcode SplitScores}. */
export function scoresFromSums(sums: Float64Array, n: number): SplitScores {
  return { loss: sums[0] / n, top1: (100 * sums[1]) / n, top5: (100 * sums[2]) / n };
}

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
    const stats = tf.tidy(() => {
      const x = tf.tensor(b.x.subarray(0, b.n * sampleShape.reduce((a, c) => a * c, 1)), [b.n, ...sampleShape]);
      const y = tf.tensor1d(b.y.subarray(0, b.n), "int32");
      const { logits } = model.forward(x, false);
      return batchStats(logits, y, loss(logits, y));
    });
    const v = await stats.data();
    stats.dispose();
    for (let i = 0; i < 3; i++) sums[i] += v[i];
    n += b.n;
  }
  return scoresFromSums(sums, n);
}
