/**
 * The forward pass of one batch in evaluation mode (batch norm with running
 * statistics): its loss, top-1 / top-5 hits and, when asked, its features; as
 * a TensorFlow graph on the native backend.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import type { LossFn } from "../losses/mod.ts";
import { allVariables, type Model } from "../models/mod.ts";
import { copyInto, GraphRunner } from "../backend/graph/graph_runner.ts";

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
