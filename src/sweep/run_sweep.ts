/**
 * Running a sweep: every run of the grid trained and evaluated as
 * independent subprocesses, `jobs` at a time, with the manifest recording
 * each run's state. Re-running the same sweep skips evaluated runs, resumes
 * interrupted training (`--load`), evaluates trained runs, and retries failed
 * runs (except diverged ones, which would diverge again, unless asked).
 *
 * @module
 */
import { exists, joinPath } from "../io.ts";
import { RUN_FILES } from "../run/files.ts";
import { expandGrid, type SweepConfig, type SweepRun, trainArguments } from "./grid.ts";
import {
  assertSameConfig,
  type Manifest,
  type ManifestRun,
  newManifest,
  readManifest,
  writeManifest,
} from "./manifest.ts";
import { subprocessRunner, type TaskRunner } from "./task_runner.ts";

/** Exit status of `tasks/train.ts` when the loss became NaN. */
export const EXIT_DIVERGED = 3;

/** What a sweep would do with one run. */
export type RunAction = "train" | "resume" | "evaluate" | "skip";

/** One run's planned action and, for `skip`, why. */
export interface PlannedRun {
  run: SweepRun;
  action: RunAction;
  note: string;
}

/** Options of {@linkcode runSweep} and {@linkcode planSweep}. */
export interface SweepOptions {
  /** The sweep folder: runs, `manifest.json`, `logs/`. */
  root: string;
  config: SweepConfig;
  /** Preset name recorded in a new manifest. */
  preset?: string;
  /** `--backend` passed to both subprocesses (default `auto`). */
  backend?: string;
  /** Runs in parallel (default 1). */
  jobs?: number;
  /** Also retry runs whose training diverged. */
  retryFailed?: boolean;
  /** Substitute for the subprocesses (tests). */
  runner?: TaskRunner;
  /** Progress events. */
  onEvent?: (event: SweepEvent) => void;
}

/** A progress event: a run was skipped, started or finished. */
export interface SweepEvent {
  kind: "skip" | "start" | "finish";
  run: ManifestRun;
  action: RunAction;
  /** Runs finished (evaluated, failed or skipped) so far, of `total`. */
  done: number;
  total: number;
  /** Estimated seconds left; NaN before any run of this invocation has finished. */
  etaSeconds: number;
}

/** What {@linkcode runSweep} returns. */
export interface SweepSummary {
  manifest: Manifest;
  total: number;
  evaluated: number;
  failed: ManifestRun[];
  /** Runs that needed nothing (already evaluated, or diverged before). */
  skipped: number;
  seconds: number;
}

/** The manifest of `root`, checked against `config`, or a fresh one (not yet written). */
async function loadOrCreateManifest(opts: SweepOptions, runs: SweepRun[]): Promise<Manifest> {
  const existing = await readManifest(opts.root);
  if (!existing) return newManifest(opts.config, runs, opts.preset);
  assertSameConfig(opts.root, existing, opts.config);
  // The same grid written in another order (or by an older invocation) gets any missing entry back.
  const fresh = newManifest(opts.config, runs, opts.preset);
  const ordered: Record<string, ManifestRun> = {};
  for (const r of runs) ordered[r.name] = existing.runs[r.name] ?? fresh.runs[r.name];
  existing.runs = ordered;
  existing.config = opts.config;
  return existing;
}

/** What to do with one run, from its manifest entry and the files in its folder. */
export async function planRun(entry: ManifestRun, run: SweepRun, retryFailed = false): Promise<PlannedRun> {
  const hasInfo = await exists(joinPath(run.dir, RUN_FILES.info));
  const hasLast = await exists(joinPath(run.dir, RUN_FILES.last));
  if (entry.state === "evaluated" && hasInfo) return { run, action: "skip", note: "evaluated" };
  if (entry.state === "failed" && entry.exitCode === EXIT_DIVERGED && !retryFailed) {
    return { run, action: "skip", note: `diverged before (${entry.reason ?? ""}); --retry-failed to try again` };
  }
  const trainedBefore = entry.state === "trained" || entry.state === "evaluating" || entry.state === "evaluated" ||
    (entry.state === "failed" && entry.failedStage === "evaluate");
  if (trainedBefore && hasLast) return { run, action: "evaluate", note: "" };
  if (hasLast) return { run, action: "resume", note: "" };
  return { run, action: "train", note: "" };
}

/**
 * The action of every run of the sweep, without running anything (for
 * `--dry-run`). Throws {@linkcode UserError} for a bad grid or a manifest of
 * another configuration.
 */
export async function planSweep(opts: SweepOptions): Promise<PlannedRun[]> {
  const runs = expandGrid(opts.root, opts.config);
  const manifest = await loadOrCreateManifest(opts, runs);
  return await Promise.all(runs.map((r) => planRun(manifest.runs[r.name], r, opts.retryFailed)));
}

/** The subprocess arguments of a planned run's stages. */
export function stageArguments(
  config: SweepConfig,
  planned: PlannedRun,
  backend = "auto",
): { train?: string[]; evaluate: string[] } {
  const evaluate = ["--save-path", planned.run.dir, "--backend", backend];
  if (planned.action === "skip" || planned.action === "evaluate") return { evaluate };
  const train = [...trainArguments(config, planned.run), "--backend", backend];
  if (planned.action === "resume") train.push("--load");
  return { train, evaluate };
}

/**
 * Runs the sweep: trains and evaluates every run that needs it, `jobs` at a
 * time, rewriting `<root>/manifest.json` at every state change. A failing run
 * is marked failed with its reason and the others carry on.
 *
 * @example
 * ```ts
 * const summary = await runSweep({ root: "runs/small", config: sweepPreset("small"), jobs: 2 });
 * console.log(`${summary.evaluated}/${summary.total} evaluated, ${summary.failed.length} failed`);
 * ```
 */
export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const runner = opts.runner ?? subprocessRunner();
  const backend = opts.backend ?? "auto";
  const runs = expandGrid(opts.root, opts.config);
  const manifest = await loadOrCreateManifest(opts, runs);
  await Deno.mkdir(joinPath(opts.root, "logs"), { recursive: true });
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => (saving = saving.then(() => writeManifest(opts.root, manifest)));
  await save();

  const planned = await Promise.all(runs.map((r) => planRun(manifest.runs[r.name], r, opts.retryFailed)));
  const total = runs.length;
  let done = 0;
  let skipped = 0;
  // The time estimate: seconds per training epoch of the runs finished in this invocation.
  let measuredSeconds = 0;
  let measuredEpochs = 0;
  let remainingEpochs = planned.filter((p) => p.action !== "skip").reduce((s, p) => s + p.run.epochs, 0);
  const jobs = Math.max(1, opts.jobs ?? 1);
  const eta = (): number => {
    if (measuredEpochs === 0) return NaN;
    const left = total - done;
    return (measuredSeconds / measuredEpochs) * remainingEpochs / Math.max(1, Math.min(jobs, left));
  };
  const emit = (kind: SweepEvent["kind"], p: PlannedRun): void =>
    opts.onEvent?.({ kind, run: manifest.runs[p.run.name], action: p.action, done, total, etaSeconds: eta() });

  for (const p of planned) {
    if (p.action !== "skip") continue;
    done++;
    skipped++;
    emit("skip", p);
  }

  const work = async (p: PlannedRun): Promise<void> => {
    const entry = manifest.runs[p.run.name];
    const logPath = joinPath(opts.root, "logs", `${p.run.name}.log`);
    const args = stageArguments(opts.config, p, backend);
    const started = performance.now();
    entry.started ??= new Date().toISOString();
    delete entry.failedStage;
    delete entry.reason;
    delete entry.exitCode;
    emit("start", p);
    const fail = (stage: "train" | "evaluate", code: number, line: string): void => {
      entry.state = "failed";
      entry.failedStage = stage;
      entry.exitCode = code;
      entry.reason = code === EXIT_DIVERGED && stage === "train" ? line || "training diverged" : line;
    };
    try {
      if (args.train) {
        entry.state = "training";
        await save();
        const t = performance.now();
        const result = await runner("train", args.train, logPath);
        entry.trainSeconds += (performance.now() - t) / 1000;
        if (result.code !== 0) {
          fail("train", result.code, result.errorLine);
          return;
        }
        entry.state = "trained";
        await save();
      }
      entry.state = "evaluating";
      await save();
      const t = performance.now();
      const result = await runner("evaluate", args.evaluate, logPath);
      entry.evaluateSeconds += (performance.now() - t) / 1000;
      if (result.code !== 0) fail("evaluate", result.code, result.errorLine);
      else entry.state = "evaluated";
    } catch (e) {
      // A runner that cannot even start the subprocess fails this run, not the sweep.
      fail(entry.state === "evaluating" ? "evaluate" : "train", -1, (e as Error).message);
    } finally {
      entry.finished = new Date().toISOString();
      measuredSeconds += (performance.now() - started) / 1000;
      measuredEpochs += p.run.epochs;
      remainingEpochs -= p.run.epochs;
      done++;
      await save();
      emit("finish", p);
    }
  };

  const queue = planned.filter((p) => p.action !== "skip");
  const worker = async (): Promise<void> => {
    for (let p = queue.shift(); p; p = queue.shift()) await work(p);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, queue.length)) }, worker));
  await saving;

  const entries = Object.values(manifest.runs);
  return {
    manifest,
    total,
    evaluated: entries.filter((e) => e.state === "evaluated").length,
    failed: entries.filter((e) => e.state === "failed"),
    skipped,
    seconds: (performance.now() - t0) / 1000,
  };
}
