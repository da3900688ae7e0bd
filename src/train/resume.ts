/**
 * Resuming a run folder (`--load`). The run's own `config.json` decides the
 * model, the data and the optimisation, as it did when the run started (the
 * same rule `deno task evaluate` follows); only the
 * {@linkcode RUNTIME_SETTINGS} come from the current call, and `epochs` may
 * be raised to extend the run. Extending rewrites `config.json`'s `epochs`, so
 * evaluate, plot and report see the run's new length, and appends to its
 * `extensions` list: the epochs trained before the extension followed the
 * learning-rate schedule of the shorter run, which a reader of the run must
 * be able to tell.
 *
 * @example
 * ```ts
 * const plan = await planResume({ ...DEFAULT_CONFIG, savePath: "runs/a", load: true }, { epochs: 50 });
 * if (plan.completedEpochs < plan.config.epochs) await trainRun(plan.config, await datasetForConfig(plan.config));
 * ```
 */
import { UserError } from "../errors.ts";
import { exists, joinPath, writeJsonAtomic } from "../io.ts";
import { readCheckpointMeta } from "./checkpoint.ts";
import { DEFAULT_CONFIG, RUNTIME_SETTINGS, type TrainConfig } from "./config.ts";
import { RUN_FILES } from "../run/files.ts";

/** One extension of a run, as `config.json`'s `extensions` records it. */
export interface RunExtension {
  /** `epochs` before the extension. */
  from_epochs: number;
  /** `epochs` after it. */
  to_epochs: number;
  /** Epochs the run had completed when it was extended. */
  at_epoch: number;
}

/**
 * A run folder's `config.json`: the training configuration, the extensions,
 * and what the training task added (backend, versions, dataset summary).
 */
export type RunConfig = TrainConfig & { extensions?: RunExtension[] } & Record<string, unknown>;

/** A setting asked for that differs from the one the run was trained with. */
export interface SettingConflict {
  key: keyof TrainConfig;
  /** The value asked for. */
  given: unknown;
  /** The value in the run's `config.json`. */
  run: unknown;
}

/** What {@linkcode planResume} decided. */
export interface ResumePlan {
  /** The configuration to resume with: the run's own, with this call's runtime settings and `epochs` possibly raised. */
  config: TrainConfig;
  /** Epochs completed, from `last.ckpt`. */
  completedEpochs: number;
  /** `epochs` in the run's `config.json` before this call. */
  runEpochs: number;
  /** Settings given in this call that differ from the run's and are not used. */
  ignored: SettingConflict[];
}

/**
 * Reads a run folder's `config.json`.
 *
 * @example
 * ```ts
 * const { model, width, epochs } = await readRunConfig("runs/a");
 * ```
 */
export async function readRunConfig(dir: string): Promise<RunConfig> {
  const path = joinPath(dir, RUN_FILES.config);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${path}: not found; is ${dir} a run folder written by 'deno task train'?`);
    }
    throw e;
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
  const epochs = (run as { epochs?: unknown } | null)?.epochs;
  if (typeof run !== "object" || Array.isArray(run) || !Number.isInteger(epochs) || (epochs as number) < 1) {
    throw new UserError(`${path}: not a run configuration (no positive integer 'epochs')`);
  }
  return run as RunConfig;
}

/**
 * The settings of `asked` that a resumed run cannot take because the run was
 * trained otherwise: every setting but the {@linkcode RUNTIME_SETTINGS} that
 * `run` records and `asked` sets to another value; `epochs` only when lower
 * (a run can be extended, not shortened).
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

/**
 * Decides how to resume the run in `current.savePath`: its own settings, the
 * runtime settings of `current`, and `epochs` raised to `given.epochs` when
 * that is larger. `given` holds only the settings the user spelled out (a
 * default must not count as a request); those that differ from the run's are
 * returned as `ignored`. Throws {@linkcode UserError} when there is nothing
 * to resume.
 */
export async function planResume(current: TrainConfig, given: Partial<TrainConfig>): Promise<ResumePlan> {
  const dir = current.savePath;
  const lastPath = joinPath(dir, RUN_FILES.last);
  if (!(await exists(lastPath))) throw new UserError(`--load: ${lastPath} does not exist; nothing to resume`);
  const run = await readRunConfig(dir);
  const completedEpochs = (await readCheckpointMeta(lastPath)).epoch;
  if (!Number.isInteger(completedEpochs)) throw new UserError(`${lastPath}: has no epoch; not a last.ckpt`);
  const config: Record<string, unknown> = { ...current };
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[]) {
    if (!RUNTIME_SETTINGS.includes(key) && key in run) config[key] = run[key];
  }
  // An empty root means "the dataset's usual place"; the run's root is where its data actually was.
  config.datasetRoot = given.datasetRoot ?? run.datasetRoot ?? current.datasetRoot;
  config.epochs = Math.max(run.epochs, given.epochs ?? 0);
  return {
    config: config as unknown as TrainConfig,
    completedEpochs: completedEpochs as number,
    runEpochs: run.epochs,
    ignored: conflictingSettings(run, given),
  };
}

/**
 * Rewrites the run's `config.json` (atomically) with `epochs` raised to
 * `epochs`, recording the extension in its `extensions` list.
 */
export async function extendRunConfig(dir: string, run: RunConfig, epochs: number, atEpoch: number): Promise<void> {
  const extension: RunExtension = { from_epochs: run.epochs, to_epochs: epochs, at_epoch: atEpoch };
  await writeJsonAtomic(joinPath(dir, RUN_FILES.config), {
    ...run,
    epochs,
    extensions: [...(run.extensions ?? []), extension],
  });
}
