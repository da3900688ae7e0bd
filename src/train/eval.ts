/**
 * Loss and top-1 / top-5 accuracy of a model over a split, in evaluation mode
 * (batch norm with running statistics, no augmentation).
 */
import { tf } from "../backend/tf.ts";
import type { LossFn } from "../losses/mod.ts";
import { allVariables, type Model } from "../models/mod.ts";
import { copyInto, graphInputArray, GraphRunner } from "../backend/graph/graph_runner.ts";
import { batches, keepsNormalised, normalisedBatches, normaliseSplit } from "../data/batches.ts";
import type { Dataset, Split } from "../data/types.ts";

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

/** What {@linkcode evaluateBatch} returns for one batch. */
export interface BatchEvaluation {
  /** The features h, `[n, d]` row-major (when asked for). */
  features?: Float32Array;
  /** The batch's mean loss (float32, as the loss function returns it). */
  meanLoss: number;
  /** `[loss sum, top-1 hits, top-5 hits]`, as {@linkcode batchStats}. */
  stats: Float32Array;
}

const evaluationGraphs = new WeakMap<Model, GraphRunner | null>();
/** Frees a model's evaluation graphs (TensorFlow memory, a copy of its weights) once the model is collected. */
const releaseGraphs = new FinalizationRegistry<GraphRunner>((graph) => graph.dispose());
const lossIds = new WeakMap<LossFn, number>();
let lossCount = 0;

/**
 * The forward pass of one batch in evaluation mode: the loss, the top-1/top-5
 * hits and, with `withFeatures`, the features, in a new array or written into
 * `featuresInto` (`n·d` values, returned as `features`). On the native
 * backend it runs as a TensorFlow graph per model, loss and batch size (the
 * same ops, so the same numbers, without the per-op dispatch;
 * `src/backend/graph`), which uploads the weights again whenever they
 * changed, and reads a batch from `graphInputArray` memory in place.
 */
export function evaluateBatch(
  model: Model,
  loss: LossFn,
  batch: Batch,
  sampleShape: number[],
  withFeatures: boolean,
  featuresInto?: Float32Array,
): BatchEvaluation {
  const x = batch.x.subarray(0, batch.n * sampleShape.reduce((a, c) => a * c, 1));
  const y = batch.y.subarray(0, batch.n);
  const body = (xs: tf.Tensor, ys: tf.Tensor1D): tf.Tensor[] => {
    const { logits, features } = model.forward(xs, false);
    const meanLoss = loss(logits, ys);
    return [batchStats(logits, ys, meanLoss), meanLoss, ...(withFeatures ? [features] : [])];
  };
  const graph = evaluationGraph(model);
  let out: (Float32Array | Int32Array)[];
  if (graph) {
    if (!lossIds.has(loss)) lossIds.set(loss, ++lossCount);
    const key = `eval ${batch.n} loss ${lossIds.get(loss)} features ${withFeatures}`;
    out = graph.run(
      key,
      [
        { values: x, shape: [batch.n, ...sampleShape], dtype: "float32" },
        { values: y, shape: [batch.n], dtype: "int32" },
      ],
      ([xs, ys]) => tf.tidy(() => body(xs, ys as tf.Tensor1D)),
      [undefined, undefined, withFeatures ? featuresInto : undefined],
    );
  } else {
    const tensors = tf.tidy(() => body(tf.tensor(x, [batch.n, ...sampleShape]), tf.tensor1d(y, "int32")));
    try {
      out = tensors.map((t, i) => copyInto(t.dataSync() as Float32Array, i === 2 ? featuresInto : undefined));
    } finally {
      tf.dispose(tensors);
    }
  }
  return {
    stats: out[0] as Float32Array,
    meanLoss: out[1][0],
    features: withFeatures ? out[2] as Float32Array : undefined,
  };
}

/** The evaluation graphs of `model`, or null where graphs cannot run (another backend, for one). */
function evaluationGraph(model: Model): GraphRunner | null {
  if (tf.getBackend() !== "tensorflow") return null;
  if (!evaluationGraphs.has(model)) {
    const graph = GraphRunner.create(allVariables(model).map((v) => v.variable), { updatesVariables: false });
    evaluationGraphs.set(model, graph);
    if (graph) releaseGraphs.register(model, graph);
  }
  return evaluationGraphs.get(model) ?? null;
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
