/**
 * The sweep manifest, `<root>/manifest.json`: the sweep's configuration and
 * the state of each run (pending → training → trained → evaluating →
 * evaluated, or failed with its reason; queued while a Slurm job waits for it,
 * interrupted when its process was stopped), with timings and, under Slurm,
 * its job id. It is rewritten atomically after every change, so an
 * interrupted sweep leaves a readable record that the next invocation resumes
 * from.
 *
 * Many processes may change it at once (a local sweep's workers, a Slurm
 * array's tasks on several nodes of a shared file system): every change is a
 * read-modify-write of the file under an exclusive lock on
 * `<root>/.manifest.lock` ({@linkcode updateManifest}), so none is lost.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { exists, joinPath, writeJsonAtomic } from "../io.ts";
import { SWEEP_FILES } from "../run/files.ts";
import { withLock } from "../run/lock.ts";
import type { SweepConfig, SweepRun } from "./grid.ts";

/** The manifest's file name inside the sweep root. */
export const MANIFEST_FILE = SWEEP_FILES.manifest;

/** The lock file that serialises changes to the manifest. */
export const MANIFEST_LOCK_FILE = ".manifest.lock";

/** Version of the manifest layout. */
export const MANIFEST_VERSION = 1;

/** Where a run stands. */
export type RunState =
  | "pending"
  | "queued"
  | "training"
  | "trained"
  | "evaluating"
  | "evaluated"
  | "interrupted"
  | "failed";

/** Every {@linkcode RunState}, in the order a run passes through them. */
export const RUN_STATES: readonly RunState[] = [
  "pending",
  "queued",
  "training",
  "trained",
  "evaluating",
  "evaluated",
  "interrupted",
  "failed",
];

/** One run's entry in the manifest. */
export interface ManifestRun {
  name: string;
  loss: string;
  width: number;
  epochs: number;
  seed: number;
  state: RunState;
  /** For `failed`: the stage that failed and why (the subprocess's error line). */
  failedStage?: "train" | "evaluate";
  /** Why a run failed, was interrupted or requeued. */
  reason?: string;
  /** Exit status of the failing subprocess (3: training diverged). */
  exitCode?: number;
  /** Under Slurm: the array task running this run, `<array job id>_<task id>`. */
  jobId?: string;
  /** Under Slurm: the node it last ran on, and how often Slurm restarted its task (requeues). */
  node?: string;
  requeues?: number;
  /** Wall-clock seconds spent training and evaluating, summed over attempts. */
  trainSeconds: number;
  evaluateSeconds: number;
  /** ISO times of the first start and of the last finish. */
  started?: string;
  finished?: string;
}

/** The whole manifest. */
export interface Manifest {
  version: number;
  /** The preset the sweep started from, if any (informative only). */
  preset?: string;
  config: SweepConfig;
  created: string;
  updated: string;
  /** Runs by folder name, in grid order. */
  runs: Record<string, ManifestRun>;
  /** Jobs submitted by `--executor slurm`, newest last. */
  slurm?: SlurmSubmission[];
}

/** One `--executor slurm` submission: its job array and the dependent report job. */
export interface SlurmSubmission {
  /** The array's job id (`12345`). */
  arrayJob: string;
  /** The dependent job that draws the figures and the report. */
  reportJob: string;
  /** The batch scripts, as written into `<root>/slurm/`. */
  scripts: string[];
  /** Array task ids (grid positions) and their runs. */
  runs: Record<string, string>;
  submitted: string;
  /**
   * False from the moment the array is submitted held until `scontrol
   * release` has returned: a submission stopped in between (kill -9) leaves a
   * held array that the next submission finds here and cancels. Absent in
   * manifests written before it existed (released).
   */
  released?: boolean;
}

/** A fresh manifest with every run of `runs` pending. */
export function newManifest(config: SweepConfig, runs: readonly SweepRun[], preset?: string): Manifest {
  const now = new Date().toISOString();
  const manifest: Manifest = { version: MANIFEST_VERSION, preset, config, created: now, updated: now, runs: {} };
  for (const r of runs) {
    manifest.runs[r.name] = {
      name: r.name,
      loss: r.loss,
      width: r.width,
      epochs: r.epochs,
      seed: r.seed,
      state: "pending",
      trainSeconds: 0,
      evaluateSeconds: 0,
    };
  }
  return manifest;
}

/** Reads `<root>/manifest.json`; `null` when there is none. Malformed files are {@linkcode UserError}s. */
export async function readManifest(root: string): Promise<Manifest | null> {
  const path = joinPath(root, MANIFEST_FILE);
  if (!(await exists(path))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message}); move it away to start the sweep afresh`);
  }
  const m = parsed as Partial<Manifest>;
  if (
    typeof m !== "object" || m === null || m.version !== MANIFEST_VERSION || typeof m.config !== "object" ||
    typeof m.runs !== "object" || m.runs === null
  ) {
    throw new UserError(`${path}: not a version-${MANIFEST_VERSION} sweep manifest`);
  }
  return m as Manifest;
}

/** Writes the manifest atomically, stamping `updated`. */
export async function writeManifest(root: string, manifest: Manifest): Promise<void> {
  manifest.updated = new Date().toISOString();
  await Deno.mkdir(root, { recursive: true });
  await writeJsonAtomic(joinPath(root, MANIFEST_FILE), manifest);
}

/**
 * Changes the manifest of `root` safely while other processes may change it
 * too: under an exclusive lock on `<root>/.manifest.lock`, reads the current
 * file, lets `change` edit it, and writes it back atomically. Returns what
 * `change` returns. Throws {@linkcode UserError} when there is no manifest.
 *
 * @example
 * ```ts
 * await updateManifest("runs/small", (m) => {
 *   m.runs["mlp-1-ce-30-1"].state = "training";
 * });
 * ```
 */
export async function updateManifest<T>(root: string, change: (manifest: Manifest) => T | Promise<T>): Promise<T> {
  return await withLock(joinPath(root, MANIFEST_LOCK_FILE), async () => {
    const manifest = await readManifest(root);
    if (!manifest) throw new UserError(`${joinPath(root, MANIFEST_FILE)}: no sweep manifest here`);
    const result = await change(manifest);
    await writeManifest(root, manifest);
    return result;
  });
}

/** The configuration as a canonical string: key order and list order do not matter. */
function canonical(config: SweepConfig): string {
  const sortedNumbers = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
  const args = Object.fromEntries(Object.entries(config.trainArgs).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({
    dataset: config.dataset,
    model: config.model,
    losses: [...config.losses].sort(),
    widths: sortedNumbers(config.widths),
    epochs: sortedNumbers(config.epochs),
    seeds: sortedNumbers(config.seeds),
    trainArgs: args,
  });
}

/** The first field in which two configurations differ, for the error message. */
function firstDifference(a: SweepConfig, b: SweepConfig): string {
  const ca = JSON.parse(canonical(a)) as Record<string, unknown>;
  const cb = JSON.parse(canonical(b)) as Record<string, unknown>;
  for (const key of Object.keys(ca)) {
    const x = JSON.stringify(ca[key]);
    const y = JSON.stringify(cb[key]);
    if (x !== y) return `${key} ${x} there, ${y} now`;
  }
  return "";
}

/**
 * Throws {@linkcode UserError} when the manifest in `root` was written for
 * another configuration than `config` (a resumed sweep must train the same grid
 * with the same flags, or its runs would mix settings).
 */
export function assertSameConfig(root: string, manifest: Manifest, config: SweepConfig): void {
  if (canonical(manifest.config) === canonical(config)) return;
  throw new UserError(
    `--runs-dir ${root}: its ${MANIFEST_FILE} was written by another sweep configuration (${
      firstDifference(manifest.config, config)
    }); choose another --runs-dir or repeat that sweep's flags`,
  );
}
