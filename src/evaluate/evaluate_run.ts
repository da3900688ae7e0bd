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
 * With `layers: true` (`deno task evaluate --layers`) it also measures the
 * metrics that need no classifier at every hidden layer of the network
 * (`measure_layers.ts`) into `info.json`'s `layers` section.
 *
 * Deliberate difference from the reference: training features are measured
 * without augmentation by default (the reference leaves the random crop and
 * flip on while measuring); `augment: true` reproduces the reference.
 */
import { batches } from "../data/batches.ts";
import type { Dataset, Split } from "../data/types.ts";
import { UserError } from "../errors.ts";
import { exists, joinPath, removeTemporaries } from "../io.ts";
import { type LossName, lossParamsFor, makeLoss } from "../losses/mod.ts";
import { type BatchSource, measureBatches, type NeuralCollapseMetrics, type ProjectorFactory } from "../metrics/mod.ts";
import { tfProjector } from "../backend/projector.ts";
import { graphInputArray } from "../backend/graph/graph_runner.ts";
import {
  evaluateBatch,
  evaluateBatches,
  evaluationBatches,
  evaluationBatchSize,
  restoreVariables,
} from "../forward/mod.ts";
import { allVariables, type Model } from "../models/mod.ts";
import { Rng } from "../rng.ts";
import {
  checkpointEpoch,
  type CheckpointIdentity,
  checkpointPayloadIntact,
  readCheckpoint,
  readCheckpointHeader,
} from "../run/checkpoint.ts";
import { identitySettings, readRunConfig, type RunConfig } from "../run/config.ts";
import { checkRunFits } from "../run/budget.ts";
import { datasetForConfig, modelForConfig } from "../run/factories.ts";
import { RUN_FILES } from "../run/files.ts";
import {
  epochRanges,
  type LayerInfo,
  type LayerRow,
  layerRowAt,
  readRunInfo,
  type RunInfo,
  writeRunInfo,
} from "../run/info.ts";
import { acquireLock } from "../run/lock.ts";
import { CHECKPOINT_METRICS, type CheckpointMetric, LAYER_METRICS } from "../metrics/table.ts";
import { measureLayers } from "./measure_layers.ts";

/** Re-exported from `src/run/info.ts`, where every task that names epochs finds it. */
export { epochRanges };

export { readRunConfig } from "../run/config.ts";
export type { RunInfo } from "../run/info.ts";

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
  /**
   * Also measure the metrics that need no classifier (`LAYER_METRICS`) at
   * every hidden layer (`model.layers`) of each checkpoint, into `info.layers`.
   * Without it, layer rows of an earlier `info.json` are kept for the
   * checkpoints whose rows are reused.
   */
  layers?: boolean;
  /**
   * Called once when the earlier `info.json` holds rows of epochs whose
   * checkpoint file is gone: `kept` stay in `info.json` (measured the same
   * way, nothing can measure them again); `dropped` go (measured otherwise,
   * only with `force`).
   */
  onCheckpointsGone?(kept: number[], dropped: number[]): void;
  /** Progress hooks. */
  onStart?(total: number, skipped: number): void;
  onCheckpoint?(
    epoch: number,
    done: number,
    total: number,
    metrics: Record<string, number>,
    layers: LayerRow | null,
  ): void;
}

/** Largest number of feature values kept in memory to skip pass 2's forward run (64 MiB of float32). */
const FEATURE_CACHE_VALUES = 16 * 1024 * 1024;

/** How {@linkcode measureCheckpoint} measures. */
export interface MeasureOptions {
  /** Measure training features with training-time augmentation. */
  augment: boolean;
  batchSize: number;
  /** The generator's seed of the augmentation. */
  seed: number;
  /** Pass 2's products (default float64). */
  projector?: ProjectorFactory;
  /** Memory kept from call to call (default: new memory each call). */
  memory?: MeasurementMemory;
}

/**
 * What one evaluation keeps from checkpoint to checkpoint: the training
 * features' memory between the two passes of a measurement (writing into
 * memory already touched is several times faster than into new pages), and
 * the splits normalised once (see `normaliseSplit`), each up to
 * `NORMALISED_SPLIT_VALUES` (`evaluationBatches`).
 */
export interface MeasurementMemory {
  features: Float32Array | null;
  splits: Map<Split, Float32Array>;
}

/** A new, empty {@linkcode MeasurementMemory}. */
export function measurementMemory(): MeasurementMemory {
  return { features: null, splits: new Map() };
}

/** `length` values of the kept feature memory (allocated, or grown, on first need), or new memory without one. */
function featureMemory(memory: MeasurementMemory | undefined, length: number): Float32Array {
  if (memory === undefined) return new Float32Array(length);
  if (memory.features === null || memory.features.length < length) memory.features = new Float32Array(length);
  return memory.features.subarray(0, length);
}

/** One `epoch-NNNN.ckpt` of a run folder. */
export interface CheckpointFile {
  epoch: number;
  /** The file as found (`dir/epoch-0002.ckpt`, or another spelling such as `dir/epoch-2.ckpt`). */
  path: string;
}

/**
 * The epoch checkpoints of a run folder, ascending. Every name of the form
 * `epoch-<digits>.ckpt` counts: two names of one epoch (`epoch-2.ckpt`
 * beside `epoch-0002.ckpt`) are refused, naming both; so is such a name on a
 * folder, or on a symbolic link that leaves the run folder or points
 * nowhere (see {@linkcode checkInsideRun}). Nothing is skipped silently.
 *
 * @example
 * ```ts
 * (await listCheckpoints("runs/a")).map((c) => c.epoch); // [1, 2, 3]
 * ```
 */
export async function listCheckpoints(dir: string): Promise<CheckpointFile[]> {
  const byEpoch = new Map<number, string>();
  for await (const e of Deno.readDir(dir)) {
    const epoch = RUN_FILES.epochOf(e.name);
    if (epoch === null) continue;
    const path = joinPath(dir, e.name);
    if (e.isSymlink) await checkInsideRun(dir, path);
    else if (!e.isFile) throw new UserError(`${path}: not a file, but its name is a checkpoint's; rename or remove it`);
    const other = byEpoch.get(epoch);
    if (other !== undefined) {
      throw new UserError(`${dir}: ${other} and ${e.name} are both the checkpoint of epoch ${epoch}; keep one`);
    }
    byEpoch.set(epoch, e.name);
  }
  return [...byEpoch].sort((a, b) => a[0] - b[0]).map(([epoch, name]) => ({ epoch, path: joinPath(dir, name) }));
}

/**
 * Checks that the symbolic link `path` in run folder `dir` leads to a file
 * inside the folder (after resolving every link on the way): a checkpoint
 * linked from elsewhere is refused in one line, as is a dangling link, so a
 * run folder from someone else cannot make evaluate read other files.
 */
export async function checkInsideRun(dir: string, path: string): Promise<void> {
  let target: string;
  try {
    target = await Deno.realPath(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "points to no file" : (e as Error).message;
    throw new UserError(`${path}: a symbolic link that ${why}; replace it with the checkpoint file`);
  }
  const root = await Deno.realPath(dir);
  if (!target.startsWith(root.endsWith("/") ? root : `${root}/`)) {
    throw new UserError(
      `${path}: a symbolic link to ${target}, outside the run folder; checkpoints are read only from inside it ` +
        `(copy the file in)`,
    );
  }
  if (!(await Deno.stat(target)).isFile) throw new UserError(`${path}: a symbolic link to ${target}, not a file`);
}

/**
 * Whether the checkpoint at `path`, whose header now gives `now`, is the file
 * measured as `then`: the same size and recorded payload checksum, and a
 * payload whose checksum is still the one recorded (read in full: a payload
 * changed in place under an unchanged header, by a flipped byte, say, no
 * longer passes). Reading the payload costs far less than measuring the
 * checkpoint again, and keeps `info.json` free of file times, so that it is
 * the same file on every rerun.
 */
async function sameFile(then: CheckpointIdentity | undefined, now: CheckpointIdentity, path: string): Promise<boolean> {
  if (then === undefined || then.crc32 === null || then.crc32 !== now.crc32 || then.bytes !== now.bytes) return false;
  return await checkpointPayloadIntact(path);
}

/**
 * How `previous` was measured differently from an evaluation with these
 * settings (`"without augmentation"`, `"for a run with other settings"`, …),
 * or null when its rows can stand beside the new ones.
 */
function unlikeMeasurement(
  previous: RunInfo,
  augment: boolean,
  projection: "float64" | "float32",
  trainedWith: Record<string, unknown>,
): string | null {
  if (!previous.trainedWith || !previous.checkpoints) return "by an older version (info.json format 1)";
  if (previous.evalAugment !== augment) return previous.evalAugment ? "with augmentation" : "without augmentation";
  if (previous.evalProjection !== projection) return `with ${previous.evalProjection} projections`;
  if (JSON.stringify(previous.trainedWith) !== JSON.stringify(trainedWith)) return "for a run with other settings";
  return null;
}

/**
 * Evaluates every checkpoint of the run in `dir` and writes `dir/info.json`,
 * holding the run folder's lock. A row of an earlier `info.json` is reused
 * only when it was measured the same way, on a run with the same identity
 * settings, from a checkpoint file with the same size and checksum and
 * either the same modification time or an intact payload (read again to
 * check); every other row is measured again. A row whose checkpoint file is gone is kept
 * when it was measured the same way; otherwise the evaluation is refused
 * until `force`, which drops it (`onCheckpointsGone` hears of both). Returns
 * the info.
 */
export async function evaluateRun(dir: string, opts: EvaluateOptions = {}): Promise<RunInfo> {
  await readRunConfig(dir); // a clear error for a folder that is not a run, before locking it
  const lock = await acquireLock(joinPath(dir, RUN_FILES.lock), "evaluate");
  try {
    await removeTemporaries(dir);
    return await evaluateLocked(dir, await readRunConfig(dir), opts);
  } finally {
    lock.release();
  }
}

/**
 * The epoch checkpoints of `dir` and their identities, each file's own epoch
 * checked against its name; a `best.ckpt` link must stay inside the folder.
 */
async function checkpointsToEvaluate(
  dir: string,
): Promise<{ files: CheckpointFile[]; identities: CheckpointIdentity[] }> {
  const files = await listCheckpoints(dir);
  if (files.length === 0) throw new UserError(`${dir}: no epoch-NNNN.ckpt checkpoints to evaluate`);
  const bestPath = joinPath(dir, RUN_FILES.best);
  if (await Deno.lstat(bestPath).then((s) => s.isSymlink, () => false)) await checkInsideRun(dir, bestPath);
  const identities: CheckpointIdentity[] = [];
  for (const { epoch, path } of files) {
    const { meta, identity } = await readCheckpointHeader(path);
    checkpointEpoch(meta, path, epoch, epoch); // the file's own epoch must be the one its name says
    identities.push(identity);
  }
  return { files, identities };
}

/** How this evaluation measures: what an earlier `info.json` must share for its rows to be kept. */
interface Measurement {
  augment: boolean;
  projection: "float64" | "float32";
  trainedWith: Record<string, unknown>;
}

/**
 * One row of the new `info.json`: a checkpoint on disk, or a kept row whose
 * file is gone (`path` null). `prior` is the row of the compatible earlier
 * `info.json` measured on exactly this file (or kept), else -1.
 */
interface InfoEntry {
  epoch: number;
  path: string | null;
  identity: CheckpointIdentity;
  prior: number;
}

/**
 * The earlier `info.json` whose rows can be kept (`compatible`, null when
 * there is none or it was measured otherwise), and every row of the new one,
 * ascending. Rows whose checkpoint file is gone (deleted to save disk) are
 * kept when they were measured this same way: nothing can measure them
 * again. Rows measured otherwise cannot sit beside the new ones: refused
 * without `force`.
 */
async function planEntries(
  dir: string,
  checkpoints: { files: CheckpointFile[]; identities: CheckpointIdentity[] },
  measurement: Measurement,
  opts: EvaluateOptions,
): Promise<{ compatible: RunInfo | null; entries: InfoEntry[] }> {
  const { files, identities } = checkpoints;
  const infoPath = joinPath(dir, RUN_FILES.info);
  // With --force a broken info.json is simply replaced; without, it is an error (it may hold results).
  let previous: RunInfo | null = null;
  if (await exists(infoPath)) {
    try {
      previous = await readRunInfo(dir);
    } catch (e) {
      if (!opts.force) throw new UserError(`${(e as Error).message}; delete it or pass --force`);
    }
  }
  const unlike = previous &&
    unlikeMeasurement(previous, measurement.augment, measurement.projection, measurement.trainedWith);
  const compatible = previous && !unlike ? previous : null;
  const onDisk = new Set(files.map((f) => f.epoch));
  const gone = previous ? previous.epochs.filter((e) => !onDisk.has(e)) : [];
  if (gone.length > 0 && unlike && !opts.force) {
    throw new UserError(
      `${infoPath}: holds results of epochs ${epochRanges(gone)}, whose checkpoints are gone, measured ${unlike}; ` +
        `they cannot be kept beside new results: restore the checkpoints, or pass --force to drop those rows`,
    );
  }
  if (gone.length > 0) opts.onCheckpointsGone?.(compatible ? gone : [], compatible ? [] : gone);
  const priors: number[] = [];
  for (const [i, { epoch, path }] of files.entries()) {
    const j = compatible ? compatible.epochs.indexOf(epoch) : -1;
    priors.push(j >= 0 && await sameFile(compatible!.checkpoints![j], identities[i], path) ? j : -1);
  }
  const entries = [
    ...files.map(({ epoch, path }, i) => ({
      epoch,
      path: path as string | null,
      identity: identities[i],
      prior: priors[i],
    })),
    ...(compatible ? gone : []).map((epoch) => {
      const j = compatible!.epochs.indexOf(epoch);
      return { epoch, path: null, identity: compatible!.checkpoints![j], prior: j };
    }),
  ].sort((a, b) => a.epoch - b.epoch);
  return { compatible, entries };
}

/** An `info.json` with the run's description and no rows yet. */
function emptyInfo(cfg: RunConfig, ds: Dataset, measurement: Measurement): RunInfo {
  return {
    run: {
      model: cfg.model,
      width: cfg.width,
      loss: cfg.loss,
      epochs: cfg.epochs,
      seed: cfg.seed,
      dataset: cfg.dataset,
      num_classes: ds.numClasses,
      loss_params: lossParamsFor(cfg.loss as LossName, cfg) as Record<string, number>,
    },
    epochs: [],
    metrics: Object.fromEntries(CHECKPOINT_METRICS.map((k) => [k, []])),
    best: null,
    evalAugment: measurement.augment,
    evalProjection: measurement.projection,
    trainedWith: measurement.trainedWith,
    checkpoints: [],
  };
}

/** The new `info.json`'s rows beside the earlier one's, and the model's layers. */
class InfoRows {
  readonly #sameLayers: boolean;
  readonly #layerNames: string[];
  readonly #layerDims: number[];

  constructor(
    readonly entries: InfoEntry[],
    readonly compatible: RunInfo | null,
    model: Model,
  ) {
    this.#layerNames = model.layers.map((l) => l.name);
    this.#layerDims = model.layers.map((l) => l.dim);
    this.#sameLayers = JSON.stringify(compatible?.layers?.names) === JSON.stringify(this.#layerNames);
  }

  /** The layer row of `compatible` of entry `i`, or null. */
  layerRowOf(i: number): LayerRow | null {
    return this.#sameLayers && this.entries[i].prior >= 0
      ? layerRowAt(this.compatible!.layers, this.entries[i].prior)
      : null;
  }

  /** `{ layers }` of the rows `rows` (aligned with the epochs written); `{}` when no row was measured. */
  layerSection(rows: (LayerRow | null)[]): Pick<RunInfo, "layers"> {
    if (!rows.some((r) => r !== null)) return {};
    const metrics = Object.fromEntries(LAYER_METRICS.map((k) => [k, rows.map((r) => r ? r[k] : null)]));
    const layers: LayerInfo = { names: this.#layerNames, dims: this.#layerDims, metrics };
    return { layers };
  }

  /**
   * `info` so far (with `layerRows`, the layer rows of `info.epochs`), plus
   * the still-valid rows of the checkpoints not reached yet (an interrupted
   * evaluation loses nothing).
   */
  withUnreached(info: RunInfo, layerRows: (LayerRow | null)[]): RunInfo {
    const out: RunInfo = { ...info, epochs: [], checkpoints: [], metrics: {} };
    for (const k of CHECKPOINT_METRICS) out.metrics[k] = [];
    const outLayers: (LayerRow | null)[] = [];
    this.entries.forEach(({ epoch, identity, prior }, i) => {
      const mine = info.epochs.indexOf(epoch);
      if (mine < 0 && prior < 0) return;
      out.epochs.push(epoch);
      out.checkpoints!.push(identity);
      for (const k of CHECKPOINT_METRICS) {
        out.metrics[k]!.push(mine >= 0 ? info.metrics[k]![mine] : this.compatible!.metrics[k]?.[prior] ?? null);
      }
      outLayers.push(mine >= 0 ? layerRows[mine] : this.layerRowOf(i));
    });
    out.best = info.best ?? this.compatible?.best ?? null;
    return { ...out, ...this.layerSection(outLayers) };
  }
}

/** Top-1 of `best.ckpt` on every split, or null when the run has none. */
async function scoreBest(
  dir: string,
  cfg: RunConfig,
  model: Model,
  lossFn: ReturnType<typeof makeLoss>,
  ds: Dataset,
  measureOptions: MeasureOptions,
): Promise<RunInfo["best"]> {
  const bestPath = joinPath(dir, RUN_FILES.best);
  if (!(await exists(bestPath))) return null;
  const ckpt = await readCheckpoint(bestPath);
  const epoch = checkpointEpoch(ckpt.meta, bestPath, 1, cfg.epochs);
  restoreVariables(ckpt, allVariables(model), bestPath);
  const { batchSize, memory } = measureOptions;
  const score = (split: Split) =>
    evaluateBatches(model, lossFn, evaluationBatches(ds, split, batchSize, memory!.splits), ds.sampleShape)
      .then((s) => s.top1);
  return {
    epoch,
    train_top1: await score(ds.train),
    val_top1: await score(ds.val),
    test_top1: await score(ds.test),
  };
}

async function evaluateLocked(dir: string, cfg: RunConfig, opts: EvaluateOptions): Promise<RunInfo> {
  checkRunFits(cfg); // a config.json edited to an enormous model fails in one line, before anything is allocated
  const ds = await datasetForConfig(cfg, opts.datasetRoot);
  const checkpoints = await checkpointsToEvaluate(dir);
  const measurement: Measurement = {
    augment: (opts.augment ?? false) && ds.sampleShape.length === 3,
    projection: opts.projection ?? "float64",
    trainedWith: identitySettings(cfg),
  };
  const { compatible, entries } = await planEntries(dir, checkpoints, measurement, opts);
  const info = emptyInfo(cfg, ds, measurement);

  const model = modelForConfig(cfg, ds);
  const lossFn = makeLoss(cfg.loss, cfg);
  const vars = allVariables(model);
  const rows = new InfoRows(entries, compatible, model);
  // --force measures again every checkpoint on disk; a kept row has no file to measure.
  const redo = (i: number): boolean => opts.force === true && entries[i].path !== null;
  const reusable = entries.map((e, i) => redo(i) ? -1 : e.prior);
  const reusableLayers = entries.map((_, i) => redo(i) ? null : rows.layerRowOf(i));
  const measureNow = entries.map((e, i) =>
    e.path !== null && (reusable[i] < 0 || (opts.layers === true && reusableLayers[i] === null))
  );
  const todo = measureNow.filter((m) => m).length;
  opts.onStart?.(todo, checkpoints.files.length - todo);
  /** The layer rows of `info.epochs`. */
  const layerRows: (LayerRow | null)[] = [];
  const measureOptions: MeasureOptions = {
    augment: measurement.augment,
    batchSize: opts.batchSize ?? 128,
    seed: cfg.seed,
    projector: measurement.projection === "float32" ? tfProjector : undefined,
    memory: measurementMemory(),
  };
  try {
    let done = 0;
    for (const [i, { epoch, path, identity }] of entries.entries()) {
      const old = reusable[i];
      let layerRow = reusableLayers[i];
      if (measureNow[i]) restoreVariables(await readCheckpoint(path!), vars, path!);
      let row: Record<CheckpointMetric, number | null>;
      if (old >= 0) {
        row = Object.fromEntries(CHECKPOINT_METRICS.map((k) => [k, compatible!.metrics[k]?.[old] ?? null])) as Record<
          CheckpointMetric,
          number | null
        >;
      } else {
        row = await namingCheckpoint(path!, () => measureCheckpoint(model, lossFn, ds, measureOptions));
      }
      if (measureNow[i] && opts.layers && layerRow === null) {
        layerRow = await namingCheckpoint(path!, () => measureLayers(model, ds, measureOptions));
      }
      info.epochs.push(epoch);
      info.checkpoints!.push(identity);
      for (const k of CHECKPOINT_METRICS) info.metrics[k]!.push(row[k]);
      layerRows.push(layerRow);
      if (measureNow[i]) {
        done++;
        await writeRunInfo(dir, rows.withUnreached(info, layerRows));
        opts.onCheckpoint?.(epoch, done, todo, row as Record<string, number>, layerRow);
      }
    }
    const best = await scoreBest(dir, cfg, model, lossFn, ds, measureOptions);
    if (best) info.best = best;
    Object.assign(info, rows.layerSection(layerRows));
    await writeRunInfo(dir, info);
    return info;
  } finally {
    for (const v of vars) v.variable.dispose();
  }
}

/**
 * What `measure` returns; a {@linkcode UserError} it throws (a NaN among the
 * features of a diverged or crafted checkpoint) is thrown again with the
 * checkpoint's path in front, so that the message names the file.
 */
async function namingCheckpoint<T>(path: string, measure: () => Promise<T>): Promise<T> {
  try {
    return await measure();
  } catch (e) {
    if (e instanceof UserError && !e.message.startsWith(path)) throw new UserError(`${path}: ${e.message}`);
    throw e;
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
  opts: MeasureOptions,
): Promise<Record<CheckpointMetric, number | null>> {
  const { weight, bias } = model.classifier();
  const W = (await weight.data()) as Float32Array;
  const b = bias ? (await bias.data()) as Float32Array : null;
  return await measureWith(W, b, model, lossFn, ds, opts);
}

/**
 * The training split's features as a two-pass {@linkcode BatchSource}: pass 1
 * runs the model (summing the training loss, `meanLoss`) and keeps the
 * features when they are small; pass 2 reads them back, or runs the model
 * again over the same batches.
 */
function trainingFeatures(
  model: Model,
  lossFn: ReturnType<typeof makeLoss>,
  ds: Dataset,
  opts: MeasureOptions,
  batchSize: number,
): { source: BatchSource; meanLoss: () => number } {
  const d = model.featureDim;
  const cache = ds.train.n * d <= FEATURE_CACHE_VALUES ? featureMemory(opts.memory, ds.train.n * d) : null;
  let lossSum = 0;
  // With augmentation, both passes must see the same crops and flips: each
  // pass draws from a fresh generator with the same seed.
  const trainBatches = () =>
    opts.augment
      ? batches(ds, ds.train, { batchSize, augment: true, rng: new Rng(opts.seed), allocate: graphInputArray })
      : evaluationBatches(ds, ds.train, batchSize, opts.memory?.splits);
  const features = (x: Float32Array, n: number, withLoss: boolean, y: Int32Array, into?: Float32Array) => {
    const r = evaluateBatch(model, lossFn, { x, y, n }, ds.sampleShape, true, into);
    if (withLoss) lossSum += r.meanLoss * n;
    return r.features!;
  };
  // Pass 1 also sums the training loss and keeps the features (when small) for pass 2.
  let pass = 0;
  const source: BatchSource = {
    count: ds.train.n,
    async *batches() {
      const first = pass++ === 0;
      let row = 0;
      for (const batch of trainBatches()) {
        const kept = cache?.subarray(row * d, (row + batch.n) * d);
        row += batch.n;
        const h = !first && kept ? kept : features(batch.x, batch.n, first, batch.y, kept);
        // batches() reuses its label buffer, and the next batch is read before this one is measured.
        yield { features: h, labels: batch.y.slice(0, batch.n) };
      }
    },
  };
  return { source, meanLoss: () => lossSum / ds.train.n };
}

async function measureWith(
  W: Float32Array,
  b: Float32Array | null,
  model: Model,
  lossFn: ReturnType<typeof makeLoss>,
  ds: Dataset,
  opts: MeasureOptions,
): Promise<Record<CheckpointMetric, number | null>> {
  // Batch size changes no result here (evaluation mode); the MLP runs far faster in large batches.
  const batchSize = evaluationBatchSize(model, opts.batchSize);
  const { source, meanLoss } = trainingFeatures(model, lossFn, ds, opts, batchSize);
  // One thread: the float64 sums in the order of the batches, as on every run before.
  const m: NeuralCollapseMetrics = await measureBatches(source, model.featureDim, W, b, {
    threads: 1,
    projector: opts.projector,
    names: {
      features: "training features",
      labels: "training labels",
      weights: "classifier weights",
      bias: "classifier bias",
    },
  });
  const val = ds.val.n > 0
    ? await evaluateBatches(
      model,
      lossFn,
      evaluationBatches(ds, ds.val, batchSize, opts.memory?.splits),
      ds.sampleShape,
    )
    : null;
  const test = await evaluateBatches(
    model,
    lossFn,
    evaluationBatches(ds, ds.test, batchSize, opts.memory?.splits),
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
    train_loss: meanLoss(),
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
