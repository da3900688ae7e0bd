/**
 * Our side of `deno task bench-reference`, doing the same work as
 * `reference_bench.py`: one workload of `REFERENCE_WORKLOADS` (a training
 * step with `createModel` + `Optimizer` + `graphTrainStep` (TensorFlow graphs on
 * the native backend, `trainStep` elsewhere, as training does), cross entropy, SGD lr
 * 0.1 momentum 0.9 weight decay 5e-4, clip 2, batch 100, K = 10; or the MLP's
 * evaluation passes) on the active tfjs backend, and `neuralCollapseMetrics`
 * on features held in memory.
 * Each repetition is timed alone so that the caller can take the median.
 *
 * @module
 */
import process from "node:process";
import { tf } from "../../src/backend/mod.ts";
import { allVariables, createModel } from "../../src/models/mod.ts";
import { crossEntropy } from "../../src/losses/mod.ts";
import { Optimizer, REFERENCE_SGD } from "../../src/train/optimizer.ts";
import { graphTrainStep, trainingGraph, trainStep } from "../../src/train/train.ts";
import {
  type NeuralCollapseMetrics,
  neuralCollapseMetrics,
  type ProjectorFactory,
  type SyntheticFeatures,
} from "../../src/metrics/mod.ts";
import { randomBatch } from "../workloads.ts";
import { evaluateBatch } from "../../src/forward/mod.ts";
import { graphInputArray } from "../../src/backend/graph/graph_runner.ts";
import type { WorkloadSpec } from "./compare.ts";

/** Seconds of each timed repetition, after the untimed warm-up ones. */
export interface RepTimes {
  seconds: number[];
  /** Tensors left behind by the workload (0 expected). */
  leakedTensors: number;
}

/**
 * Times `reps` one-shot measurements of every neural-collapse metric on
 * `data` with `neuralCollapseMetrics` (float64, or float32 products with
 * `projector`); returns the times and the last result.
 */
export function timeMetrics(
  data: SyntheticFeatures,
  reps: number,
  projector?: ProjectorFactory,
): { seconds: number[]; metrics: NeuralCollapseMetrics } {
  const seconds: number[] = [];
  let metrics: NeuralCollapseMetrics | undefined;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    metrics = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { projector });
    seconds.push((performance.now() - t0) / 1000);
  }
  return { seconds, metrics: metrics! };
}

/**
 * The process's peak resident set so far (getrusage's `ru_maxrss`, as
 * PyTorch's side reads it), in bytes; null where unavailable.
 */
export function peakRssBytes(): number | null {
  try {
    return process.resourceUsage().maxRSS * 1024;
  } catch {
    return null;
  }
}

/** Options of {@linkcode timeWorkload}. */
export interface WorkloadTiming {
  reps: number;
  warmup: number;
  /** Steps timed together per repetition (training). */
  stepsPerRep: number;
  /** Evaluation: batch and samples per pass. */
  evalBatch: number;
  evalSamples: number;
}

/**
 * Times one workload of `REFERENCE_WORKLOADS` on the active backend: seconds
 * per training step (batch 100; each step ends by reading the batch
 * statistics back, as the training loop does) or per
 * evaluation pass over `evalSamples` random inputs in batches of `evalBatch`,
 * each batch doing what `deno task evaluate` does: forward in evaluation
 * mode, the loss, the top-1/top-5 hits, and the features and statistics read
 * back (the features into the pass's feature memory, as `evaluate` keeps
 * them for its second pass). Returns the repetitions' seconds, images/s of the median, and the
 * number of trainable parameters.
 *
 * @example
 * ```ts
 * const r = await timeWorkload(REFERENCE_WORKLOADS["mlp"], { reps: 5, warmup: 2, stepsPerRep: 50, evalBatch: 1000, evalSamples: 10000 });
 * ```
 */
export async function timeWorkload(
  spec: WorkloadSpec,
  t: WorkloadTiming,
): Promise<RepTimes & { imagesPerSecond: number; params: number }> {
  const before = tf.memory().numTensors;
  const numClasses = 10;
  const model = createModel({
    model: spec.model,
    numClasses,
    sampleShape: spec.sampleShape,
    width: spec.width,
    bias: true,
    seed: 1,
  });
  const params = model.store.trainable.reduce((s, v) => s + v.variable.size, 0);
  const optimizer = new Optimizer(model.store.trainable.map((v) => v.variable), REFERENCE_SGD);
  const sampleSize = spec.sampleShape.reduce((a, b) => a * b, 1);
  const n = spec.kind === "train" ? 100 : t.evalSamples;
  const { x, y } = randomBatch(n, spec.sampleShape, numClasses);
  // The paths `deno task train` and `evaluate` take: TensorFlow graphs on the native backend, else op by op.
  const graph = trainingGraph(model, optimizer);
  const trainOnce = async () => {
    if (graph) {
      graphTrainStep(graph, model, optimizer, crossEntropy, x, y, spec.sampleShape, 0.1, 2);
      return;
    }
    const stats = trainStep(model, optimizer, crossEntropy, x, y, spec.sampleShape, 0.1, 2);
    await stats.data();
    stats.dispose();
  };
  // As `deno task evaluate` holds them: batches in memory that TensorFlow reads in place (batches() allocates
  // them with graphInputArray), the features written into memory kept from pass to pass (its feature cache).
  const evalX = spec.kind === "eval" ? graphInputArray(x.length) : x;
  if (spec.kind === "eval") evalX.set(x);
  const features = new Float32Array(spec.kind === "eval" ? n * model.featureDim : 0);
  const evaluateOnce = async () => {
    for (let s = 0; s < n; s += t.evalBatch) {
      const m = Math.min(t.evalBatch, n - s);
      const batch = { x: evalX.subarray(s * sampleSize, (s + m) * sampleSize), y: y.subarray(s, s + m), n: m };
      const into = features.subarray(s * model.featureDim, (s + m) * model.featureDim);
      evaluateBatch(model, crossEntropy, batch, spec.sampleShape, true, into);
      await Promise.resolve();
    }
  };
  const once = spec.kind === "train" ? trainOnce : evaluateOnce;
  const steps = t.stepsPerRep;
  const seconds: number[] = [];
  try {
    for (let i = 0; i < t.warmup * steps; i++) await once();
    for (let i = 0; i < t.reps; i++) {
      const t0 = performance.now();
      for (let j = 0; j < steps; j++) await once();
      seconds.push((performance.now() - t0) / 1000 / steps);
    }
  } finally {
    graph?.dispose();
    optimizer.dispose();
    tf.dispose(allVariables(model).map((v) => v.variable));
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  const mid = sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { seconds, leakedTensors: tf.memory().numTensors - before, imagesPerSecond: n / mid, params };
}
