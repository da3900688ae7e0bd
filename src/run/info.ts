/**
 * A run folder's `info.json`, what `deno task evaluate` measured: the one
 * {@linkcode RunInfo} type, its parser and its writer. Every problem in a
 * file becomes one {@linkcode UserError} line that names the file and the
 * field, so a half-written or hand-edited file never ends in a stack trace.
 *
 * On disk (format 2), keys are snake_case and every per-checkpoint series is
 * a top-level array aligned with `epochs`:
 *
 * ```json
 * { "format": 2, "run": { "model": "mlp", "width": 1, "loss": "cross_entropy", … },
 *   "trained_with": { "model": "mlp", "width": 1, "weight_decay": 0.0005, … },
 *   "eval_augment": false, "eval_projection": "float64",
 *   "epochs": [1, 2], "checkpoints": [{ "bytes": 90412, "crc32": 1234 }, …],
 *   "nc1": [0.81, 0.52], …, "best": { "epoch": 2, "train_top1": 99.5, … } }
 * ```
 *
 * `trained_with` (the run's identity settings) and `checkpoints` (each
 * measured file's size, payload checksum and modification time) tie every
 * row to the exact checkpoint and configuration it came from: `deno task
 * evaluate` reuses a row only when both still match, and reads the payload
 * again to check its checksum when the file's modification time changed. Files of the previous version (format 1,
 * without them) are still read; their rows are never reused.
 *
 * `deno task evaluate --layers` adds an optional `layers` section: the hidden
 * layers' names and dimensions, and for each metric of `LAYER_METRICS` a
 * series aligned with `epochs` whose entries are `null` (not measured at that
 * checkpoint) or one value per layer:
 *
 * ```json
 * "layers": { "names": ["hidden0", "hidden1"], "dims": [256, 256],
 *   "nc1": [[2.1, 0.9], null], "cdnv": [[0.4, 0.1], null], … }
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { joinPath, readTextOrFail, writeJsonAtomic } from "../io.ts";
import type { CheckpointIdentity } from "./checkpoint.ts";
import { RUN_FILES } from "./files.ts";
import { CHECKPOINT_METRICS, type CheckpointMetric, LAYER_METRICS, type LayerMetric } from "../metrics/table.ts";

/** Version of the `info.json` layout written by {@linkcode writeRunInfo}. */
export const INFO_FORMAT = 2;

/** The `run` block of `info.json`: which experiment a run is, for figures and tables. */
export interface RunSummary {
  /** Network, e.g. `wide_resnet50`. */
  model: string;
  /** Width multiplier, e.g. 0.25, 0.5, 1, 2. */
  width: number;
  /** `cross_entropy`, `label_smoothing`, `focal_loss` or `mean_square_error`. */
  loss: string;
  /** Training length in epochs. */
  epochs: number;
  seed: number;
  /** `cifar10`, `cifar100`, … */
  dataset: string;
  num_classes?: number;
  /** The loss's own parameters: `smoothing` (LS α), `gamma` (FL γ), `rescale` (MSE scale). */
  loss_params?: Record<string, number>;
}

/** The `best` block: the checkpoint with the highest validation top-1 (accuracies in percent). */
export interface BestCheckpoint {
  epoch: number;
  train_top1?: number | null;
  val_top1?: number | null;
  /** Test top-1 of the best-validation model: what the heatmaps compare. */
  test_top1?: number | null;
}

/** One checkpoint's measurement of the hidden layers: per metric, one value per layer (`null` where not measured). */
export type LayerRow = Record<LayerMetric, (number | null)[]>;

/** The `layers` section: the metrics of every hidden layer at each checkpoint (`deno task evaluate --layers`). */
export interface LayerInfo {
  /** The hidden layers, input to output, `[L]` (`hidden0`, … for the MLP; `layer1`, … for a ResNet's stages). */
  names: string[];
  /** Each layer's feature dimension d_l, `[L]`. */
  dims: number[];
  /** Per metric, `[T]` aligned with `epochs`: `null` where the checkpoint's layers were not measured, else `[L]`. */
  metrics: Partial<Record<LayerMetric, ((number | null)[] | null)[]>>;
}

/** A parsed, validated `info.json`. Accuracies are percentages (0–100); `nc4_ncc` a fraction. */
export interface RunInfo {
  run: RunSummary;
  /** Epochs of the measured checkpoints, `[T]`, strictly ascending. */
  epochs: number[];
  /** Per-checkpoint metrics, each `[T]`; absent when the evaluation did not record it. */
  metrics: Partial<Record<CheckpointMetric, (number | null)[]>>;
  best?: BestCheckpoint | null;
  /** Whether training features were measured with augmentation (the reference's way). */
  evalAugment?: boolean;
  /** How the NC projections were computed (`float64` unless the file says otherwise). */
  evalProjection?: "float64" | "float32";
  /** The identity settings of the run that was measured (format 2; absent in older files). */
  trainedWith?: Record<string, unknown>;
  /** Identity of each measured checkpoint file, `[T]` (format 2; absent in older files). */
  checkpoints?: CheckpointIdentity[];
  /** The hidden layers' metrics, when `evaluate --layers` measured them. */
  layers?: LayerInfo | null;
}

/** The row of checkpoint `t` of `layers`, or `null` when its layers were not measured (no `nc1` there). */
export function layerRowAt(layers: LayerInfo | null | undefined, t: number): LayerRow | null {
  if (!layers || !layers.metrics.nc1?.[t]) return null;
  return Object.fromEntries(
    LAYER_METRICS.map((k) => [k, layers.metrics[k]?.[t] ?? layers.names.map(() => null)]),
  ) as LayerRow;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finiteOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === "number" && Number.isFinite(v));
}

/** Whether `key` is a top-1 or top-5 accuracy (a percentage). */
function isAccuracy(key: string): boolean {
  return /_top[15]$/.test(key);
}

function percentOrNull(v: unknown): boolean {
  return v === null || (typeof v === "number" && v >= 0 && v <= 100);
}

/**
 * Parses and validates the text of an `info.json`; `file` names it in error messages.
 *
 * `epochs` must be strictly ascending positive integers; metric arrays must
 * have its length and hold numbers or `null`, accuracies (`*_top1`,
 * `*_top5`, `best.*`) within 0–100; metrics the file lacks are simply absent
 * from the result.
 *
 * @example
 * ```ts
 * const info = parseRunInfo(await Deno.readTextFile("runs/a/info.json"), "runs/a/info.json");
 * info.metrics.nc1?.at(-1);
 * ```
 */
export function parseRunInfo(text: string, file: string): RunInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(raw)) throw new UserError(`${file}: expected a JSON object at the top level`);
  const format = raw.format ?? 1;
  if (format !== 1 && format !== INFO_FORMAT) {
    throw new UserError(`${file}: info format ${JSON.stringify(format)} is not one this version reads (1 or 2)`);
  }
  const run = parseRunSummary(raw.run, file);
  const epochs = parseEpochs(raw.epochs, file);
  const metrics = parseMetrics(raw, epochs.length, file);
  const best = raw.best !== undefined && raw.best !== null ? parseBest(raw.best, file) : null;
  const evalAugment = raw.eval_augment ?? false;
  if (typeof evalAugment !== "boolean") throw new UserError(`${file}: "eval_augment" must be true or false`);
  const evalProjection = raw.eval_projection ?? "float64";
  if (evalProjection !== "float64" && evalProjection !== "float32") {
    throw new UserError(`${file}: "eval_projection" must be "float64" or "float32"`);
  }
  const info: RunInfo = { run, epochs, metrics, best, evalAugment, evalProjection };
  if (raw.layers !== undefined && raw.layers !== null) info.layers = parseLayers(raw.layers, epochs.length, file);
  if (format === INFO_FORMAT) {
    if (!isRecord(raw.trained_with)) throw new UserError(`${file}: "trained_with" must be an object`);
    info.trainedWith = raw.trained_with;
    if (aligned(file, "checkpoints", raw.checkpoints, epochs.length)) {
      const bad = raw.checkpoints.findIndex((c) =>
        !isRecord(c) || !Number.isSafeInteger(c.bytes) || !(c.crc32 === null || Number.isSafeInteger(c.crc32))
      );
      if (bad >= 0) throw new UserError(`${file}: "checkpoints"[${bad}] must be { bytes, crc32 }`);
      info.checkpoints = raw.checkpoints as CheckpointIdentity[];
    }
  }
  return info;
}

/** Whether `series` is an array of `count` values (one per epoch); throws {@linkcode UserError} if not. */
function aligned(file: string, key: string, series: unknown, count: number): series is unknown[] {
  if (!Array.isArray(series)) throw new UserError(`${file}: "${key}" must be an array`);
  if (series.length !== count) {
    throw new UserError(`${file}: "${key}" has ${series.length} values but "epochs" has ${count}`);
  }
  return true;
}

/** The `run` object: model, loss and dataset named, width, epochs and seed numbers. */
function parseRunSummary(run: unknown, file: string): RunSummary {
  if (!isRecord(run)) throw new UserError(`${file}: missing the "run" object`);
  for (const key of ["model", "loss", "dataset"]) {
    if (typeof run[key] !== "string" || run[key] === "") {
      throw new UserError(`${file}: run.${key} must be a non-empty string`);
    }
  }
  for (const key of ["width", "epochs", "seed"]) {
    if (typeof run[key] !== "number" || !Number.isFinite(run[key])) {
      throw new UserError(`${file}: run.${key} must be a number`);
    }
  }
  if (run.loss_params !== undefined && run.loss_params !== null) {
    if (!isRecord(run.loss_params)) throw new UserError(`${file}: run.loss_params must be an object`);
  }
  return run as unknown as RunSummary;
}

/** `epochs`: strictly ascending positive integers. */
function parseEpochs(epochs: unknown, file: string): number[] {
  if (!Array.isArray(epochs) || !epochs.every((e) => Number.isSafeInteger(e) && e >= 1)) {
    throw new UserError(`${file}: "epochs" must be an array of positive integers`);
  }
  if (epochs.some((e, i) => i > 0 && e <= epochs[i - 1])) {
    throw new UserError(`${file}: "epochs" must be strictly ascending`);
  }
  return epochs as number[];
}

/** The metric series present: each aligned with the epochs, numbers or null, accuracies within 0–100. */
function parseMetrics(
  raw: Record<string, unknown>,
  count: number,
  file: string,
): Partial<Record<CheckpointMetric, (number | null)[]>> {
  const metrics: Partial<Record<CheckpointMetric, (number | null)[]>> = {};
  for (const key of CHECKPOINT_METRICS) {
    const series = raw[key];
    if (series === undefined || series === null || !aligned(file, key, series, count)) continue;
    const bad = series.findIndex((v) => !finiteOrNull(v));
    if (bad >= 0) {
      throw new UserError(`${file}: "${key}"[${bad}] is ${JSON.stringify(series[bad])}, expected a number or null`);
    }
    const outside = isAccuracy(key) ? series.findIndex((v) => !percentOrNull(v)) : -1;
    if (outside >= 0) {
      throw new UserError(
        `${file}: "${key}"[${outside}] is ${series[outside]}, but accuracies are percentages (0–100)`,
      );
    }
    metrics[key] = series as (number | null)[];
  }
  return metrics;
}

/** The `best` object: its epoch an integer, its accuracies numbers within 0–100 or null. */
function parseBest(best: unknown, file: string): BestCheckpoint {
  if (!isRecord(best)) throw new UserError(`${file}: "best" must be an object`);
  for (const key of ["train_top1", "val_top1", "test_top1"]) {
    const v = best[key];
    if (v !== undefined && !finiteOrNull(v)) throw new UserError(`${file}: best.${key} must be a number or null`);
    if (v !== undefined && !percentOrNull(v)) {
      throw new UserError(`${file}: best.${key} is ${v}, but accuracies are percentages (0–100)`);
    }
  }
  if (!Number.isSafeInteger(best.epoch)) throw new UserError(`${file}: best.epoch must be an integer`);
  return best as unknown as BestCheckpoint;
}

/** Validates the `layers` section strictly: every key known, every series aligned with `epochs` and the layers. */
function parseLayers(raw: unknown, count: number, file: string): LayerInfo {
  if (!isRecord(raw)) throw new UserError(`${file}: "layers" must be an object`);
  const known = new Set<string>(["names", "dims", ...LAYER_METRICS]);
  const unknown = Object.keys(raw).find((k) => !known.has(k));
  if (unknown !== undefined) {
    throw new UserError(
      `${file}: layers.${unknown} is not a layer metric (expected names, dims, ${LAYER_METRICS.join(", ")})`,
    );
  }
  const { names, dims } = raw;
  if (
    !Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === "string" && n !== "") ||
    new Set(names).size !== names.length
  ) {
    throw new UserError(`${file}: layers.names must be a non-empty array of distinct non-empty strings`);
  }
  if (!Array.isArray(dims) || dims.length !== names.length || !dims.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new UserError(`${file}: layers.dims must be ${names.length} positive integers, one per layer`);
  }
  const metrics: LayerInfo["metrics"] = {};
  for (const key of LAYER_METRICS) {
    const series = raw[key];
    if (series === undefined) continue;
    if (!Array.isArray(series) || series.length !== count) {
      throw new UserError(`${file}: layers.${key} must be an array of ${count} entries, one per epoch`);
    }
    series.forEach((row, t) => {
      if (row === null) return;
      if (!Array.isArray(row) || row.length !== names.length) {
        throw new UserError(`${file}: layers.${key}[${t}] must be null or ${names.length} values, one per layer`);
      }
      const bad = row.findIndex((v) => !finiteOrNull(v));
      if (bad >= 0) {
        throw new UserError(
          `${file}: layers.${key}[${t}][${bad}] is ${JSON.stringify(row[bad])}, expected a number or null`,
        );
      }
    });
    metrics[key] = series as ((number | null)[] | null)[];
  }
  return { names: names as string[], dims: dims as number[], metrics };
}

/** The `info.json` object of `info` (format 2): every series top-level, aligned with `epochs`. */
export function runInfoJson(info: RunInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    format: INFO_FORMAT,
    run: info.run,
    trained_with: info.trainedWith ?? {},
    eval_augment: info.evalAugment ?? false,
    eval_projection: info.evalProjection ?? "float64",
    epochs: info.epochs,
    checkpoints: info.checkpoints ?? info.epochs.map(() => ({ bytes: 0, crc32: null })),
  };
  for (const k of CHECKPOINT_METRICS) out[k] = info.metrics[k] ?? info.epochs.map(() => null);
  out.best = info.best ?? null;
  if (info.layers) {
    const { names, dims, metrics } = info.layers;
    const layers: Record<string, unknown> = { names, dims };
    for (const k of LAYER_METRICS) layers[k] = metrics[k] ?? info.epochs.map(() => null);
    out.layers = layers;
  }
  return out;
}

/** Reads and validates a run folder's `info.json`. */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  const path = joinPath(dir, RUN_FILES.info);
  return parseRunInfo(await readTextOrFail(path, `${path}: no such file (is ${dir} a run folder?)`), path);
}

/** Writes a run folder's `info.json` atomically (format 2). */
export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  await writeJsonAtomic(joinPath(dir, RUN_FILES.info), runInfoJson(info));
}

/**
 * Ascending epochs as short text, runs of consecutive epochs as ranges.
 *
 * @example
 * ```ts
 * epochRanges([1, 2, 3, 5, 7, 8]); // "1–3, 5, 7–8"
 * ```
 */
export function epochRanges(epochs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < epochs.length; i++) {
    let j = i;
    while (j + 1 < epochs.length && epochs[j + 1] === epochs[j] + 1) j++;
    parts.push(j > i ? `${epochs[i]}–${epochs[j]}` : String(epochs[i]));
    i = j;
  }
  return parts.join(", ");
}
