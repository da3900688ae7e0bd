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
import { exists, joinPath } from "../io.ts";
import { DEFAULT_CONFIG, RUNTIME_SETTINGS, type TrainConfig } from "./train_config.ts";
import { checkpointEpoch, readCheckpointHeader } from "./checkpoint.ts";
import {
  conflictingSettings,
  readRunConfig,
  type RunConfig,
  type RunExtension,
  type SettingConflict,
  writeRunConfig,
} from "./config.ts";
import { RUN_FILES } from "./files.ts";

/** What {@linkcode planResume} decided. */
export interface ResumePlan {
  /** The configuration to resume with: the run's own, with this call's runtime settings and `epochs` possibly raised. */
  config: TrainConfig;
  /** Epochs completed, from `last.ckpt` (an interrupted epoch does not count). */
  completedEpochs: number;
  /** `epochs` in the run's `config.json` before this call. */
  runEpochs: number;
  /** Settings given in this call that differ from the run's and are not used. */
  ignored: SettingConflict[];
}

/**
 * Decides how to resume the run in `current.savePath`: its own settings, the
 * runtime settings of `current`, and `epochs` raised to `given.epochs` when
 * that is larger. `given` holds only the settings the user spelled out (a
 * default must not count as a request); those that differ from the run's are
 * returned as `ignored`. Throws {@linkcode UserError} when there is nothing
 * to resume or `last.ckpt` is not a checkpoint of this run.
 */
export async function planResume(current: TrainConfig, given: Partial<TrainConfig>): Promise<ResumePlan> {
  const dir = current.savePath;
  const lastPath = joinPath(dir, RUN_FILES.last);
  if (!(await exists(lastPath))) throw new UserError(`--load: ${lastPath} does not exist; nothing to resume`);
  const run = await readRunConfig(dir);
  const { meta } = await readCheckpointHeader(lastPath);
  const completedEpochs = checkpointEpoch(meta, lastPath, 0, run.epochs);
  const config: Record<string, unknown> = { ...current };
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[]) {
    if (!RUNTIME_SETTINGS.includes(key)) config[key] = run[key];
  }
  // An empty root means "the dataset's usual place"; the run's root is where its data actually was.
  config.datasetRoot = given.datasetRoot ?? run.datasetRoot ?? current.datasetRoot;
  config.epochs = Math.max(run.epochs, given.epochs ?? 0);
  return {
    config: config as unknown as TrainConfig,
    completedEpochs,
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
  await writeRunConfig(dir, { ...run, epochs, extensions: [...run.extensions, extension] });
}
