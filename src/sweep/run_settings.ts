/**
 * Whether a run folder holds what its sweep trains: every setting that says
 * what a run is (`identitySettings`: model, data, loss, optimisation, seed),
 * compared between the folder's `config.json` and the configuration the
 * sweep's train task builds for that grid point. A folder retrained by hand
 * with other settings (`--lr 0.05`) is refused by the sweep and left out of
 * its figures and report, never averaged into a cell in silence.
 *
 * @module
 */
import { parseFlags } from "../cli.ts";
import { UserError } from "../errors.ts";
import { exists, joinPath } from "../io.ts";
import { identitySettings, readRunConfig, type RunConfig } from "../run/config.ts";
import { RUN_FILES } from "../run/files.ts";
import type { RunRecord } from "../run/load.ts";
import type { TrainConfig } from "../run/train_config.ts";
import { configFromFlags, TRAIN_FLAGS } from "../train/train_flags.ts";
import { expandGrid, type SweepConfig, type SweepRun, trainArguments } from "./grid.ts";

/** The training configuration a sweep's train task builds for one grid point (the task's flag parser owns it). */
export type RunSettings = (run: SweepRun) => TrainConfig;

/**
 * The configuration the train task builds for each grid point of `config`:
 * its own flag parser on the arguments the sweep passes it, so that a run
 * folder's `config.json` can be compared with what the sweep trains.
 */
export function sweepRunSettings(config: SweepConfig): RunSettings {
  return (run) => configFromFlags(parseFlags(trainArguments(config, run), TRAIN_FLAGS));
}

/** A setting in which a run folder differs from its sweep. */
export interface SettingDifference {
  /** The run folder. */
  dir: string;
  /** The setting as `config.json` spells it (`lr`, `weight_decay`). */
  key: string;
  /** Its value in the folder's `config.json`. */
  run: unknown;
  /** Its value in the sweep's grid. */
  sweep: unknown;
}

/**
 * The first setting that says what a run is in which `cfg` (a folder's
 * `config.json`) differs from `expected`, or null when none does.
 *
 * @example
 * ```ts
 * settingDifference("runs/a", { ...cfg, lr: 0.05 }, cfg); // { dir: "runs/a", key: "lr", run: 0.05, sweep: 0.1 }
 * ```
 */
export function settingDifference(dir: string, cfg: RunConfig, expected: TrainConfig): SettingDifference | null {
  const have = identitySettings(cfg);
  const want = identitySettings(expected);
  for (const key of Object.keys(want)) {
    if (JSON.stringify(have[key]) !== JSON.stringify(want[key])) {
      return { dir, key, run: have[key], sweep: want[key] };
    }
  }
  return null;
}

/** One line naming the folder and the setting. */
export function differenceMessage(d: SettingDifference): string {
  return `${joinPath(d.dir, RUN_FILES.config)}: trained with ${d.key} ${JSON.stringify(d.run)}, but its sweep ` +
    `trains ${d.key} ${JSON.stringify(d.sweep)}`;
}

/**
 * Throws {@linkcode UserError} naming the folder and the setting when
 * `run.dir` holds a `config.json` whose settings differ from what `settings`
 * builds for the run; a folder without one is fine.
 */
export async function assertRunSettings(run: SweepRun, settings: RunSettings): Promise<void> {
  if (!(await exists(joinPath(run.dir, RUN_FILES.config)))) return;
  const d = settingDifference(run.dir, await readRunConfig(run.dir), settings(run));
  if (d) throw new UserError(`${differenceMessage(d)}; move that folder away or retrain it with the sweep's settings`);
}

/**
 * The runs of `records` that a sweep of `config` under `root` may count:
 * those that are not one of its grid points, and grid points whose
 * `config.json` has the sweep's settings. The others are returned as
 * `refused`, with the first setting that differs.
 */
export function sweepRunsOnly(
  records: readonly RunRecord[],
  root: string,
  config: SweepConfig,
  settings: RunSettings,
): { kept: RunRecord[]; refused: SettingDifference[] } {
  const grid = new Map(expandGrid(root, config).map((r) => [r.dir, r]));
  const kept: RunRecord[] = [];
  const refused: SettingDifference[] = [];
  for (const record of records) {
    const run = grid.get(record.dir);
    const d = run && record.config ? settingDifference(record.dir, record.config, settings(run)) : null;
    if (d) refused.push(d);
    else kept.push(record);
  }
  return { kept, refused };
}
