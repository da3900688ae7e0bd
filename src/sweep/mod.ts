/**
 * Sweeps: a grid of independent training runs (losses × widths × training
 * lengths × seeds) trained and evaluated as subprocesses on this machine, or
 * as a Slurm job array, with a manifest that lets an interrupted sweep resume
 * and that many processes update safely; presets for the paper's grids and
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
  type ClaimsConfig,
  claimsOf,
  DEFAULT_EQUIVALENCE_MARGIN,
  defaultClaims,
  expandGrid,
  type GapContrast,
  type GridCell,
  parseLossName,
  SWEEP_OWNED_TRAIN_FLAGS,
  type SweepConfig,
  type SweepRun,
  trainArgsToFlags,
  trainArguments,
  type TrainArgValue,
  validateClaims,
  validateSweepConfig,
} from "./grid.ts";
export { SWEEP_PRESET_NAMES, SWEEP_PRESETS, sweepPreset, type SweepPresetName } from "./presets.ts";
export {
  assertSameConfig,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_LOCK_FILE,
  MANIFEST_VERSION,
  type ManifestRun,
  newManifest,
  readManifest,
  RUN_STATES,
  type RunState,
  type SlurmSubmission,
  updateManifest,
  writeManifest,
} from "./manifest.ts";
export {
  DIE_WITH_PARENT_ENV,
  errorLineOf,
  signalChildren,
  signalReason,
  subprocessRunner,
  type SweepTask,
  taskCommand,
  type TaskResult,
  type TaskRunner,
} from "./task_runner.ts";
export {
  EXIT_DIVERGED,
  EXIT_INTERRUPTED,
  type PlannedRun,
  planRun,
  planSweep,
  type RunAction,
  runStages,
  runSweep,
  stageArguments,
  type StagesContext,
  type StagesOutcome,
  type SweepEvent,
  type SweepOptions,
  type SweepSummary,
  syncManifest,
} from "./run_sweep.ts";
export {
  checkReproduction,
  type ClaimCheck,
  NC1_RATIO_LIMIT,
  reproductionMarkdown,
  reproductionTable,
  type Verdict,
} from "./reproduction_checks.ts";
export {
  arrayScript,
  arraySpec,
  reportScript,
  sbatchWord,
  scriptValue,
  shellQuote,
  SLURM_DEFAULTS,
  type SlurmOptions,
  slurmTimeSeconds,
  thisCommandLine,
} from "./slurm_script.ts";
export {
  findOnPath,
  SLURM_SCRIPTS_DIR,
  type SlurmJob,
  type SlurmSubmitResult,
  type SlurmSweepOptions,
  squeueJobs,
  submitSlurmSweep,
  type SweepStatus,
  sweepStatus,
} from "./slurm.ts";
export { type ArrayTaskExit, type ArrayTaskOptions, gpuLogLine, runArrayTask, slurmArrayTask } from "./array_task.ts";
export { executeSweep, type ExecuteSweepOptions, submitSweep, sweepPlanLines } from "./execute_sweep.ts";
export {
  EXECUTOR_FLAGS,
  GRID_FLAGS,
  PASSTHROUGH_TRAIN_FLAGS,
  RUN_FLAGS,
  slurmOptionsFromFlags,
  SWEEP_FLAGS,
  sweepConfigFromFlags,
} from "./flags.ts";
export { drawSweepReport, type SweepReportPaths } from "./sweep_report.ts";
export {
  checkClaims,
  CHECKPOINT_KINDS,
  CHECKPOINT_LABELS,
  type CheckpointKind,
  type ClaimDecisions,
  type ClaimOptions,
  claimsGridMarkdown,
  claimsSection,
  claimsTablesMarkdown,
  type ClaimTables,
  claimTables,
  decideClaims,
  formatInterval,
  hasClaimGrid,
  type RunValues,
  runValues,
} from "./claims.ts";
export {
  assertRunSettings,
  differenceMessage,
  type RunSettings,
  type SettingDifference,
  settingDifference,
  sweepRunSettings,
  sweepRunsOnly,
} from "./run_settings.ts";
