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
import { type LossFn, makeLoss } from "../losses/mod.ts";
import { allVariables, type Model } from "../models/mod.ts";
import { effectiveSaveInterval, type TrainConfig } from "../run/train_config.ts";
import {
  batchStats,
  evaluateBatches,
  evaluationBatches,
  evaluationBatchSize,
  restoreVariables,
  saveCheckpoint,
  scoresFromSums,
  type SplitScores,
} from "../forward/mod.ts";
import { Optimizer } from "./optimizer.ts";
import { learningRate } from "./schedule.ts";
import { type PartialEpoch, readCheckpoint, resumeState } from "../run/checkpoint.ts";
import { conflictingSettings, identitySettings, readRunConfig, type RunConfig, writeRunConfig } from "../run/config.ts";
import { modelForConfig } from "../run/factories.ts";
import type { EpochRecord } from "../run/epoch_log.ts";
import { RUN_FILES } from "../run/files.ts";
import { acquireLock } from "../run/lock.ts";
import { GraphRunner, type HostTensor } from "../backend/graph/graph_runner.ts";
import { extendRunConfig } from "../run/resume.ts";

export { datasetForConfig, modelForConfig } from "../run/factories.ts";
export type { EpochRecord } from "../run/epoch_log.ts";

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

/** A variable with the name it has in checkpoints. */
type NamedVariable = { name: string; variable: tf.Variable };

/** Where a run starts: what `last.ckpt` restored, or the beginning. */
interface RunStart {
  records: EpochRecord[];
  startEpoch: number;
  /** The epoch `last.ckpt` interrupted mid-way, if any. */
  partial: PartialEpoch | null;
  bestVal: number;
  /** The run's `epochs` before this call raised them, or null. */
  extendedFrom: number | null;
}

/** What every epoch of a run reads and updates. */
interface Training {
  cfg: TrainConfig;
  dataset: Dataset;
  model: Model;
  callbacks: TrainCallbacks;
  lossFn: LossFn;
  optimizer: Optimizer;
  /** The optimiser's slots, named as `last.ckpt` stores them. */
  optimizerVars: NamedVariable[];
  /** The data generator: shuffling and augmentation. */
  rng: Rng;
  /** The training step as one TensorFlow graph, or null for eager steps. */
  graph: GraphRunner | null;
  /** Crop-and-flip augmentation (images only). */
  augment: boolean;
  /** The training split normalised once, where it is visited as it is. */
  normalisedTrain: Float32Array | undefined;
  /** The validation split normalised once (`evaluationBatches`). */
  keptVal: Map<Split, Float32Array>;
  valBatchSize: number;
  records: EpochRecord[];
  bestVal: number;
  /** When the event loop last turned (see {@linkcode trainEpoch}). */
  lastTurn: number;
}

/** The run folder's phases: open it, restore or start the run, then train epoch by epoch, saving after each. */
async function trainLocked(
  cfg: TrainConfig,
  dataset: Dataset,
  model: Model,
  environment: Record<string, unknown>,
  callbacks: TrainCallbacks,
): Promise<TrainResult> {
  const run = await openRunFolder(cfg);
  const lossFn = makeLoss(cfg.loss, cfg);
  const trainable = model.store.trainable.map((v) => v.variable);
  const optimizer = new Optimizer(trainable, cfg);
  const rng = new Rng(dataSeed(cfg.seed));
  const optimizerVars = optimizer.slots.flatMap((slots, i) =>
    slots.map((variable, j) => ({ name: `optimizer/${model.store.trainable[i].name}/${j}`, variable }))
  );
  const start = run
    ? await restoreRun(cfg, dataset, run, [...allVariables(model), ...optimizerVars], optimizer, rng)
    : await startRun(cfg, environment);
  const graph = startTraining(cfg, dataset, model, optimizer, callbacks, start);
  // Crop-and-flip augmentation is defined for images only.
  const augment = cfg.dataAug && dataset.sampleShape.length === 3;
  const t: Training = {
    cfg,
    dataset,
    model,
    callbacks,
    lossFn,
    optimizer,
    optimizerVars,
    rng,
    graph,
    augment,
    // Splits visited every epoch as they are are normalised once (the same values; see normaliseSplit).
    normalisedTrain: !augment && keepsNormalised(dataset, dataset.train)
      ? normaliseSplit(dataset, dataset.train)
      : undefined,
    keptVal: new Map<Split, Float32Array>(),
    valBatchSize: evaluationBatchSize(model, cfg.testBatchSize),
    records: start.records,
    bestVal: start.bestVal,
    lastTurn: performance.now(),
  };
  let partial = start.partial;
  try {
    for (let epoch = start.startEpoch; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      const lr = learningRate(cfg.lrScheduler, cfg.lr, epoch, cfg.epochs);
      const trained = await trainEpoch(t, epoch, lr, partial);
      partial = null;
      if ("stop" in trained) return trained.stop;
      const { record, improved } = await validateEpoch(t, epoch, lr, trained.train, t0);
      await saveEpoch(t, record, improved);
      callbacks.onEpoch?.(record);
      if (callbacks.signal?.aborted && epoch + 1 < cfg.epochs) {
        return { records: t.records, model, interrupted: { epoch: epoch + 1, batch: 0 } };
      }
    }
  } finally {
    graph?.dispose();
    optimizer.dispose();
  }
  return { records: t.records, model };
}

/**
 * Opens the locked run folder: removes temporary files a killed writer left,
 * and checks that `cfg.load` matches what the folder holds (a run to resume,
 * or nothing but the same run's `config.json`) and that a resumed run keeps
 * its settings. Returns the run's configuration when resuming, else null.
 */
async function openRunFolder(cfg: TrainConfig): Promise<RunConfig | null> {
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
  return run;
}

/**
 * Restores a run from its `last.ckpt`: the model's and the optimiser's
 * variables (`vars`), the step count, the data generator (at the start of an
 * interrupted epoch, if any), the best validation top-1 and the log up to the
 * checkpoint; raises the run's epochs to `cfg.epochs` if that extends it.
 */
async function restoreRun(
  cfg: TrainConfig,
  dataset: Dataset,
  run: RunConfig,
  vars: NamedVariable[],
  optimizer: Optimizer,
  rng: Rng,
): Promise<RunStart> {
  const dir = cfg.savePath;
  const lastPath = joinPath(dir, RUN_FILES.last);
  const ckpt = await readCheckpoint(lastPath);
  // Every field checked before anything changes (variables, config.json): a crafted meta is one error line.
  const state = resumeState(ckpt.meta, lastPath, {
    epochs: run.epochs,
    batchesPerEpoch: Math.ceil(dataset.train.n / cfg.batchSize),
    samplesPerEpoch: dataset.train.n,
  });
  const startEpoch = state.epoch;
  try {
    restoreVariables(ckpt, vars, lastPath);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const configPath = joinPath(dir, RUN_FILES.config);
    throw new UserError(`${e.message}; ${configPath} does not describe the model that wrote it (edited by hand?)`);
  }
  optimizer.step = state.step;
  rng.setState(state.rng);
  const partial = state.partial;
  if (partial) rng.setState(partial.rng);
  const records = (await readLog(joinPath(dir, RUN_FILES.log))).filter((r) => r.epoch <= startEpoch);
  let extendedFrom: number | null = null;
  if (cfg.epochs > run.epochs) {
    await extendRunConfig(dir, run, cfg.epochs, startEpoch);
    extendedFrom = run.epochs;
  }
  return { records, startEpoch, partial, bestVal: state.bestValTop1, extendedFrom };
}

/** Starts a new run: writes its `config.json` (with `environment`); nothing trained yet. */
async function startRun(cfg: TrainConfig, environment: Record<string, unknown>): Promise<RunStart> {
  await writeRunConfig(cfg.savePath, { ...cfg, load: false, extensions: [], environment });
  return { records: [], startEpoch: 0, partial: null, bestVal: -Infinity, extendedFrom: null };
}

/**
 * Chooses how steps run and tells `callbacks.onStart`: as one TensorFlow graph
 * on the native backend (same numbers, a fraction of the dispatch cost), or
 * eagerly. Returns the graph, or null for eager steps.
 */
function startTraining(
  cfg: TrainConfig,
  dataset: Dataset,
  model: Model,
  optimizer: Optimizer,
  callbacks: TrainCallbacks,
  start: RunStart,
): GraphRunner | null {
  const batchesPerEpoch = Math.ceil(dataset.train.n / cfg.batchSize);
  // Adam stays eager: its bias correction is a JavaScript number that changes every step.
  let eagerReason: string | null = cfg.opt !== "sgd"
    ? `--opt ${cfg.opt}`
    : callbacks.graphs === false
    ? "graphs turned off"
    : null;
  const graph = eagerReason === null ? trainingGraph(model, optimizer, (why) => (eagerReason = why)) : null;
  callbacks.onStart?.({
    startEpoch: start.startEpoch,
    startBatch: start.partial?.batches ?? 0,
    batchesPerEpoch,
    resumed: cfg.load,
    extendedFrom: start.extendedFrom,
    eagerSteps: graph === null ? eagerReason : null,
  });
  return graph;
}

/**
 * Trains one epoch at learning rate `lr`, resuming `partial` (an epoch
 * interrupted mid-way) if given: its sums, and its batches skipped. Returns
 * the epoch's summed `[loss, top-1, top-5]` and the samples seen, or `stop`
 * when the loss diverged or `signal` aborted (then `last.ckpt` holds the
 * epoch so far). The model's variables are up to date either way.
 */
async function trainEpoch(
  t: Training,
  epoch: number,
  lr: number,
  partial: PartialEpoch | null,
): Promise<{ train: SplitScores } | { stop: TrainResult }> {
  const { cfg, dataset, model, optimizer, graph, rng } = t;
  const signal = t.callbacks.signal;
  const sampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
  const batchesPerEpoch = Math.ceil(dataset.train.n / cfg.batchSize);
  const epochRng = rng.state();
  const sums = new Float64Array(partial?.sums ?? [0, 0, 0]);
  let seen = partial?.seen ?? 0;
  const skip = partial?.batches ?? 0;
  let b = 0;
  const batches = iterateBatches(dataset, dataset.train, {
    batchSize: cfg.batchSize,
    shuffle: true,
    augment: t.augment,
    rng,
    normalised: t.normalisedTrain,
  });
  for (const batch of batches) {
    b++;
    if (b <= skip) continue; // trained before the interruption; drawing it keeps the generator in step
    const x = batch.x.subarray(0, batch.n * sampleSize);
    const y = batch.y.subarray(0, batch.n);
    let v: Float32Array;
    if (graph) v = graphTrainStep(graph, model, optimizer, t.lossFn, x, y, dataset.sampleShape, lr, cfg.clipNorm);
    else {
      const stats = trainStep(model, optimizer, t.lossFn, x, y, dataset.sampleShape, lr, cfg.clipNorm);
      v = (await stats.data()) as Float32Array;
      stats.dispose();
    }
    for (let i = 0; i < 3; i++) sums[i] += v[i];
    seen += batch.n;
    const batchLoss = v[0] / batch.n;
    if (!Number.isFinite(batchLoss)) {
      graph?.sync();
      return {
        stop: { records: t.records, model, diverged: `loss became ${batchLoss} at epoch ${epoch + 1}, batch ${b}` },
      };
    }
    t.callbacks.onBatch?.(epoch + 1, b, batchesPerEpoch, batchLoss);
    // A signal's handler runs only when the event loop turns, which awaiting tensor data does not do on
    // every backend; a turn every 200 ms lets a stop request land within a step or so, at negligible cost.
    if (signal && performance.now() - t.lastTurn > 200) {
      await new Promise((r) => setTimeout(r, 0));
      t.lastTurn = performance.now();
    }
    if (signal?.aborted) {
      graph?.sync();
      const state: PartialEpoch = { batches: b, rng: epochRng, sums: [...sums], seen };
      await saveCheckpoint(joinPath(cfg.savePath, RUN_FILES.last), [...allVariables(model), ...t.optimizerVars], {
        epoch,
        step: optimizer.step,
        rng: rng.state(),
        best_val_top1: t.bestVal,
        partial: state,
      });
      return { stop: { records: t.records, model, interrupted: { epoch, batch: b } } };
    }
  }
  graph?.sync(); // evaluation and checkpoints read the tfjs variables
  return { train: scoresFromSums(sums, seen) };
}

/**
 * Measures the validation split after an epoch and appends the epoch's
 * record (started at `t0`) to `t.records`, updating the best validation
 * top-1; `improved` says whether it did.
 */
async function validateEpoch(
  t: Training,
  epoch: number,
  lr: number,
  train: SplitScores,
  t0: number,
): Promise<{ record: EpochRecord; improved: boolean }> {
  const { dataset } = t;
  const val: SplitScores = dataset.val.n > 0
    ? await evaluateBatches(
      t.model,
      t.lossFn,
      evaluationBatches(dataset, dataset.val, t.valBatchSize, t.keptVal),
      dataset.sampleShape,
    )
    : { loss: NaN, top1: NaN, top5: NaN };
  const improved = val.top1 > t.bestVal;
  if (improved) t.bestVal = val.top1;
  const record: EpochRecord = {
    epoch: epoch + 1,
    lr,
    train_loss: train.loss,
    train_top1: train.top1,
    train_top5: train.top5,
    val_loss: val.loss,
    val_top1: val.top1,
    val_top5: val.top5,
    best_val_top1: t.bestVal,
    seconds: (performance.now() - t0) / 1000,
  };
  t.records.push(record);
  return { record, improved };
}

/**
 * Saves what an epoch leaves: `epoch-NNNN.ckpt` every `saveInterval` epochs
 * (and the first and the last), `best.ckpt` when validation top-1 improved,
 * then `log.jsonl`, then `last.ckpt`.
 */
async function saveEpoch(t: Training, record: EpochRecord, improved: boolean): Promise<void> {
  const { cfg } = t;
  const dir = cfg.savePath;
  const epoch = record.epoch;
  const modelVars = allVariables(t.model);
  // Epoch 1 is always kept: it is the baseline that collapse is measured against.
  if (epoch % effectiveSaveInterval(cfg) === 0 || epoch === cfg.epochs || epoch === 1) {
    await saveCheckpoint(joinPath(dir, RUN_FILES.epoch(epoch)), modelVars, { epoch });
  }
  if (improved) {
    await saveCheckpoint(joinPath(dir, RUN_FILES.best), modelVars, { epoch, val_top1: record.val_top1 });
  }
  // The log goes first: a crash before last.ckpt is written leaves a record
  // that the resumed run drops (it keeps records up to the checkpoint's epoch).
  await writeFileAtomic(joinPath(dir, RUN_FILES.log), t.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  await saveCheckpoint(joinPath(dir, RUN_FILES.last), [...modelVars, ...t.optimizerVars], {
    epoch,
    step: t.optimizer.step,
    rng: t.rng.state(),
    best_val_top1: t.bestVal,
  });
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
