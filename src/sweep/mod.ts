/**
 * Sweeps: a grid of independent training runs (losses × widths × training
 * lengths × seeds) trained and evaluated as subprocesses, with a manifest
 * that lets an interrupted sweep resume; presets for the paper's grids and
 * the small reproduction; and the checks of the paper's claims on the
 * evaluated runs.
 *
 * ```ts
 * import { runSweep, sweepPreset } from "./src/sweep/mod.ts";
 *
 * const config = sweepPreset("small");
 * config.epochs = [5];
 * const summary = await runSweep({ root: "runs/try", config, jobs: 2 });
 * console.log(`${summary.evaluated}/${summary.total} runs evaluated`);
 * ```
 *
 * @module
 */
export {
  expandGrid,
  parseLossName,
  SWEEP_OWNED_TRAIN_FLAGS,
  type SweepConfig,
  type SweepRun,
  trainArgsToFlags,
  trainArguments,
  type TrainArgValue,
  validateSweepConfig,
} from "./grid.ts";
export { SWEEP_PRESET_NAMES, SWEEP_PRESETS, sweepPreset, type SweepPresetName } from "./presets.ts";
export {
  assertSameConfig,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type ManifestRun,
  newManifest,
  readManifest,
  type RunState,
  writeManifest,
} from "./manifest.ts";
export { errorLineOf, subprocessRunner, type SweepTask, type TaskResult, type TaskRunner } from "./task_runner.ts";
export {
  EXIT_DIVERGED,
  type PlannedRun,
  planRun,
  planSweep,
  type RunAction,
  runSweep,
  stageArguments,
  type SweepEvent,
  type SweepOptions,
  type SweepSummary,
} from "./run_sweep.ts";
export {
  checkReproduction,
  type ClaimCheck,
  NC1_RATIO_LIMIT,
  reproductionMarkdown,
  reproductionTable,
} from "./reproduction_checks.ts";
