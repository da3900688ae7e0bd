/**
 * The sweep manifest, `<root>/manifest.json`: the sweep's configuration and
 * the state of each run (pending → training → trained → evaluating →
 * evaluated, or failed with its reason), with timings. It is rewritten
 * atomically after every change, so an interrupted sweep leaves a readable
 * record that the next invocation resumes from.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { exists, joinPath, writeJsonAtomic } from "../io.ts";
import type { SweepConfig, SweepRun } from "./grid.ts";

/** The manifest's file name inside the sweep root. */
export const MANIFEST_FILE = "manifest.json";

/** Version of the manifest layout. */
export const MANIFEST_VERSION = 1;

/** Where a run stands. */
export type RunState = "pending" | "training" | "trained" | "evaluating" | "evaluated" | "failed";

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
  reason?: string;
  /** Exit status of the failing subprocess (3: training diverged). */
  exitCode?: number;
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
