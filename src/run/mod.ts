/**
 * The run folder: what `deno task train` writes and every other task reads.
 * This module owns its file names, the formats of `config.json`, `info.json`
 * and the checkpoints (with checksums), run naming, the lock that keeps one
 * writer per folder, and the dataset and model a configuration builds.
 *
 * @example
 * ```ts
 * import { readRunConfig, readRunInfo, runName } from "./src/run/mod.ts";
 * const cfg = await readRunConfig("runs/reproduce/runs/mlp-1-ce-30-1");
 * const info = await readRunInfo("runs/reproduce/runs/mlp-1-ce-30-1");
 * console.log(runName(info.run), cfg.loss, info.metrics.nc1?.at(-1));
 * ```
 *
 * @module
 */
export { RUN_FILES, SWEEP_FILES } from "./files.ts";
export type { EpochRecord } from "./epoch_log.ts";
export {
  conflictingSettings,
  identitySettings,
  parseRunConfig,
  readRunConfig,
  type RunConfig,
  type RunExtension,
  type SettingConflict,
  settingsRecord,
  writeRunConfig,
} from "./config.ts";
export {
  type BestCheckpoint,
  epochRanges,
  type LayerInfo,
  type LayerRow,
  layerRowAt,
  parseRunInfo,
  readRunInfo,
  type RunInfo,
  type RunSummary,
  writeRunInfo,
} from "./info.ts";
export {
  type Checkpoint,
  checkpointEpoch,
  type CheckpointIdentity,
  decodeCheckpoint,
  encodeCheckpoint,
  type PartialEpoch,
  readCheckpoint,
  readCheckpointHeader,
  type ResumeLimits,
  type ResumeState,
  resumeState,
  type StoredTensor,
  writeCheckpoint,
} from "./checkpoint.ts";
export { findRunDirs, loadRun, loadRuns, type RunRecord, type RunSources } from "./load.ts";
export { runName, widthToken } from "./naming.ts";
export { acquireLock, type Lock, LockedError, withLock } from "./lock.ts";
export { extendRunConfig, planResume, type ResumePlan } from "./resume.ts";
