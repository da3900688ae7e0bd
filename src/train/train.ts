/**
 * The training loop, as the paper's experimental setup describes it: SGD
 * with momentum 0.9 and coupled weight decay 5e-4, batch 100, learning rate
 * 0.1 divided by 10 at 3/7 and 5/7 of the epochs, gradients clipped to a
 * global norm of 2, checkpoints every E/100 epochs plus the best one by
 * validation top-1.
 *
 * The run folder (`src/run/`) holds `config.json`, `log.jsonl` (one record
 * per epoch), `epoch-NNNN.ckpt` (model only; every `saveInterval` epochs, plus
 * the first and the last), `best.ckpt` and `last.ckpt` (model, optimiser
 * state and random-generator state, for `--load`). Training holds the
 * folder's lock throughout, so a second writer is refused. A resumed run
 * keeps the settings it was trained with (`src/run/resume.ts`).
 *
 * Determinism: initial weights come from `seed`; shuffling and augmentation
 * from a second generator derived from `seed` whose state is checkpointed, so
 * a resumed run continues exactly where an uninterrupted one would be. That
 * holds mid-epoch too: when `signal` aborts (SIGUSR1 or SIGTERM from a
 * scheduler), the current step finishes and `last.ckpt` records the
 * generator's state at the epoch's start and the batches done, and the
 * resumed run replays that epoch's order and skips those batches.
 */
import { tf } from "../backend/tf.ts";
import { UserError } from "../errors.ts";
import { exists, joinPath, removeTemporaries, writeFileAtomic } from "../io.ts";
import { Rng } from "../rng.ts";
import type { Dataset, Split } from "../data/types.ts";
import { batches as iterateBatches, keepsNormalised, normaliseSplit } from "../data/batches.ts";
import { makeLoss } from "../losses/mod.ts";
import { allVariables, type Model } from "../models/mod.ts";
import { effectiveSaveInterval, type TrainConfig } from "../run/train_config.ts";
import {
  batchStats,
  evaluateBatches,
  evaluationBatches,
  evaluationBatchSize,
  restoreVariables,
  scoresFromSums,
  type SplitScores,
} from "../forward/mod.ts";
import { Optimizer } from "./optimizer.ts";
import { learningRate } from "./schedule.ts";
import { saveCheckpoint } from "./checkpoint.ts";
import { checkpointEpoch, readCheckpoint } from "../run/checkpoint.ts";
import { conflictingSettings, identitySettings, readRunConfig, writeRunConfig } from "../run/config.ts";
import { modelForConfig } from "../run/factories.ts";
import { RUN_FILES } from "../run/files.ts";
import { acquireLock } from "../run/lock.ts";
import { GraphRunner, type HostTensor } from "../backend/graph/graph_runner.ts";
import { extendRunConfig } from "../run/resume.ts";

export { datasetForConfig, modelForConfig } from "../run/factories.ts";

/** One line of `log.jsonl`. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  lr: number;
  train_loss: number;
  train_top1: number;
  train_top5: number;
  val_loss: number;
  val_top1: number;
  val_top5: number;
  best_val_top1: number;
  seconds: number;
}

/** Hooks through which a task shows progress (the library prints nothing), and a stop request. */
export interface TrainCallbacks {
  /** `extendedFrom`: the run's `epochs` before this call raised them (config.json now says `cfg.epochs`). */
  onStart?(
    info: {
      startEpoch: number;
      /** Batches of `startEpoch + 1` already done (an epoch interrupted mid-way). */
      startBatch: number;
      batchesPerEpoch: number;
      resumed: boolean;
      extendedFrom: number | null;
      /** Why steps run op by op (eagerly) rather than as TensorFlow graphs; null when they are graphs. */
      eagerSteps: string | null;
    },
  ): void;
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
  /**
   * When aborted, training stops after the current step, saves `last.ckpt`
   * (mid-epoch if need be) and returns with `interrupted` set.
   */
  signal?: AbortSignal;
  /** false: every step eager, as tfjs dispatches it (for comparisons; results are the same). */
  graphs?: boolean;
}

/** What {@linkcode trainRun} leaves behind. */
export interface TrainResult {
  records: EpochRecord[];
  model: Model;
  /** Set when the loss became NaN or infinite; training stopped there. */
  diverged?: string;
  /** Set when `signal` stopped training: the epochs `last.ckpt` completed, and the batches of the next one. */
  interrupted?: { epoch: number; batch: number };
}

/** The part of `last.ckpt`'s meta that an epoch interrupted mid-way adds. */
interface PartialEpoch {
  /** Batches of the interrupted epoch already trained. */
  batches: number;
  /** The data generator's state when that epoch started (its order and augmentations are replayed). */
  rng: number[];
  /** Running sums of loss, top-1 and top-5 hits, and samples seen. */
  sums: number[];
  seen: number;
}

/** The seed of the data-order generator, derived from the run seed. */
export function dataSeed(seed: number): number {
  return seed * 1000003 + 7;
}

/**
 * Trains a model on `dataset` as `cfg` says, writing the run folder
 * `cfg.savePath` while holding its lock. `environment` goes into
 * `config.json`'s `environment` block (backend, versions, dataset sizes).
 * With `cfg.load` it resumes the run there, whose settings `cfg` must keep
 * (`planResume` gives them) but for `epochs`, which may be raised to extend
 * it. Nothing is written when the model cannot be built for the data, or
 * when the folder holds another run.
 */
export async function trainRun(
  cfg: TrainConfig,
  dataset: Dataset,
  environment: Record<string, unknown> = {},
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const dir = cfg.savePath;
  if (!dir) throw new UserError("--save-path: required (the run folder)");
  // Building the model first checks that it fits the data, before any folder exists.
  const model = modelForConfig(cfg, dataset);
  const created = !(await exists(dir));
  await Deno.mkdir(dir, { recursive: true }).catch((e) => {
    throw new UserError(`--save-path ${dir}: cannot create (${(e as Error).message})`);
  });
  const lock = await acquireLock(joinPath(dir, RUN_FILES.lock), "train");
  try {
    return await trainLocked(cfg, dataset, model, environment, callbacks);
  } catch (e) {
    for (const v of allVariables(model)) v.variable.dispose();
    // A run that could not start leaves no folder behind (only the lock file would be in it).
    if (created && !(await exists(joinPath(dir, RUN_FILES.config)))) {
      lock.release();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    throw e;
  } finally {
    lock.release();
  }
}

async function trainLocked(
  cfg: TrainConfig,
  dataset: Dataset,
  model: Model,
  environment: Record<string, unknown>,
  callbacks: TrainCallbacks,
): Promise<TrainResult> {
  const dir = cfg.savePath;
  await removeTemporaries(dir); // left by a writer that was killed; we hold the lock, so nobody else writes here
  const lastPath = joinPath(dir, RUN_FILES.last);
  const configPath = joinPath(dir, RUN_FILES.config);
  const hasRun = await exists(lastPath);
  if (cfg.load && !hasRun) throw new UserError(`--load: ${lastPath} does not exist; nothing to resume`);
  if (!cfg.load && hasRun) {
    throw new UserError(`--save-path ${dir}: already holds a run; pass --load to resume it or choose another folder`);
  }
  const existing = await exists(configPath) ? await readRunConfig(dir) : null;
  const run = cfg.load ? existing : null;
  if (!cfg.load && existing) {
    // A run that died before its first epoch ended: start it again only if it is the same run.
    const was = JSON.stringify(identitySettings(existing));
    if (was !== JSON.stringify(identitySettings(cfg))) {
      throw new UserError(`--save-path ${dir}: ${configPath} describes another run; choose another folder`);
    }
  }
  const conflicts = run ? conflictingSettings(run, cfg) : [];
  if (conflicts.length > 0) {
    const list = conflicts.map((c) => `${c.key} ${c.given} (the run's: ${c.run})`).join(", ");
    throw new UserError(`${dir}: a resumed run keeps the settings it was trained with; asked for ${list}`);
  }

  const lossFn = makeLoss(cfg.loss, cfg);
  const trainable = model.store.trainable.map((v) => v.variable);
  const optimizer = new Optimizer(trainable, cfg);
  const rng = new Rng(dataSeed(cfg.seed));
  const optimizerVars = optimizer.slots.flatMap((slots, i) =>
    slots.map((variable, j) => ({ name: `optimizer/${model.store.trainable[i].name}/${j}`, variable }))
  );

  let records: EpochRecord[] = [];
  let startEpoch = 0;
  let partial: PartialEpoch | null = null;
  let bestVal = -Infinity;
  let extendedFrom: number | null = null;
  if (run) {
    const ckpt = await readCheckpoint(lastPath);
    startEpoch = checkpointEpoch(ckpt.meta, lastPath, 0, run.epochs);
    try {
      restoreVariables(ckpt, [...allVariables(model), ...optimizerVars], lastPath);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(`${e.message}; ${configPath} does not describe the model that wrote it (edited by hand?)`);
    }
    const meta = ckpt.meta as { step: number; rng: number[]; best_val_top1: number; partial?: PartialEpoch };
    optimizer.step = meta.step;
    rng.setState(meta.rng);
    bestVal = meta.best_val_top1;
    partial = meta.partial ?? null;
    if (partial) rng.setState(partial.rng);
    records = (await readLog(joinPath(dir, RUN_FILES.log))).filter((r) => r.epoch <= startEpoch);
    if (cfg.epochs > run.epochs) {
      await extendRunConfig(dir, run, cfg.epochs, startEpoch);
      extendedFrom = run.epochs;
    }
  } else {
    await writeRunConfig(dir, { ...cfg, load: false, extensions: [], environment });
  }

  const interval = effectiveSaveInterval(cfg);
  const sampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
  const batchesPerEpoch = Math.ceil(dataset.train.n / cfg.batchSize);
  // The step as one TensorFlow graph on the native backend (same numbers, a fraction of the dispatch cost).
  // Adam stays eager: its bias correction is a JavaScript number that changes every step.
  let eagerReason: string | null = cfg.opt !== "sgd"
    ? `--opt ${cfg.opt}`
    : callbacks.graphs === false
    ? "graphs turned off"
    : null;
  const graph = eagerReason === null ? trainingGraph(model, optimizer, (why) => (eagerReason = why)) : null;
  callbacks.onStart?.({
    startEpoch,
    startBatch: partial?.batches ?? 0,
    batchesPerEpoch,
    resumed: cfg.load,
    extendedFrom,
    eagerSteps: graph === null ? eagerReason : null,
  });
  const signal = callbacks.signal;
  let lastTurn = performance.now();

  // Crop-and-flip augmentation is defined for images only.
  const augment = cfg.dataAug && dataset.sampleShape.length === 3;
  // Splits visited every epoch as they are are normalised once (the same values; see normaliseSplit).
  const normalisedTrain = !augment && keepsNormalised(dataset, dataset.train)
    ? normaliseSplit(dataset, dataset.train)
    : undefined;
  const keptVal = new Map<Split, Float32Array>();
  const valBatchSize = evaluationBatchSize(model, cfg.testBatchSize);
  try {
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      const lr = learningRate(cfg.lrScheduler, cfg.lr, epoch, cfg.epochs);
      const epochRng = rng.state();
      const sums = new Float64Array(partial?.sums ?? [0, 0, 0]);
      let seen = partial?.seen ?? 0;
      const skip = partial?.batches ?? 0;
      partial = null;
      let b = 0;
      const batches = iterateBatches(dataset, dataset.train, {
        batchSize: cfg.batchSize,
        shuffle: true,
        augment,
        rng,
        normalised: normalisedTrain,
      });
      for (const batch of batches) {
        b++;
        if (b <= skip) continue; // trained before the interruption; drawing it keeps the generator in step
        const x = batch.x.subarray(0, batch.n * sampleSize);
        const y = batch.y.subarray(0, batch.n);
        let v: Float32Array;
        if (graph) v = graphTrainStep(graph, model, optimizer, lossFn, x, y, dataset.sampleShape, lr, cfg.clipNorm);
        else {
          const stats = trainStep(model, optimizer, lossFn, x, y, dataset.sampleShape, lr, cfg.clipNorm);
          v = (await stats.data()) as Float32Array;
          stats.dispose();
        }
        for (let i = 0; i < 3; i++) sums[i] += v[i];
        seen += batch.n;
        const batchLoss = v[0] / batch.n;
        if (!Number.isFinite(batchLoss)) {
          graph?.sync();
          return { records, model, diverged: `loss became ${batchLoss} at epoch ${epoch + 1}, batch ${b}` };
        }
        callbacks.onBatch?.(epoch + 1, b, batchesPerEpoch, batchLoss);
        // A signal's handler runs only when the event loop turns, which awaiting tensor data does not do on
        // every backend; a turn every 200 ms lets a stop request land within a step or so, at negligible cost.
        if (signal && performance.now() - lastTurn > 200) {
          await new Promise((r) => setTimeout(r, 0));
          lastTurn = performance.now();
        }
        if (signal?.aborted) {
          graph?.sync();
          const state: PartialEpoch = { batches: b, rng: epochRng, sums: [...sums], seen };
          await saveCheckpoint(lastPath, [...allVariables(model), ...optimizerVars], {
            epoch,
            step: optimizer.step,
            rng: rng.state(),
            best_val_top1: bestVal,
            partial: state,
          });
          return { records, model, interrupted: { epoch, batch: b } };
        }
      }
      graph?.sync(); // evaluation and checkpoints read the tfjs variables
      const train = scoresFromSums(sums, seen);
      const val: SplitScores = dataset.val.n > 0
        ? await evaluateBatches(
          model,
          lossFn,
          evaluationBatches(dataset, dataset.val, valBatchSize, keptVal),
          dataset.sampleShape,
        )
        : { loss: NaN, top1: NaN, top5: NaN };
      const improved = val.top1 > bestVal;
      if (improved) bestVal = val.top1;
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: train.loss,
        train_top1: train.top1,
        train_top5: train.top5,
        val_loss: val.loss,
        val_top1: val.top1,
        val_top5: val.top5,
        best_val_top1: bestVal,
        seconds: (performance.now() - t0) / 1000,
      };
      records.push(record);
      const modelVars = allVariables(model);
      // Epoch 1 is always kept: it is the baseline that collapse is measured against.
      if ((epoch + 1) % interval === 0 || epoch + 1 === cfg.epochs || epoch === 0) {
        await saveCheckpoint(joinPath(dir, RUN_FILES.epoch(epoch + 1)), modelVars, { epoch: epoch + 1 });
      }
      if (improved) {
        await saveCheckpoint(joinPath(dir, RUN_FILES.best), modelVars, { epoch: epoch + 1, val_top1: val.top1 });
      }
      // The log goes first: a crash before last.ckpt is written leaves a record
      // that the resumed run drops (it keeps records up to the checkpoint's epoch).
      await writeFileAtomic(joinPath(dir, RUN_FILES.log), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
      await saveCheckpoint(lastPath, [...modelVars, ...optimizerVars], {
        epoch: epoch + 1,
        step: optimizer.step,
        rng: rng.state(),
        best_val_top1: bestVal,
      });
      callbacks.onEpoch?.(record);
      if (signal?.aborted && epoch + 1 < cfg.epochs) {
        return { records, model, interrupted: { epoch: epoch + 1, batch: 0 } };
      }
    }
  } finally {
    graph?.dispose();
    optimizer.dispose();
  }
  return { records, model };
}

/**
 * One SGD/Adam step on a batch: forward in training mode, loss, gradients,
 * global-norm clipping, update, then the batch-norm running statistics.
 * Returns `[loss sum, top-1 hits, top-5 hits]` of the batch (before the step).
 */
export function trainStep(
  model: Model,
  optimizer: Optimizer,
  lossFn: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar,
  x: Float32Array,
  y: Int32Array,
  sampleShape: number[],
  lr: number,
  clipNorm: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const xs = tf.tensor(x, [y.length, ...sampleShape]);
    const ys = tf.tensor1d(y, "int32");
    return stepOps(model, optimizer, lossFn, xs, ys, lr, clipNorm);
  });
}

/**
 * The graph runner that {@linkcode graphTrainStep} needs: over the model's
 * variables (trainable and running statistics) and the optimiser's state,
 * which a step updates; it merges repeated ops for models that do not
 * recompute in graphs (`model.recomputeInGraphs`). Null where graphs cannot
 * run; `why` gets the reason.
 */
export function trainingGraph(model: Model, optimizer: Optimizer, why?: (reason: string) => void): GraphRunner | null {
  const state = [...allVariables(model).map((v) => v.variable), ...optimizer.slots.flat()];
  return GraphRunner.create(
    state,
    { updatesVariables: true, mergeRepeatedOps: model.recomputeInGraphs === false },
    why,
  );
}

/**
 * {@linkcode trainStep} as a TensorFlow graph (`src/backend/graph`): the same
 * ops with the same inputs, so the same numbers, dispatched in one call
 * instead of one by one. The model's and the optimiser's variables live in
 * `graph` between steps; `graph.sync()` writes them back. Returns the batch's
 * `[loss sum, top-1 hits, top-5 hits]`.
 */
export function graphTrainStep(
  graph: GraphRunner,
  model: Model,
  optimizer: Optimizer,
  lossFn: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar,
  x: Float32Array,
  y: Int32Array,
  sampleShape: number[],
  lr: number,
  clipNorm: number,
): Float32Array {
  const step = optimizer.step;
  const inputs: HostTensor[] = [
    { values: x, shape: [y.length, ...sampleShape], dtype: "float32" },
    { values: y, shape: [y.length], dtype: "int32" },
    { values: new Float32Array([lr]), shape: [], dtype: "float32" },
  ];
  const [stats] = graph.run(`train ${y.length}`, inputs, ([xs, ys, rate]) => {
    return [tf.tidy(() => stepOps(model, optimizer, lossFn, xs, ys as tf.Tensor1D, rate as tf.Scalar, clipNorm))];
  });
  optimizer.step = step + 1; // the graph does not run the JavaScript that counts steps
  return stats as Float32Array;
}

/** The ops of a training step on batch tensors (see {@linkcode trainStep}); the batch statistics stay on the device. */
function stepOps(
  model: Model,
  optimizer: Optimizer,
  lossFn: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar,
  xs: tf.Tensor,
  ys: tf.Tensor1D,
  lr: number | tf.Scalar,
  clipNorm: number,
): tf.Tensor1D {
  let stats: tf.Tensor1D | null = null;
  tf.tidy(() => {
    let grads: tf.NamedTensorMap;
    if (model.trainingPass) {
      // A hand-written backward pass: only the loss goes on the gradient tape.
      const pass = model.trainingPass(xs);
      const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => lossFn(l as tf.Tensor2D, ys))(pass.logits);
      stats = tf.keep(batchStats(pass.logits, ys, value));
      grads = pass.backward(grad as tf.Tensor2D);
    } else {
      grads = tf.variableGrads(() => {
        const { logits } = model.forward(xs, true);
        const loss = lossFn(logits, ys);
        stats = tf.keep(batchStats(logits, ys, loss));
        return loss;
      }, optimizer.variables).grads;
    }
    optimizer.apply(optimizer.variables.map((v) => grads[v.name]), lr, clipNorm);
  });
  model.store.applyBatchNormUpdates();
  return stats!;
}

/** Reads `log.jsonl` (missing file → no records). */
export async function readLog(path: string): Promise<EpochRecord[]> {
  if (!(await exists(path))) return [];
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim() !== "").map((l, i) => {
    try {
      return JSON.parse(l) as EpochRecord;
    } catch {
      throw new UserError(`${path}: line ${i + 1} is not valid JSON`);
    }
  });
}
