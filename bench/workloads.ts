/**
 * What `deno task bench` measures on the active tfjs backend:
 *
 * - the GFLOP/s of one `n×n` by `n×n` float32 matMul (2n³ flops);
 * - images/s of a full training step (forward in training mode, cross-entropy,
 *   gradients of every variable, SGD with momentum, batch-norm statistics) of
 *   a model built by `src/models`, stepped by `src/train`'s `trainStep`;
 * - NumPy's GFLOP/s for the same product, as the yardstick.
 *
 * Every timing repeats the work until `minSeconds` have passed (at least
 * `minReps` times) after `warmup` untimed runs, and forces the result to be
 * read back so asynchronous backends cannot hide work. Besides wall-clock
 * time it records the process's CPU time (user + system, all threads): on a
 * shared machine the wall clock also counts other processes' turns, while
 * CPU time does not (for the single-threaded JS backends it is what the wall
 * clock would read on an idle machine).
 */
import process from "node:process";
import { tf } from "../src/backend/mod.ts";
import { createModel, type ModelConfig } from "../src/models/mod.ts";
import { crossEntropy } from "../src/losses/mod.ts";
import { Optimizer, REFERENCE_SGD } from "../src/train/optimizer.ts";
import { graphTrainStep, trainingGraph, trainStep } from "../src/train/train.ts";
import { Rng } from "../src/rng.ts";
import { allVariables } from "../src/models/mod.ts";

/** How long to time each workload. */
export interface TimingOptions {
  warmup: number;
  minReps: number;
  minSeconds: number;
}

/** Wall-clock and CPU seconds of one repetition, averaged over the timed repetitions. */
export interface Timing {
  seconds: number;
  cpuSeconds: number;
  reps: number;
}

/** Seconds per repetition of `fn` (total time / reps, after the warm-up). */
async function timePerRep(fn: () => Promise<void>, t: TimingOptions): Promise<Timing> {
  for (let i = 0; i < t.warmup; i++) await fn();
  let reps = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (reps < t.minReps || performance.now() - t0 < t.minSeconds * 1000) {
    await fn();
    reps++;
  }
  const seconds = (performance.now() - t0) / 1000 / reps;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 / reps, reps };
}

/**
 * GFLOP/s of `C = A B` with `A, B` of shape `[n, n]` (2n³ flops per product).
 *
 * @example
 * ```ts
 * const { gflops } = await matMulGflops(1024, { warmup: 1, minReps: 3, minSeconds: 2 });
 * ```
 */
export async function matMulGflops(n: number, t: TimingOptions): Promise<Timing & { gflops: number }> {
  const rng = new Rng(1);
  const a = tf.tensor2d(Float32Array.from({ length: n * n }, () => rng.normal()), [n, n]);
  const b = tf.tensor2d(Float32Array.from({ length: n * n }, () => rng.normal()), [n, n]);
  try {
    const timing = await timePerRep(async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    }, t);
    return { ...timing, gflops: (2 * n ** 3) / timing.seconds / 1e9 };
  } finally {
    tf.dispose([a, b]);
  }
}

/** A model to train in {@linkcode trainStepThroughput}. */
export interface StepWorkload {
  /** Passed to `createModel`. */
  model: ModelConfig;
  batch: number;
}

/** The reference's WideResNet-50 at width 0.25 on CIFAR-shaped batches of 100. */
export const WRN_STEP: StepWorkload = {
  model: { model: "wide_resnet50", numClasses: 10, sampleShape: [32, 32, 3], width: 0.25, bias: true, seed: 1 },
  batch: 100,
};

/** The package's MLP on 784-dimensional inputs (MNIST-shaped), batches of 100. */
export const MLP_STEP: StepWorkload = {
  model: { model: "mlp", numClasses: 10, sampleShape: [784], width: 1, bias: true, seed: 1 },
  batch: 100,
};

/**
 * The benchmarks' random data, the same for every workload of its size: `n` inputs `[n, ...sampleShape]` of
 * standard normal entries, then `n` labels uniform in [0, numClasses), both from seed 2.
 */
export function randomBatch(
  n: number,
  sampleShape: readonly number[],
  numClasses: number,
): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(2);
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * sampleSize }, () => rng.normal());
  const y = Int32Array.from({ length: n }, () => rng.int(numClasses));
  return { x, y };
}

/**
 * Images per second of `trainStep` (SGD, momentum 0.9, weight decay 5e-4,
 * clipping at 2, as the reference trains) on random data.
 */
export async function trainStepThroughput(
  w: StepWorkload,
  t: TimingOptions,
  graphs = false,
): Promise<Timing & { imagesPerSecond: number }> {
  const before = tf.memory().numTensors;
  const model = createModel(w.model);
  const optimizer = new Optimizer(model.store.trainable.map((v) => v.variable), REFERENCE_SGD);
  const { x, y } = randomBatch(w.batch, w.model.sampleShape, w.model.numClasses);
  let unavailable = "";
  const graph = graphs ? trainingGraph(model, optimizer, (why) => (unavailable = why)) : null;
  if (graphs && graph === null) throw new Error(`graphs unavailable: ${unavailable}`);
  try {
    const timing = await timePerRep(async () => {
      if (graph) {
        graphTrainStep(graph, model, optimizer, crossEntropy, x, y, w.model.sampleShape, 0.01, 2);
        return;
      }
      const stats = trainStep(model, optimizer, crossEntropy, x, y, w.model.sampleShape, 0.01, 2);
      await stats.data();
      stats.dispose();
    }, t);
    return { ...timing, imagesPerSecond: w.batch / timing.seconds };
  } finally {
    graph?.dispose();
    optimizer.dispose();
    tf.dispose(allVariables(model).map((v) => v.variable));
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) console.warn(`bench: ${w.model.model} step left ${leaked} tensors behind`);
  }
}

/**
 * NumPy's GFLOP/s for the same float32 product, via `bench/numpy_matmul.py`;
 * a string saying why when Python or NumPy is missing.
 */
export async function numpyMatMulGflops(
  n: number,
  minSeconds: number,
): Promise<(Timing & { gflops: number; numpy: string }) | string> {
  const script = new URL("./numpy_matmul.py", import.meta.url).pathname;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("python3", {
      args: [script, String(n), String(minSeconds)],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  } catch {
    return "python3 not found";
  }
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code === 3) return text; // the script's own "numpy not installed" note
  if (out.code !== 0) return `numpy_matmul.py failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`;
  const r = JSON.parse(text) as { gflops: number; seconds: number; cpu_seconds: number; reps: number; numpy: string };
  return { gflops: r.gflops, seconds: r.seconds, cpuSeconds: r.cpu_seconds, reps: r.reps, numpy: r.numpy };
}
