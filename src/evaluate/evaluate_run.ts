/**
 * Evaluating a training run, checkpoint by checkpoint: the JSON successor of
 * the reference's `evaluate.py` / `info.pkl`.
 *
 * For every `epoch-NNNN.ckpt` of a run folder it measures, on the training
 * split, every neural-collapse metric of `src/metrics` (two streaming passes:
 * class means first, then everything that needs centred features), the
 * training loss, and the validation and test loss / top-1 / top-5; for
 * `best.ckpt` the train / val / test top-1. Results go to `info.json`,
 * rewritten atomically after each checkpoint so an interrupted evaluation
 * keeps what it measured and resumes where it stopped.
 *
 * Deliberate difference from the reference: training features are measured
 * without augmentation by default (the reference leaves the random crop and
 * flip on while measuring); `augment: true` reproduces the reference.
 */
import { tf } from "../backend/tf.ts";
import { batches } from "../data/batches.ts";
import type { Dataset, Split } from "../data/types.ts";
import { UserError } from "../errors.ts";
import { exists, joinPath, writeJsonAtomic } from "../io.ts";
import { type LossName, lossParamsFor, makeLoss } from "../losses/mod.ts";
import { NeuralCollapseAccumulator, type NeuralCollapseMetrics, type ProjectorFactory } from "../metrics/mod.ts";
import { tfProjector } from "../backend/projector.ts";
import { evaluationBatchSize } from "../train/eval.ts";
import { allVariables, type Model } from "../models/mod.ts";
import { Rng } from "../rng.ts";
import type { TrainConfig } from "../train/config.ts";
import { readCheckpoint, restoreVariables } from "../train/checkpoint.ts";
import { readRunConfig } from "../train/resume.ts";

export { readRunConfig } from "../train/resume.ts";
import { evaluateBatches } from "../train/eval.ts";
import { datasetForConfig, modelForConfig, RUN_FILES } from "../train/train.ts";
import { INFO_METRICS, type InfoMetric } from "./info_keys.ts";

export { INFO_METRICS, type InfoMetric } from "./info_keys.ts";

/** The contents of `info.json`. Accuracies in percent; `nc4_ncc` a fraction. */
export type RunInfo =
  & {
    run: {
      model: string;
      width: number;
      loss: string;
      epochs: number;
      seed: number;
      dataset: string;
      num_classes: number;
      loss_params: Record<string, number>;
    };
    /** Checkpoint epochs, ascending; every metric array is aligned with it. */
    epochs: number[];
    best: { epoch: number; train_top1: number; val_top1: number; test_top1: number } | null;
    /** Whether training features were measured with augmentation (the reference's way). */
    eval_augment: boolean;
  }
  & Record<InfoMetric, (number | null)[]>;

/** Options of {@linkcode evaluateRun}. */
export interface EvaluateOptions {
  /** Measure training features with training-time augmentation (the reference's behaviour). */
  augment?: boolean;
  /** Re-evaluate checkpoints already in `info.json`. */
  force?: boolean;
  /** Evaluation batch size (the reference's evaluate script uses 128). */
  batchSize?: number;
  /**
   * Pass 2 of the NC metrics as float32 matrix products on the active tfjs
   * backend (`"float32"`, ≈ 1e-6 relative on NC1, much faster on a GPU) or in
   * float64 JavaScript (`"float64"`, the default).
   */
  projection?: "float64" | "float32";
  /** Overrides the dataset root stored in the run's config. */
  datasetRoot?: string;
  /** Progress hooks. */
  onStart?(total: number, skipped: number): void;
  onCheckpoint?(epoch: number, done: number, total: number, metrics: Record<string, number>): void;
}

/** Largest number of feature values kept in memory to skip pass 2's forward run (64 MiB of float32). */
const FEATURE_CACHE_VALUES = 16 * 1024 * 1024;

/** Checkpoint epochs present in a run folder, ascending. */
export async function listCheckpointEpochs(dir: string): Promise<number[]> {
  const epochs: number[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = /^epoch-(\d+)\.ckpt$/.exec(e.name);
    if (m && e.isFile) epochs.push(Number(m[1]));
  }
  return epochs.sort((a, b) => a - b);
}

/**
 * Evaluates every checkpoint of the run in `dir` and writes `dir/info.json`.
 * Returns the info object.
 */
export async function evaluateRun(dir: string, opts: EvaluateOptions = {}): Promise<RunInfo> {
  const cfg = await readRunConfig(dir);
  const ds = await datasetForConfig(cfg, opts.datasetRoot);
  const epochs = await listCheckpointEpochs(dir);
  if (epochs.length === 0) throw new UserError(`${dir}: no epoch-NNNN.ckpt checkpoints to evaluate`);
  const augment = (opts.augment ?? false) && ds.sampleShape.length === 3;
  const batchSize = opts.batchSize ?? 128;
  const infoPath = joinPath(dir, "info.json");
  // With --force a broken info.json is simply replaced; without, it is an error (it may hold results).
  const previous = (await exists(infoPath))
    ? await readInfo(infoPath).catch((e) => opts.force ? null : Promise.reject(e))
    : null;
  const compatible = previous && previous.eval_augment === augment ? previous : null;
  const reuse = opts.force ? null : compatible;

  const info: RunInfo = emptyInfo(cfg, ds.numClasses, augment);
  const todo = epochs.filter((e) => !reuse?.epochs.includes(e));
  opts.onStart?.(todo.length, epochs.length - todo.length);

  const model = modelForConfig(cfg, ds);
  const lossFn = makeLoss(cfg.loss, cfg);
  const vars = allVariables(model);
  try {
    let done = 0;
    for (const epoch of epochs) {
      const old = reuse?.epochs.indexOf(epoch) ?? -1;
      let row: Record<InfoMetric, number | null>;
      if (old >= 0) {
        row = Object.fromEntries(INFO_METRICS.map((k) => [k, reuse![k]?.[old] ?? null])) as Record<
          InfoMetric,
          number | null
        >;
      } else {
        const path = joinPath(dir, RUN_FILES.epoch(epoch));
        restoreVariables(await readCheckpoint(path), vars, path);
        row = await measureCheckpoint(model, lossFn, ds, {
          augment,
          batchSize,
          seed: cfg.seed,
          projector: opts.projection === "float32" ? tfProjector : undefined,
        });
      }
      info.epochs.push(epoch);
      for (const k of INFO_METRICS) info[k].push(row[k]);
      if (old < 0) {
        done++;
        await writeJsonAtomic(infoPath, withUnreached(info, compatible, epochs));
        opts.onCheckpoint?.(epoch, done, todo.length, row as Record<string, number>);
      }
    }
    const bestPath = joinPath(dir, RUN_FILES.best);
    if (await exists(bestPath)) {
      const ckpt = await readCheckpoint(bestPath);
      restoreVariables(ckpt, vars, bestPath);
      const score = (split: Split) =>
        evaluateBatches(model, lossFn, batches(ds, split, { batchSize }), ds.sampleShape).then((s) => s.top1);
      info.best = {
        epoch: Number(ckpt.meta.epoch),
        train_top1: await score(ds.train),
        val_top1: await score(ds.val),
        test_top1: await score(ds.test),
      };
    }
    await writeJsonAtomic(infoPath, info);
    return info;
  } finally {
    for (const v of vars) v.variable.dispose();
  }
}

/**
 * `info` plus the rows of `previous` (the info.json found at the start) for
 * the checkpoints not measured yet, in epoch order, and its `best`: what is written
 * after each checkpoint, so that an evaluation that stops early (a corrupt
 * checkpoint, an interruption, also under --force) loses none of the results
 * the file held.
 */
function withUnreached(info: RunInfo, previous: RunInfo | null, checkpoints: number[]): RunInfo {
  if (previous === null) return info;
  const rows = info.epochs.map((epoch, i) => ({ epoch, from: info, i }));
  previous.epochs.forEach((epoch, i) => {
    if (!info.epochs.includes(epoch) && checkpoints.includes(epoch)) rows.push({ epoch, from: previous, i });
  });
  rows.sort((a, b) => a.epoch - b.epoch);
  const out: RunInfo = { ...info, epochs: rows.map((r) => r.epoch), best: info.best ?? previous.best };
  for (const k of INFO_METRICS) out[k] = rows.map((r) => r.from[k]?.[r.i] ?? null);
  return out;
}

function emptyInfo(cfg: TrainConfig, numClasses: number, augment: boolean): RunInfo {
  const info = {
    run: {
      model: cfg.model,
      width: cfg.width,
      loss: cfg.loss,
      epochs: cfg.epochs,
      seed: cfg.seed,
      dataset: cfg.dataset,
      num_classes: numClasses,
      loss_params: lossParamsFor(cfg.loss as LossName, cfg) as Record<string, number>,
    },
    epochs: [] as number[],
    best: null,
    eval_augment: augment,
  } as unknown as RunInfo;
  for (const k of INFO_METRICS) info[k] = [];
  return info;
}

async function readInfo(path: string): Promise<RunInfo> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as RunInfo;
  } catch {
    throw new UserError(`${path}: not valid JSON; delete it or pass --force`);
  }
}

/**
 * All metrics of the model's current weights: neural collapse and training
 * loss/accuracy on the training split, loss/accuracy on validation and test.
 */
export async function measureCheckpoint(
  model: Model,
  lossFn: ReturnType<typeof makeLoss>,
  ds: Dataset,
  opts: { augment: boolean; batchSize: number; seed: number; projector?: ProjectorFactory },
): Promise<Record<InfoMetric, number | null>> {
  const { weight, bias } = model.classifier();
  const W = (await weight.data()) as Float32Array;
  const b = bias ? (await bias.data()) as Float32Array : null;
  const acc = new NeuralCollapseAccumulator(model.numClasses, model.featureDim, W, b, { projector: opts.projector });
  try {
    return await measureWith(acc, model, lossFn, ds, opts);
  } finally {
    acc.dispose();
  }
}

async function measureWith(
  acc: NeuralCollapseAccumulator,
  model: Model,
  lossFn: ReturnType<typeof makeLoss>,
  ds: Dataset,
  opts: { augment: boolean; batchSize: number; seed: number },
): Promise<Record<InfoMetric, number | null>> {
  // Batch size changes no result here (evaluation mode); the MLP runs far faster in large batches.
  const batchSize = evaluationBatchSize(model, opts.batchSize);
  const cache = ds.train.n * model.featureDim <= FEATURE_CACHE_VALUES ? [] as Float32Array[] : null;
  let lossSum = 0;
  // With augmentation, both passes must see the same crops and flips: each
  // pass draws from a fresh generator with the same seed.
  const trainBatches = () =>
    batches(ds, ds.train, {
      batchSize,
      augment: opts.augment,
      rng: opts.augment ? new Rng(opts.seed) : undefined,
    });
  const features = (x: Float32Array, n: number, withLoss: boolean, y: Int32Array): Promise<Float32Array> => {
    const out = tf.tidy(() => {
      const r = model.forward(tf.tensor(x.subarray(0, n * sizeOf(ds)), [n, ...ds.sampleShape]), false);
      if (withLoss) {
        lossSum += lossFn(r.logits, tf.tensor1d(y.subarray(0, n), "int32")).dataSync()[0] * n;
      }
      return r.features;
    });
    return out.data().then((d) => {
      out.dispose();
      return d as Float32Array;
    });
  };
  for (const batch of trainBatches()) {
    const h = await features(batch.x, batch.n, true, batch.y);
    acc.addPass1(h, batch.y.subarray(0, batch.n));
    cache?.push(h);
  }
  acc.startPass2();
  let i = 0;
  for (const batch of trainBatches()) {
    const h = cache ? cache[i++] : await features(batch.x, batch.n, false, batch.y);
    acc.addPass2(h, batch.y.subarray(0, batch.n));
  }
  const m: NeuralCollapseMetrics = acc.result();
  const val = ds.val.n > 0
    ? await evaluateBatches(model, lossFn, batches(ds, ds.val, { batchSize }), ds.sampleShape)
    : null;
  const test = await evaluateBatches(
    model,
    lossFn,
    batches(ds, ds.test, { batchSize }),
    ds.sampleShape,
  );
  return {
    nc1: m.nc1,
    nc2: m.nc2,
    nc3: m.nc3,
    nc4_bias: m.nc4_bias,
    nc4_ncc: m.nc4_ncc,
    equinorm_means: m.equinorm_means,
    equinorm_weights: m.equinorm_weights,
    equiangularity: m.equiangularity,
    max_angle: m.max_angle,
    cdnv: m.cdnv,
    train_loss: lossSum / ds.train.n,
    train_top1: m.top1,
    train_top5: m.top5,
    val_loss: val?.loss ?? null,
    val_top1: val?.top1 ?? null,
    val_top5: val?.top5 ?? null,
    test_loss: test.loss,
    test_top1: test.top1,
    test_top5: test.top5,
  };
}

function sizeOf(ds: Dataset): number {
  return ds.sampleShape.reduce((a, b) => a * b, 1);
}
