/**
 * A run folder's `config.json`: the one {@linkcode RunConfig} type, and the
 * only code that reads or writes that file.
 *
 * On disk every key is snake_case, as in `info.json` and `log.jsonl`
 * (format 2):
 *
 * ```json
 * { "format": 2, "dataset": "synthetic", "model": "mlp", "width": 1, "weight_decay": 0.0005, …,
 *   "extensions": [{ "from_epochs": 5, "to_epochs": 8, "at_epoch": 5 }],
 *   "environment": { "backend": "tensorflow", "versions": { … }, "cpu_model": "…", "threads": { … },
 *     "package": { … }, "git_commit": "…", "dataset_summary": { … }, "started": "…" } }
 * ```
 *
 * In memory the training settings are a {@linkcode TrainConfig} (camelCase,
 * TypeScript's convention). Files written by the previous version (no
 * `format` key, camelCase settings, the environment mixed in at the top level)
 * are still read. Every setting is type-checked on reading, so a hand-edited
 * file fails with one line naming the key, not deep inside training.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { joinPath, readTextOrFail, writeFileAtomic } from "../io.ts";
import { LOSS_NAMES } from "../losses/names.ts";
import { DEFAULT_CONFIG, rangeProblem, RUNTIME_SETTINGS, SETTING_RANGES, type TrainConfig } from "./train_config.ts";
import { RUN_FILES } from "./files.ts";

/** Version of the `config.json` layout written by {@linkcode writeRunConfig}. */
export const CONFIG_FORMAT = 2;

/** One extension of a run (`train --load -e` with more epochs). */
export interface RunExtension {
  /** `epochs` before the extension. */
  from_epochs: number;
  /** `epochs` after it. */
  to_epochs: number;
  /** Epochs the run had completed when it was extended. */
  at_epoch: number;
}

/**
 * A run folder's configuration: the settings it was trained with, its
 * extensions, and what the training task recorded about where it ran
 * (backend, versions, dataset summary; informative only).
 */
export type RunConfig = TrainConfig & {
  extensions: RunExtension[];
  environment: Record<string, unknown>;
};

/** `weightDecay` → `weight_decay`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const SETTING_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[];

/**
 * The settings that say what a run is (model, data, loss, optimisation, seed),
 * without the runtime ones and without `epochs` (extending a run keeps its
 * earlier checkpoints valid), as snake_case JSON: what `info.json` records
 * and compares to tell whether its results belong to this run.
 */
export function identitySettings(cfg: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    if (RUNTIME_SETTINGS.includes(key) || key === "epochs") continue;
    out[snakeCase(key)] = cfg[key];
  }
  return out;
}

/** The training settings as `config.json` spells them (snake_case), e.g. for the report's tables. */
export function settingsRecord(cfg: TrainConfig): Record<string, unknown> {
  return Object.fromEntries(SETTING_KEYS.filter((k) => k !== "load").map((k) => [snakeCase(k), cfg[k]]));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks one setting's type and range; returns an error text or "". */
function settingProblem(key: keyof TrainConfig, value: unknown): string {
  const expected = typeof DEFAULT_CONFIG[key];
  // deno-lint-ignore valid-typeof -- compared with the type name of the default, which is always a valid one
  if (typeof value !== expected) return `must be a ${expected}, got ${JSON.stringify(value)}`;
  if (expected !== "number") {
    const choices: Partial<Record<keyof TrainConfig, readonly string[]>> = {
      loss: LOSS_NAMES,
      opt: ["sgd", "adam"],
      lrScheduler: ["step", "cos"],
    };
    const allowed = choices[key];
    if (allowed && !allowed.includes(value as string)) return `is not one of ${allowed.join(", ")}`;
    return "";
  }
  const n = value as number;
  if (!Number.isFinite(n)) return "must be finite";
  const range = SETTING_RANGES[key];
  const problem = range ? rangeProblem(n, range) : "";
  return problem ? `${problem}, got ${n}` : "";
}

/**
 * Parses the text of a `config.json` (format 2, or the previous version's
 * camelCase layout); `path` names the file in errors.
 */
export function parseRunConfig(text: string, path: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
  if (!isRecord(raw)) throw new UserError(`${path}: not a run configuration (expected a JSON object)`);
  const format = raw.format ?? 1;
  if (format !== 1 && format !== CONFIG_FORMAT) {
    throw new UserError(`${path}: config format ${JSON.stringify(format)} is not one this version reads (1 or 2)`);
  }
  const settings: Record<string, unknown> = {};
  const environment: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    // Format 1 spelled the settings in camelCase; `epochs`, `model`, … are the same in both.
    const name = format === 1 ? key : snakeCase(key);
    let value = raw[name];
    if (value === undefined) {
      if (key === "epochs") throw new UserError(`${path}: not a run configuration (no 'epochs')`);
      value = DEFAULT_CONFIG[key]; // a setting added after the run was written: it ran with the default
    }
    // Format 1 overwrote `backend` with the backend actually used; either is a runtime setting.
    if (format === 1 && key === "backend") {
      environment.backend = value;
      value = DEFAULT_CONFIG.backend;
    }
    const problem = settingProblem(key, value);
    if (problem) throw new UserError(`${path}: '${name}' ${problem}`);
    settings[key] = value;
  }
  if (format === 1) {
    for (const [k, v] of Object.entries(raw)) {
      if (!(SETTING_KEYS as string[]).includes(k) && k !== "extensions") environment[k] = v;
    }
  } else if (raw.environment !== undefined) {
    if (!isRecord(raw.environment)) throw new UserError(`${path}: 'environment' must be an object`);
    Object.assign(environment, raw.environment);
  }
  const extensions = raw.extensions ?? [];
  if (
    !Array.isArray(extensions) ||
    !extensions.every((e) =>
      isRecord(e) && ["from_epochs", "to_epochs", "at_epoch"].every((k) => Number.isSafeInteger(e[k]))
    )
  ) {
    throw new UserError(`${path}: 'extensions' must be a list of {from_epochs, to_epochs, at_epoch}`);
  }
  return { ...(settings as unknown as TrainConfig), extensions: extensions as RunExtension[], environment };
}

/** The `config.json` text of `cfg` (format 2). */
export function formatRunConfig(cfg: RunConfig): string {
  return JSON.stringify(
    { format: CONFIG_FORMAT, ...settingsRecord(cfg), extensions: cfg.extensions, environment: cfg.environment },
    null,
    2,
  ) + "\n";
}

/**
 * Reads and validates a run folder's `config.json`.
 *
 * @example
 * ```ts
 * const { model, width, epochs } = await readRunConfig("runs/a");
 * ```
 */
export async function readRunConfig(dir: string): Promise<RunConfig> {
  const path = joinPath(dir, RUN_FILES.config);
  const missing = `${path}: not found; is ${dir} a run folder written by 'deno task train'?`;
  return parseRunConfig(await readTextOrFail(path, missing), path);
}

/** Writes a run folder's `config.json` atomically (format 2). */
export async function writeRunConfig(dir: string, cfg: RunConfig): Promise<void> {
  await writeFileAtomic(joinPath(dir, RUN_FILES.config), formatRunConfig(cfg));
}

/** A setting asked for that differs from the one the run was trained with. */
export interface SettingConflict {
  key: keyof TrainConfig;
  /** The value asked for. */
  given: unknown;
  /** The value in the run's `config.json`. */
  run: unknown;
}

/**
 * The settings of `asked` that a run cannot take because it was trained
 * otherwise: every setting but the {@linkcode RUNTIME_SETTINGS} that `asked`
 * sets to another value; `epochs` only when lower (a run can be extended,
 * not shortened).
 *
 * @example
 * ```ts
 * conflictingSettings({ ...DEFAULT_CONFIG, width: 0.5, epochs: 3 }, { width: 1, epochs: 5, backend: "cpu" });
 * // [{ key: "width", given: 1, run: 0.5 }]
 * ```
 */
export function conflictingSettings(run: Partial<TrainConfig>, asked: Partial<TrainConfig>): SettingConflict[] {
  const conflicts: SettingConflict[] = [];
  for (const key of Object.keys(asked) as (keyof TrainConfig)[]) {
    const given = asked[key];
    if (given === undefined || RUNTIME_SETTINGS.includes(key) || !(key in run)) continue;
    const differs = key === "epochs" ? (given as number) < run.epochs! : given !== run[key];
    if (differs) conflicts.push({ key, given, run: run[key] });
  }
  return conflicts;
}
