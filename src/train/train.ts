/**
 * The training loop, as the paper's experimental setup describes it: SGD
 * with momentum 0.9 and coupled weight decay 5e-4, batch 100, learning rate
 * 0.1 divided by 10 at 3/7 and 5/7 of the epochs, gradients clipped to a
 * global norm of 2, checkpoints every E/100 epochs plus the best one by
 * validation top-1.
 *
 * A run folder holds `config.json`, `log.jsonl` (one record per epoch),
 * `epoch-NNNN.ckpt` (model only; every `saveInterval` epochs, plus the first and
 * the last), `best.ckpt` and `last.ckpt` (model,
 * optimiser state and random-generator state, for `--load`). A resumed run
 * keeps the settings it was trained with (`resume.ts`).
 *
 * Determinism: initial weights come from `seed`; shuffling and augmentation
 * from a second generator derived from `seed` whose state is checkpointed, so
 * a resumed run continues exactly where an uninterrupted one would be.
 */
import { tf } from "../backend/tf.ts";
import { UserError } from "../errors.ts";
import { exists, joinPath, writeFileAtomic, writeJsonAtomic } from "../io.ts";
import { Rng } from "../rng.ts";
import type { Dataset } from "../data/types.ts";
import { batches as iterateBatches } from "../data/batches.ts";
import { loadDataset } from "../data/load_dataset.ts";
import { makeLoss } from "../losses/mod.ts";
import { allVariables, createModel, type Model } from "../models/mod.ts";
import { effectiveSaveInterval, type TrainConfig } from "./config.ts";
import { batchStats, evaluateBatches, scoresFromSums, type SplitScores } from "./eval.ts";
import { Optimizer } from "./optimizer.ts";
import { learningRate } from "./schedule.ts";
import { readCheckpoint, restoreVariables, saveCheckpoint } from "./checkpoint.ts";
import { conflictingSettings, extendRunConfig, readRunConfig } from "./resume.ts";
import { RUN_FILES } from "./run_files.ts";

export { RUN_FILES } from "./run_files.ts";

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

/** Hooks through which a task shows progress; the library prints nothing. */
export interface TrainCallbacks {
  /** `extendedFrom`: the run's `epochs` before this call raised them (config.json now says `cfg.epochs`). */
  onStart?(info: { startEpoch: number; batchesPerEpoch: number; resumed: boolean; extendedFrom: number | null }): void;
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
}

/** What {@linkcode trainRun} leaves behind. */
export interface TrainResult {
  records: EpochRecord[];
  model: Model;
  /** Set when the loss became NaN or infinite; training stopped there. */
  diverged?: string;
}

/**
 * Loads the dataset a configuration trains on (the same split and subset on
 * every call). `rootOverride` replaces the stored root (data that moved).
 */
export async function datasetForConfig(cfg: TrainConfig, rootOverride?: string): Promise<Dataset> {
  return await loadDataset(cfg.dataset, {
    root: rootOverride ?? (cfg.datasetRoot || undefined),
    download: cfg.download,
    trainSubsetPerClass: cfg.trainSubset || undefined,
    synthetic: {
      dim: cfg.syntheticDim,
      numClasses: cfg.syntheticClasses,
      trainPerClass: cfg.syntheticPerClass,
      separation: cfg.syntheticSeparation,
    },
  });
}

/** Builds the network a configuration describes, with its seeded initial weights. */
export function modelForConfig(cfg: TrainConfig, ds: Pick<Dataset, "numClasses" | "sampleShape">): Model {
  return createModel({
    model: cfg.model,
    numClasses: ds.numClasses,
    sampleShape: ds.sampleShape,
    width: cfg.width,
    bias: cfg.bias,
    seed: cfg.seed,
    mlpDepth: cfg.mlpDepth,
    mlpHidden: cfg.mlpHidden,
    checkpointing: cfg.checkpointing,
  });
}

/** The seed of the data-order generator, derived from the run seed. */
export function dataSeed(seed: number): number {
  return seed * 1000003 + 7;
}

/**
 * Trains a model on `dataset` as `cfg` says, writing the run folder
 * `cfg.savePath`. `extraConfig` is merged into `config.json` (backend,
 * versions, dataset sizes). With `cfg.load` it resumes the run there, whose
 * settings `cfg` must keep (`planResume` in `resume.ts` gives them) but for `epochs`,
 * which may be raised to extend it. Nothing is written when the model cannot
 * be built for the data.
 */
export async function trainRun(
  cfg: TrainConfig,
  dataset: Dataset,
  extraConfig: Record<string, unknown> = {},
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const dir = cfg.savePath;
  if (!dir) throw new UserError("--save-path: required (the run folder)");
  const lastPath = joinPath(dir, RUN_FILES.last);
  const hasRun = await exists(lastPath);
  if (cfg.load && !hasRun) throw new UserError(`--load: ${lastPath} does not exist; nothing to resume`);
  if (!cfg.load && hasRun) {
    throw new UserError(`--save-path ${dir}: already holds a run; pass --load to resume it or choose another folder`);
  }
  const run = cfg.load ? await readRunConfig(dir) : null;
  const conflicts = run ? conflictingSettings(run, cfg) : [];
  if (conflicts.length > 0) {
    const list = conflicts.map((c) => `${c.key} ${c.given} (the run's: ${c.run})`).join(", ");
    throw new UserError(`${dir}: a resumed run keeps the settings it was trained with; asked for ${list}`);
  }

  const model = modelForConfig(cfg, dataset);
  const lossFn = makeLoss(cfg.loss, cfg);
  const trainable = model.store.trainable.map((v) => v.variable);
  const optimizer = new Optimizer(trainable, cfg);
  const rng = new Rng(dataSeed(cfg.seed));
  const optimizerVars = optimizer.slots.flatMap((slots, i) =>
    slots.map((variable, j) => ({ name: `optimizer/${model.store.trainable[i].name}/${j}`, variable }))
  );

  let records: EpochRecord[] = [];
  let startEpoch = 0;
  let bestVal = -Infinity;
  let extendedFrom: number | null = null;
  if (run) {
    const ckpt = await readCheckpoint(lastPath);
    try {
      restoreVariables(ckpt, [...allVariables(model), ...optimizerVars], lastPath);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(
        `${e.message}; ${joinPath(dir, RUN_FILES.config)} does not describe the model that wrote it (edited by hand?)`,
      );
    }
    const meta = ckpt.meta as { epoch: number; step: number; rng: number[]; best_val_top1: number };
    startEpoch = meta.epoch;
    optimizer.step = meta.step;
    rng.setState(meta.rng);
    bestVal = meta.best_val_top1;
    records = (await readLog(joinPath(dir, RUN_FILES.log))).filter((r) => r.epoch <= startEpoch);
    if (cfg.epochs > run.epochs) {
      await extendRunConfig(dir, run, cfg.epochs, startEpoch);
      extendedFrom = run.epochs;
    }
  } else {
    // Only now: a model that does not fit the data (resnet18 on vectors) has failed above, leaving no folder.
    await Deno.mkdir(dir, { recursive: true });
    await writeJsonAtomic(joinPath(dir, RUN_FILES.config), { ...cfg, ...extraConfig });
  }

  const interval = effectiveSaveInterval(cfg);
  const sampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
  const batchesPerEpoch = Math.ceil(dataset.train.n / cfg.batchSize);
  callbacks.onStart?.({ startEpoch, batchesPerEpoch, resumed: cfg.load, extendedFrom });

  try {
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      const lr = learningRate(cfg.lrScheduler, cfg.lr, epoch, cfg.epochs);
      const sums = new Float64Array(3);
      let seen = 0;
      let b = 0;
      const batches = iterateBatches(dataset, dataset.train, {
        batchSize: cfg.batchSize,
        shuffle: true,
        // Crop-and-flip augmentation is defined for images only.
        augment: cfg.dataAug && dataset.sampleShape.length === 3,
        rng,
      });
      for (const batch of batches) {
        const stats = trainStep(
          model,
          optimizer,
          lossFn,
          batch.x.subarray(0, batch.n * sampleSize),
          batch.y.subarray(0, batch.n),
          dataset.sampleShape,
          lr,
          cfg.clipNorm,
        );
        const v = await stats.data();
        stats.dispose();
        for (let i = 0; i < 3; i++) sums[i] += v[i];
        seen += batch.n;
        b++;
        const batchLoss = v[0] / batch.n;
        if (!Number.isFinite(batchLoss)) {
          return { records, model, diverged: `loss became ${batchLoss} at epoch ${epoch + 1}, batch ${b}` };
        }
        callbacks.onBatch?.(epoch + 1, b, batchesPerEpoch, batchLoss);
      }
      const train = scoresFromSums(sums, seen);
      const val: SplitScores = dataset.val.n > 0
        ? await evaluateBatches(
          model,
          lossFn,
          iterateBatches(dataset, dataset.val, { batchSize: cfg.testBatchSize, shuffle: false, augment: false }),
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
    }
  } finally {
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
  let stats: tf.Tensor1D | null = null;
  tf.tidy(() => {
    const xs = tf.tensor(x, [y.length, ...sampleShape]);
    const ys = tf.tensor1d(y, "int32");
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
