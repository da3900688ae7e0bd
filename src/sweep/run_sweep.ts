/**
 * Running a sweep: every run of the grid trained and evaluated as
 * independent subprocesses, `jobs` at a time, with the manifest recording
 * each run's state. Re-running the same sweep skips evaluated runs, resumes
 * interrupted training (`--load`), evaluates trained runs, and retries failed
 * runs (except diverged ones, which would diverge again, unless asked).
 * {@linkcode runStages}, one run's train-then-evaluate, is shared with the
 * Slurm array tasks (`array_task.ts`).
 *
 * @module
 */
import { exists, joinPath } from "../io.ts";
import { EXIT, UserError } from "../errors.ts";
import { readRunConfig } from "../run/config.ts";
import { RUN_FILES, SWEEP_FILES } from "../run/files.ts";
import { acquireLock, withLock } from "../run/lock.ts";
import { expandGrid, type SweepConfig, type SweepRun, trainArguments } from "./grid.ts";
import {
  assertSameConfig,
  type Manifest,
  MANIFEST_LOCK_FILE,
  type ManifestRun,
  newManifest,
  readManifest,
  updateManifest,
  writeManifest,
} from "./manifest.ts";
import { assertRunSettings, type RunSettings } from "./run_settings.ts";
import { signalChildren, subprocessRunner, sweepThreadEnv, type TaskResult, type TaskRunner } from "./task_runner.ts";

/** Exit status of `tasks/train.ts` when the loss became NaN. */
export const EXIT_DIVERGED: number = EXIT.diverged;

/** Exit status of `tasks/train.ts` stopped by SIGUSR1 or SIGTERM after writing `last.ckpt`. */
export const EXIT_INTERRUPTED: number = EXIT.interrupted;

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
  /**
   * The configuration the train task builds for a grid point: a run folder
   * whose `config.json` differs from it in any setting is refused
   * (`run_settings.ts`). Without it, only loss, width, seed and length are compared.
   */
  runSettings?: RunSettings;
  /** Substitute for the subprocesses (tests). */
  runner?: TaskRunner;
  /** Called with the plan once the sweep holds its folder, before any event. */
  onStart?: (plan: readonly PlannedRun[]) => void;
  /** Progress events. */
  onEvent?: (event: SweepEvent) => void;
  /** Stop the sweep's subprocesses on SIGINT/SIGTERM (default true; tests that run sweeps in-process may opt out). */
  handleSignals?: boolean;
}

/**
 * A progress event: a run was skipped, started or finished, or (`stop`) its
 * stage was interrupted by SIGINT/SIGTERM, which leaves it unfinished and
 * uncounted in `done`: the next sweep resumes it.
 */
export interface SweepEvent {
  kind: "skip" | "start" | "finish" | "stop";
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
  /** The signal that stopped the sweep early, or null when it ran to the end. */
  stoppedBy: Deno.Signal | null;
}

/** The manifest of `root` checked against `config` and put in grid order, or a fresh one; nothing written. */
function mergeManifest(opts: SweepOptions, runs: SweepRun[], existing: Manifest | null): Manifest {
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

/**
 * The manifest of `root` for `opts.config` (checked against it, in grid
 * order, or a fresh one), written under the manifest lock. Throws
 * {@linkcode UserError} for a manifest of another grid.
 */
export async function syncManifest(opts: SweepOptions, runs: SweepRun[]): Promise<Manifest> {
  await Deno.mkdir(opts.root, { recursive: true });
  return await withLock(joinPath(opts.root, MANIFEST_LOCK_FILE), async () => {
    const manifest = mergeManifest(opts, runs, await readManifest(opts.root));
    await writeManifest(opts.root, manifest);
    return manifest;
  });
}

/**
 * What to do with one run, from its manifest entry and the files in its
 * folder. Throws {@linkcode UserError} when the folder holds another run, or
 * (given `settings`) a run trained with other settings than the sweep's.
 */
export async function planRun(
  entry: ManifestRun,
  run: SweepRun,
  retryFailed = false,
  settings?: RunSettings,
): Promise<PlannedRun> {
  await assertFolderIsRun(run);
  if (settings) await assertRunSettings(run, settings);
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
 * Throws {@linkcode UserError} when `run.dir` holds a `config.json` of another
 * grid point (a folder name that two settings share, a folder reused by
 * hand): the sweep would otherwise resume, evaluate and report a run under a
 * name that is not what it trained. Checked before anything is written.
 */
export async function assertFolderIsRun(run: SweepRun): Promise<void> {
  if (!(await exists(joinPath(run.dir, RUN_FILES.config)))) return;
  const cfg = await readRunConfig(run.dir);
  const expected = { loss: run.loss, width: run.width, seed: run.seed };
  for (const [key, value] of Object.entries(expected) as [keyof typeof expected, unknown][]) {
    if (cfg[key] !== value) {
      throw new UserError(
        `${joinPath(run.dir, RUN_FILES.config)}: holds a run with ${key} ${cfg[key]}, but the sweep's run ` +
          `${run.name} has ${key} ${value}; move that folder away`,
      );
    }
  }
  // A longer run is one that was extended by hand (train --load -e); a shorter one is another grid point.
  if (cfg.epochs < run.epochs) {
    throw new UserError(
      `${joinPath(run.dir, RUN_FILES.config)}: holds a ${cfg.epochs}-epoch run, but the sweep's run ${run.name} ` +
        `trains ${run.epochs}; move that folder away`,
    );
  }
}

/**
 * The action of every run of the sweep, without running anything (for
 * `--dry-run`). Throws {@linkcode UserError} for a bad grid or a manifest of
 * another configuration.
 */
export async function planSweep(opts: SweepOptions): Promise<PlannedRun[]> {
  const runs = expandGrid(opts.root, opts.config);
  const manifest = mergeManifest(opts, runs, await readManifest(opts.root));
  return await Promise.all(runs.map((r) => planRun(manifest.runs[r.name], r, opts.retryFailed, opts.runSettings)));
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

/** How {@linkcode runStages} left a run. */
export type StagesOutcome = "evaluated" | "failed" | "interrupted";

/** What {@linkcode runStages} needs besides the run. */
export interface StagesContext {
  root: string;
  config: SweepConfig;
  backend: string;
  runner: TaskRunner;
  /** Changes this run's manifest entry (a locked read-modify-write) and returns the entry as written. */
  update: (change: (entry: ManifestRun) => void) => Promise<ManifestRun>;
  /** The signal that asked this process to stop, if one did: a stage that then fails was interrupted. */
  stopSignal: () => Deno.Signal | null;
  /** Called before each stage, with the stage's entry. */
  onStage?: (stage: "train" | "evaluate", entry: ManifestRun) => void;
}

/**
 * Trains (unless the plan says the run is trained) and evaluates one run,
 * recording each state change in the manifest: `evaluated`, `failed` with the
 * failing stage, exit status and reason (`killed by SIGKILL (out of memory?)`
 * for a child killed by a signal), or `interrupted` when the stage stopped
 * because this process was asked to stop (exit status 4: training wrote
 * `last.ckpt` and a later attempt resumes from it). Shared by the local
 * executor and the Slurm array tasks.
 */
export async function runStages(ctx: StagesContext, planned: PlannedRun): Promise<StagesOutcome> {
  const logPath = joinPath(ctx.root, SWEEP_FILES.logs, `${planned.run.name}.log`);
  const args = stageArguments(ctx.config, planned, ctx.backend);
  const now = (): string => new Date().toISOString();
  const ended = async (
    stage: "train" | "evaluate",
    result: TaskResult,
    seconds: number,
  ): Promise<StagesOutcome | null> => {
    const signal = ctx.stopSignal();
    const interrupted = result.code === EXIT_INTERRUPTED || (signal !== null && result.code !== 0);
    const outcome = result.code === 0 ? null : interrupted ? "interrupted" : "failed";
    await ctx.update((e) => {
      if (stage === "train") e.trainSeconds += seconds;
      else e.evaluateSeconds += seconds;
      if (outcome === null) return;
      e.finished = now();
      if (outcome === "interrupted") {
        // An interrupted evaluation leaves a trained run; an interrupted training resumes from last.ckpt.
        e.state = stage === "train" ? "interrupted" : "trained";
        e.reason = `${stage} interrupted${signal ? ` (${signal})` : ""}`;
        return;
      }
      e.state = "failed";
      e.failedStage = stage;
      e.exitCode = result.code;
      e.reason = result.code === EXIT_DIVERGED && stage === "train"
        ? result.errorLine || "training diverged"
        : result.errorLine;
    });
    return outcome;
  };
  const attempt = async (stage: "train" | "evaluate", stageArgs: string[]): Promise<StagesOutcome | null> => {
    // Asked to stop before the stage began (between stages, or before the first): do not begin it.
    if (ctx.stopSignal()) return await ended(stage, { code: EXIT_INTERRUPTED, errorLine: "" }, 0);
    const entry = await ctx.update((e) => {
      e.started ??= now();
      e.state = stage === "train" ? "training" : "evaluating";
      delete e.failedStage;
      delete e.reason;
      delete e.exitCode;
    });
    ctx.onStage?.(stage, entry);
    const t = performance.now();
    let result: TaskResult;
    try {
      result = await ctx.runner(stage, stageArgs, logPath);
    } catch (e) {
      // A runner that cannot even start the subprocess fails this run, not the sweep.
      result = { code: -1, errorLine: (e as Error).message };
    }
    return await ended(stage, result, (performance.now() - t) / 1000);
  };
  if (args.train) {
    const outcome = await attempt("train", args.train);
    if (outcome) return outcome;
    await ctx.update((e) => void (e.state = "trained"));
  }
  const outcome = await attempt("evaluate", args.evaluate);
  if (outcome) return outcome;
  await ctx.update((e) => {
    e.state = "evaluated";
    e.finished = now();
  });
  return "evaluated";
}

/**
 * Runs the sweep: trains and evaluates every run that needs it, `jobs` at a
 * time, recording every state change in `<root>/manifest.json`. A failing run
 * is marked failed with its reason and the others carry on.
 *
 * One sweep at a time per folder: it holds `<root>/.sweep.lock` while it runs
 * and throws {@linkcode LockedError} when another sweep holds it. On SIGINT or
 * SIGTERM it stops its subprocesses (training writes `last.ckpt` and exits),
 * starts no more runs, records the stopped runs as interrupted and returns
 * with `stoppedBy` set.
 *
 * @example
 * ```ts
 * const summary = await runSweep({ root: "runs/small", config: sweepPreset("small"), jobs: 2 });
 * console.log(`${summary.evaluated}/${summary.total} evaluated, ${summary.failed.length} failed`);
 * ```
 */
export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const runner = stageRunner(opts);
  const backend = opts.backend ?? "auto";
  const runs = expandGrid(opts.root, opts.config);
  await Deno.mkdir(opts.root, { recursive: true });
  const lock = await acquireLock(joinPath(opts.root, SWEEP_FILES.lock), "sweep", opts.root);
  const stop = listenForStop(opts.handleSignals !== false);
  try {
    const manifest = await syncManifest(opts, runs);
    await Deno.mkdir(joinPath(opts.root, SWEEP_FILES.logs), { recursive: true });

    const planned = await Promise.all(
      runs.map((r) => planRun(manifest.runs[r.name], r, opts.retryFailed, opts.runSettings)),
    );
    opts.onStart?.(planned);
    const jobs = Math.max(1, opts.jobs ?? 1);
    const progress = new SweepProgress(manifest, planned, jobs, opts.onEvent);
    for (const p of planned) if (p.action === "skip") progress.skip(p);

    const work = async (p: PlannedRun): Promise<void> => {
      const started = performance.now();
      const update = async (change: (entry: ManifestRun) => void): Promise<ManifestRun> => {
        const entry = await updateManifest(opts.root, (m) => {
          change(m.runs[p.run.name]);
          return m.runs[p.run.name];
        });
        manifest.runs[p.run.name] = entry;
        return entry;
      };
      let first = true;
      const outcome = await runStages({
        root: opts.root,
        config: opts.config,
        backend,
        runner,
        update,
        stopSignal: stop.signal,
        onStage: () => {
          if (first) progress.emit("start", p);
          first = false;
        },
      }, p);
      if (outcome === "interrupted") return progress.emit("stop", p);
      progress.finish(p, (performance.now() - started) / 1000);
    };

    const queue = planned.filter((p) => p.action !== "skip");
    const worker = async (): Promise<void> => {
      for (let p = queue.shift(); p && !stop.signal(); p = queue.shift()) await work(p);
    };
    await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, queue.length)) }, worker));

    const entries = Object.values(manifest.runs);
    return {
      manifest,
      total: runs.length,
      evaluated: entries.filter((e) => e.state === "evaluated").length,
      failed: entries.filter((e) => e.state === "failed"),
      skipped: progress.skipped,
      seconds: (performance.now() - t0) / 1000,
      stoppedBy: stop.signal(),
    };
  } finally {
    stop.remove();
    lock.release();
  }
}

/**
 * The runner of a sweep's stages: `opts.runner`, else subprocesses whose
 * thread counts share this machine's cores among the jobs (values the user
 * set in the environment respected).
 */
function stageRunner(opts: SweepOptions): TaskRunner {
  const env = (() => {
    try {
      return Deno.env.toObject();
    } catch {
      return {}; // no --allow-env: nothing set by the user to respect
    }
  })();
  return opts.runner ??
    subprocessRunner({
      env: sweepThreadEnv(opts.config.model, opts.jobs ?? 1, navigator.hardwareConcurrency, env),
    });
}

/**
 * With `handle`, listens for SIGINT and SIGTERM: the first one stops the
 * running stages (SIGTERM to the children) and is kept as `signal()`.
 * `remove()` stops listening.
 */
function listenForStop(handle: boolean): { signal: () => Deno.Signal | null; remove: () => void } {
  let stopSignal: Deno.Signal | null = null;
  const onSignal = (signal: Deno.Signal) => () => {
    if (stopSignal) return;
    stopSignal = signal;
    signalChildren("SIGTERM");
  };
  const listeners: [Deno.Signal, () => void][] = handle
    ? [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]]
    : [];
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  return {
    signal: () => stopSignal,
    remove: () => {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}

/**
 * A sweep's progress: runs done (finished or skipped) of the total, and the
 * time left, estimated from the seconds per training epoch of the runs
 * finished in this invocation; tells `onEvent` of each event.
 */
class SweepProgress {
  done = 0;
  skipped = 0;
  readonly #total: number;
  #measuredSeconds = 0;
  #measuredEpochs = 0;
  #remainingEpochs: number;

  constructor(
    readonly manifest: Manifest,
    planned: readonly PlannedRun[],
    readonly jobs: number,
    readonly onEvent?: (event: SweepEvent) => void,
  ) {
    this.#total = planned.length;
    this.#remainingEpochs = planned.filter((p) => p.action !== "skip").reduce((s, p) => s + p.run.epochs, 0);
  }

  /** Estimated seconds left; NaN before any run of this invocation has finished. */
  eta(): number {
    if (this.#measuredEpochs === 0) return NaN;
    const left = this.#total - this.done;
    return (this.#measuredSeconds / this.#measuredEpochs) * this.#remainingEpochs /
      Math.max(1, Math.min(this.jobs, left));
  }

  /** Tells `onEvent` that run `p` was skipped, started or finished. */
  emit(kind: SweepEvent["kind"], p: PlannedRun): void {
    this.onEvent?.({
      kind,
      run: this.manifest.runs[p.run.name],
      action: p.action,
      done: this.done,
      total: this.#total,
      etaSeconds: this.eta(),
    });
  }

  /** Run `p` needs nothing. */
  skip(p: PlannedRun): void {
    this.done++;
    this.skipped++;
    this.emit("skip", p);
  }

  /** Run `p` ended after `seconds`. */
  finish(p: PlannedRun, seconds: number): void {
    this.#measuredSeconds += seconds;
    this.#measuredEpochs += p.run.epochs;
    this.#remainingEpochs -= p.run.epochs;
    this.done++;
    this.emit("finish", p);
  }
}
