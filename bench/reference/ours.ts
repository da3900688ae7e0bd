/**
 * Our side of `deno task bench-reference`, doing the same work as
 * `reference_bench.py`: a WideResNet-50 training step (`createModel` +
 * `Optimizer` + `trainStep`, cross entropy, SGD lr 0.1 momentum 0.9 weight
 * decay 5e-4, clip 2, batch 100 of 32×32×3, K = 10) on the active tfjs
 * backend, and `neuralCollapseMetrics` on features held in memory.
 * Each repetition is timed alone so that the caller can take the median.
 *
 * @module
 */
import { tf } from "../../src/backend/mod.ts";
import { allVariables, createModel, type ModelConfig } from "../../src/models/mod.ts";
import { crossEntropy } from "../../src/losses/mod.ts";
import { Optimizer } from "../../src/train/optimizer.ts";
import { trainStep } from "../../src/train/train.ts";
import {
  type NeuralCollapseMetrics,
  neuralCollapseMetrics,
  type ProjectorFactory,
  type SyntheticFeatures,
} from "../../src/metrics/mod.ts";
import { Rng } from "../../src/rng.ts";

/** Seconds of each timed repetition, after the untimed warm-up ones. */
export interface RepTimes {
  seconds: number[];
  /** Tensors left behind by the workload (0 expected). */
  leakedTensors: number;
}

/**
 * Times `reps` training steps of the reference's WideResNet-50 at `width`
 * on the active backend, after `warmup` untimed ones. Each step ends by
 * reading the batch statistics back, as the training loop does, so
 * asynchronous backends cannot hide work.
 *
 * @example
 * ```ts
 * const { seconds } = await timeTrainingSteps(0.25, 5, 2);
 * const imagesPerSecond = 100 / median(seconds);
 * ```
 */
export async function timeTrainingSteps(
  width: number,
  reps: number,
  warmup: number,
  batch = 100,
  numClasses = 10,
): Promise<RepTimes> {
  const before = tf.memory().numTensors;
  const cfg: ModelConfig = {
    model: "wide_resnet50",
    numClasses,
    sampleShape: [32, 32, 3],
    width,
    bias: true,
    seed: 1,
  };
  const model = createModel(cfg);
  const optimizer = new Optimizer(model.store.trainable.map((v) => v.variable), {
    opt: "sgd",
    momentum: 0.9,
    weightDecay: 5e-4,
    nesterov: false,
  });
  const rng = new Rng(2);
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal());
  const y = Int32Array.from({ length: batch }, () => rng.int(numClasses));
  const step = async () => {
    const stats = trainStep(model, optimizer, crossEntropy, x, y, cfg.sampleShape, 0.1, 2);
    await stats.data();
    stats.dispose();
  };
  const seconds: number[] = [];
  try {
    for (let i = 0; i < warmup; i++) await step();
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await step();
      seconds.push((performance.now() - t0) / 1000);
    }
  } finally {
    optimizer.dispose();
    tf.dispose(allVariables(model).map((v) => v.variable));
  }
  return { seconds, leakedTensors: tf.memory().numTensors - before };
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
