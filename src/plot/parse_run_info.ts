/**
 * Validation of a run's `info.json`. Every problem becomes one
 * {@linkcode UserError} line that names the file and the field, so a
 * half-written or hand-edited file never ends in a stack trace.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { METRIC_KEYS, type MetricKey, type RunInfo } from "./types.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finiteOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === "number" && Number.isFinite(v));
}

/**
 * Parses and validates the text of an `info.json`; `file` names it in error messages.
 *
 * Metric arrays must have the length of `epochs` and hold numbers or `null`;
 * metrics the file lacks are simply absent from the result.
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
  const run = raw.run;
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
  const epochs = raw.epochs;
  if (!Array.isArray(epochs) || !epochs.every((e) => typeof e === "number" && Number.isFinite(e))) {
    throw new UserError(`${file}: "epochs" must be an array of numbers`);
  }
  const metrics: Partial<Record<MetricKey, (number | null)[]>> = {};
  for (const key of METRIC_KEYS) {
    const series = raw[key];
    if (series === undefined || series === null) continue;
    if (!Array.isArray(series)) throw new UserError(`${file}: "${key}" must be an array`);
    if (series.length !== epochs.length) {
      throw new UserError(
        `${file}: "${key}" has ${series.length} values but "epochs" has ${epochs.length}`,
      );
    }
    const bad = series.findIndex((v) => !finiteOrNull(v));
    if (bad >= 0) {
      throw new UserError(`${file}: "${key}"[${bad}] is ${JSON.stringify(series[bad])}, expected a number or null`);
    }
    metrics[key] = series as (number | null)[];
  }
  let best: RunInfo["best"];
  if (raw.best !== undefined && raw.best !== null) {
    if (!isRecord(raw.best)) throw new UserError(`${file}: "best" must be an object`);
    for (const key of ["epoch", "train_top1", "val_top1", "test_top1"]) {
      const v = raw.best[key];
      if (v !== undefined && !finiteOrNull(v)) throw new UserError(`${file}: best.${key} must be a number or null`);
    }
    best = raw.best as unknown as RunInfo["best"];
  }
  return {
    run: run as unknown as RunInfo["run"],
    epochs: epochs as number[],
    metrics,
    best,
  };
}
