/**
 * Sweeps on a Slurm cluster: the grid planned exactly as the local executor
 * plans it, then one job array with one task per run still to do and one
 * dependent job for the figures and the report. The manifest records each
 * run's array task (`<array id>_<task id>`); a second submission of the same
 * sweep asks `squeue` which of them are still queued or running and submits
 * only the others, so no run ever has two live copies.
 *
 * Submission is all or nothing: the array is submitted held, the report job
 * after it, the manifest updated, and only then is the array released; any
 * refusal on the way (an unknown partition, a bad time format) cancels what
 * was submitted and is one line naming the problem.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import { exists, joinPath } from "../io.ts";
import { SWEEP_FILES } from "../run/files.ts";
import { acquireLock, isLockHeld } from "../run/lock.ts";
import { expandGrid, type SweepRun } from "./grid.ts";
import {
  type Manifest,
  MANIFEST_FILE,
  type ManifestRun,
  readManifest,
  RUN_STATES,
  type RunState,
  type SlurmSubmission,
  updateManifest,
} from "./manifest.ts";
import { type PlannedRun, planRun, planSweep, type SweepOptions, syncManifest } from "./run_sweep.ts";
import { arrayScript, reportScript, type SlurmOptions } from "./slurm_script.ts";

/** The folder of a sweep's batch scripts. */
export const SLURM_SCRIPTS_DIR = "slurm";

/** A job or array task as `squeue` lists it. */
export interface SlurmJob {
  /** `12_3` for an array task, `13` for a plain job. */
  id: string;
  /** The array's job id (the job's own id for a plain job). */
  arrayJob: string;
  /** The array task id, or null for a plain job. */
  taskId: number | null;
  /** `PENDING`, `RUNNING`, `COMPLETING`, … */
  state: string;
  /** Time used so far (`M:SS`). */
  time: string;
  /** Nodes when running, else why it waits (`Dependency`, `Resources`, `BeginTime`). */
  where: string;
}

/** The outcome of a Slurm command. */
interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** The full path of `command` on PATH, or null. */
export function findOnPath(command: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = joinPath(dir, command);
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not here
    }
  }
  return null;
}

async function slurmCommand(command: string, args: string[], cwd?: string): Promise<CommandOutput> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped", stdin: "null", cwd })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Slurm's complaint as one line: `sbatch: error: Batch job submission failed: Invalid partition` → the reason. */
function complaint(stderr: string, code: number): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const errors = lines.filter((l) => /error/i.test(l));
  const line = (errors.at(-1) ?? lines.at(-1) ?? `exit status ${code}`).replace(/^\w+: (error: )?/, "");
  return line.replace(/^Batch job submission failed: /, "");
}

/**
 * The caller's jobs that Slurm still holds (pending, running, completing, …),
 * one entry per array task; null when `squeue` is not on PATH. Throws
 * {@linkcode UserError} when squeue fails (the controller is down).
 */
export async function squeueJobs(): Promise<SlurmJob[] | null> {
  if (!findOnPath("squeue")) return null;
  const out = await slurmCommand("squeue", ["--me", "--noheader", "--array", "--format=%i|%F|%K|%T|%M|%R"]);
  if (out.code !== 0) throw new UserError(`squeue failed: ${complaint(out.stderr, out.code)}`);
  const jobs: SlurmJob[] = [];
  for (const line of out.stdout.split("\n")) {
    const f = line.trim().split("|");
    if (f.length < 6) continue;
    const task = Number(f[2]);
    jobs.push({
      id: f[0],
      arrayJob: f[1],
      taskId: Number.isInteger(task) && f[2] !== "" ? task : null,
      state: f[3],
      time: f[4],
      where: f[5].replace(/^\((.*)\)$/, "$1"),
    });
  }
  return jobs;
}

/** Submits a batch script with `sbatch --parsable`; its job id, or a {@linkcode UserError} with Slurm's reason. */
async function sbatch(script: string, extra: string[], cwd: string): Promise<string> {
  const out = await slurmCommand("sbatch", ["--parsable", ...extra, script], cwd);
  const id = out.stdout.trim().split(";")[0];
  if (out.code !== 0 || !/^\d+$/.test(id)) {
    throw new UserError(
      `--executor slurm: sbatch refused the job: ${complaint(out.stderr, out.code)}; nothing submitted`,
    );
  }
  return id;
}

async function scancel(ids: string[]): Promise<void> {
  if (ids.length > 0) await slurmCommand("scancel", ids);
}

/** Options of {@linkcode submitSlurmSweep}. */
export interface SlurmSweepOptions extends SweepOptions {
  slurm: SlurmOptions;
  /** The repository, absolute (where the jobs run). */
  repo: string;
  /** The array task's command (argv); it reads `SLURM_ARRAY_TASK_ID`. */
  arrayCommand: string[];
  /** The report job's command (argv). */
  reportCommand: string[];
  /** The command line that submitted, for the scripts' header. */
  commandLine: string;
  /** Print the scripts instead of submitting (nothing written). */
  dryRun?: boolean;
}

/** What {@linkcode submitSlurmSweep} did. */
export interface SlurmSubmitResult {
  /** Runs submitted now, with their array task id. */
  submitted: { taskId: number; planned: PlannedRun }[];
  /** Runs already queued or running in a live job: not submitted again. */
  live: { name: string; jobId: string }[];
  /** Runs that needed nothing (evaluated, or diverged before). */
  skipped: PlannedRun[];
  arrayJob?: string;
  reportJob?: string;
  /** The scripts: paths written (or, for a dry run, where they would go) and their text. */
  scripts: { path: string; text: string }[];
  /** Held arrays of an earlier submission that stopped before releasing them, cancelled now. */
  cancelled: string[];
}

/** A sweep folder whose path Slurm's `#SBATCH --output` could not take literally (`%` starts a filename pattern). */
function checkRootForSlurm(root: string): void {
  if (root.includes("%")) {
    throw new UserError(`--runs-dir ${root}: Slurm's --output reads '%' as a pattern; choose a folder without '%'`);
  }
}

/** The job name of a sweep: reproduce's runs live in `<out>/runs`, so the job is named after `<out>` then. */
function jobName(root: string): string {
  return `ncl-${basename(root) === "runs" ? basename(dirname(root)) : basename(root)}`;
}

/** The two batch scripts of one submission: the array's text, and the report's for a given array job id. */
function submissionScripts(
  opts: SlurmSweepOptions,
  runs: ReadonlyMap<number, string>,
  k: string,
  liveArrays: readonly string[],
): { arrayText: string; report: (arrayJob: string) => string } {
  const name = jobName(opts.root);
  const slurmLogs = joinPath(opts.root, SWEEP_FILES.logs, "slurm");
  const header = [
    `nc-losses sweep of ${opts.config.model} on ${opts.config.dataset} in ${opts.root}, submission ${k}`,
    `written ${new Date().toISOString()} by: ${opts.commandLine}`,
    "Resubmit by hand with `sbatch <this file>` (the manifest must still list these runs),",
    "or run the same `deno task sweep … --executor slurm` again: it submits only what is not done nor queued.",
  ];
  const arrayText = arrayScript({
    name,
    root: opts.root,
    repo: opts.repo,
    runs,
    command: opts.arrayCommand,
    output: joinPath(slurmLogs, "%A_%a.out"),
    header,
    slurm: opts.slurm,
  });
  const report = (arrayJob: string): string =>
    reportScript({
      name: `${name}-report`,
      repo: opts.repo,
      after: [...liveArrays, arrayJob],
      command: opts.reportCommand,
      output: joinPath(slurmLogs, "report-%j.out"),
      header,
      slurm: opts.slurm,
    });
  return { arrayText, report };
}

/**
 * Cancels the held arrays of earlier submissions that stopped before
 * releasing them (see {@linkcode SlurmSubmission.released}): their runs are
 * recorded as interrupted, without a job, so this submission submits them
 * again. An array whose tasks Slurm already runs was released by a
 * submission stopped just after `scontrol release`: it is adopted (recorded
 * as released). Returns the arrays cancelled.
 */
async function settleUnreleased(root: string, jobs: SlurmJob[] | null): Promise<string[]> {
  const manifest = await readManifest(root);
  const unreleased = (manifest?.slurm ?? []).filter((s) => s.released === false);
  if (unreleased.length === 0) return [];
  const cancel = unreleased.filter((s) =>
    !(jobs ?? []).some((j) => j.arrayJob === s.arrayJob && j.taskId !== null && j.where !== "JobHeldUser")
  );
  await scancel(cancel.flatMap((s) => [s.arrayJob, s.reportJob].filter((id) => id !== "")));
  await updateManifest(root, (m) => {
    for (const s of m.slurm ?? []) {
      if (s.released !== false) continue;
      s.released = true;
      if (!cancel.some((c) => c.arrayJob === s.arrayJob)) continue;
      for (const e of Object.values(m.runs)) {
        if (!e.jobId?.startsWith(`${s.arrayJob}_`)) continue;
        delete e.jobId;
        if (e.state === "queued") {
          e.state = "interrupted";
          e.reason = `array ${s.arrayJob} was left held by a submission that stopped; cancelled`;
        }
      }
    }
  });
  return cancel.map((s) => s.arrayJob);
}

/**
 * Plans the sweep and submits the runs still to do as one job array plus a
 * dependent report job (see the module doc). Runs evaluated, diverged (unless
 * `retryFailed`) or already in a live job are left alone. Throws
 * {@linkcode UserError} (nothing submitted) when `sbatch` is not on PATH,
 * Slurm refuses a job, squeue fails, another sweep holds the folder, its
 * manifest was written for another grid, or a value would not fit a batch
 * script (checked before anything is written).
 */
export async function submitSlurmSweep(opts: SlurmSweepOptions): Promise<SlurmSubmitResult> {
  checkRootForSlurm(opts.root);
  const grid = expandGrid(opts.root, opts.config);
  // Every value that reaches a script is checked before anything is written: the scripts of the whole grid, once.
  submissionScripts(opts, new Map(grid.map((r, i) => [i, r.name])), "000", []).report("0");
  if (!opts.dryRun && !findOnPath("sbatch")) {
    throw new UserError(
      "--executor slurm: sbatch is not on PATH; submit from a node of the Slurm cluster, or use --executor local",
    );
  }
  const rootExisted = await exists(opts.root);
  const lock = opts.dryRun
    ? null
    : (await Deno.mkdir(opts.root, { recursive: true }),
      await acquireLock(joinPath(opts.root, SWEEP_FILES.lock), "sweep (slurm submission)", opts.root));
  const written: string[] = [];
  try {
    const { manifest, jobs, result } = await planSubmission(opts, grid, written);
    if (result.submitted.length === 0) return result;

    const k = String((manifest?.slurm?.length ?? 0) + 1).padStart(3, "0");
    const scriptsDir = joinPath(opts.root, SLURM_SCRIPTS_DIR);
    const arrayPath = joinPath(scriptsDir, `array-${k}.sbatch`);
    const reportPath = joinPath(scriptsDir, `report-${k}.sbatch`);
    // A report job of an earlier submission that has not started yet is replaced by one that waits for all arrays.
    const liveArrays = [...new Set((manifest?.slurm ?? []).map((s) => s.arrayJob))].filter((a) =>
      !result.cancelled.includes(a) && (jobs ?? []).some((j) => j.arrayJob === a && j.taskId !== null)
    );
    const staleReports = (manifest?.slurm ?? []).map((s) => s.reportJob).filter((r) =>
      (jobs ?? []).some((j) => j.id === r && j.state === "PENDING")
    );
    const taskRuns = new Map(result.submitted.map((s) => [s.taskId, s.planned.run.name]));
    const { arrayText, report } = submissionScripts(opts, taskRuns, k, liveArrays);
    if (opts.dryRun) {
      result.scripts.push({ path: arrayPath, text: arrayText }, { path: reportPath, text: report("<array job id>") });
      return result;
    }
    for (
      const dir of [scriptsDir, joinPath(opts.root, SWEEP_FILES.logs), joinPath(opts.root, SWEEP_FILES.logs, "slurm")]
    ) {
      if (!(await exists(dir))) written.push(dir);
      await Deno.mkdir(dir, { recursive: true });
    }
    await submitHeld(opts, manifest!, result, { arrayPath, arrayText, reportPath, report }, written);
    await scancel(staleReports);
    return result;
  } catch (e) {
    // Refused (by Slurm, or before it was asked): nothing of this submission stays behind.
    if (!opts.dryRun) await removeWritten(written, opts.root, rootExisted);
    throw e;
  } finally {
    lock?.release();
  }
}

/**
 * What a submission finds: the manifest (synchronised with the grid, unless
 * a dry run), the jobs Slurm holds, held arrays of a stopped submission
 * cancelled, and each run planned: skipped, left to the live job that holds
 * it, or to submit.
 */
async function planSubmission(
  opts: SlurmSweepOptions,
  runs: SweepRun[],
  written: string[],
): Promise<{ manifest: Manifest | null; jobs: SlurmJob[] | null; result: SlurmSubmitResult }> {
  const hadManifest = opts.dryRun || (await readManifest(opts.root)) !== null;
  let manifest: Manifest | null = opts.dryRun ? await readManifest(opts.root) : await syncManifest(opts, runs);
  if (!hadManifest) written.push(joinPath(opts.root, MANIFEST_FILE));
  const jobs = await squeueJobs();
  const cancelled = opts.dryRun ? [] : await settleUnreleased(opts.root, jobs);
  if (cancelled.length > 0) manifest = await readManifest(opts.root);
  const planned = opts.dryRun
    ? await planSweep(opts)
    : await Promise.all(runs.map((r) => planRun(manifest!.runs[r.name], r, opts.retryFailed, opts.runSettings)));
  const liveIds = new Set((jobs ?? []).filter((j) => !cancelled.includes(j.arrayJob)).map((j) => j.id));
  const result: SlurmSubmitResult = { submitted: [], live: [], skipped: [], scripts: [], cancelled };
  planned.forEach((p, taskId) => {
    const jobId = manifest?.runs[p.run.name]?.jobId;
    if (p.action === "skip") result.skipped.push(p);
    else if (jobId && liveIds.has(jobId)) result.live.push({ name: p.run.name, jobId });
    else result.submitted.push({ taskId, planned: p });
  });
  return { manifest, jobs, result };
}

/**
 * Submits the array held, records its runs as queued in the manifest,
 * submits the report job after it, then releases the array; on any failure
 * cancels what was submitted and puts the manifest back as it was.
 */
async function submitHeld(
  opts: SlurmSweepOptions,
  manifest: Manifest,
  result: SlurmSubmitResult,
  scripts: { arrayPath: string; arrayText: string; reportPath: string; report: (arrayJob: string) => string },
  written: string[],
): Promise<void> {
  const { arrayPath, arrayText, reportPath, report } = scripts;
  written.push(arrayPath);
  await Deno.writeTextFile(arrayPath, arrayText);
  // Held until the manifest names its tasks, so that no task starts before its run is recorded as queued.
  const arrayJob = await sbatch(arrayPath, ["--hold"], opts.root);
  const submittedIds = [arrayJob];
  const before = new Map(
    result.submitted.map((s) => [s.planned.run.name, structuredClone(manifest.runs[s.planned.run.name])]),
  );
  const entry = (m: Manifest): SlurmSubmission => m.slurm!.find((s) => s.arrayJob === arrayJob)!;
  try {
    // Recorded before anything else can fail or be killed: a held array is never unknown to the manifest.
    await updateManifest(opts.root, (m) => {
      for (const s of result.submitted) {
        const e = m.runs[s.planned.run.name];
        e.state = "queued";
        e.jobId = `${arrayJob}_${s.taskId}`;
        e.requeues = 0;
        delete e.reason;
        delete e.failedStage;
        delete e.exitCode;
      }
      (m.slurm ??= []).push({
        arrayJob,
        reportJob: "",
        scripts: [arrayPath, reportPath],
        runs: Object.fromEntries(result.submitted.map((s) => [String(s.taskId), s.planned.run.name])),
        submitted: new Date().toISOString(),
        released: false,
      });
    });
    const reportText = report(arrayJob);
    written.push(reportPath);
    await Deno.writeTextFile(reportPath, reportText);
    const reportJob = await sbatch(reportPath, [], opts.root);
    submittedIds.push(reportJob);
    await updateManifest(opts.root, (m) => void (entry(m).reportJob = reportJob));
    const released = await slurmCommand("scontrol", ["release", arrayJob]);
    if (released.code !== 0) {
      throw new UserError(`scontrol release ${arrayJob} failed: ${complaint(released.stderr, released.code)}`);
    }
    await updateManifest(opts.root, (m) => void (entry(m).released = true));
    result.arrayJob = arrayJob;
    result.reportJob = reportJob;
    result.scripts.push({ path: arrayPath, text: arrayText }, { path: reportPath, text: reportText });
  } catch (e) {
    await scancel(submittedIds);
    // The manifest as it was: the runs back in their earlier state, the submission gone.
    await updateManifest(opts.root, (m) => {
      for (const [name, was] of before) m.runs[name] = was;
      m.slurm = (m.slurm ?? []).filter((s) => s.arrayJob !== arrayJob);
      if (m.slurm.length === 0) delete m.slurm;
    }).catch(() => {});
    throw e;
  }
}

/** Removes what a refused submission wrote (newest first), and the sweep folder when the submission created it. */
async function removeWritten(paths: string[], root: string, rootExisted: boolean): Promise<void> {
  if (!rootExisted) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    return;
  }
  for (const path of [...paths].reverse()) await Deno.remove(path, { recursive: true }).catch(() => {});
}

/** A sweep's runs by state, and the Slurm jobs of its runs and reports. */
export interface SweepStatus {
  manifest: Manifest;
  /** Runs by state, with the runs of {@linkcode SweepStatus.ownerGone} counted as interrupted. */
  counts: Record<RunState, number>;
  /** Jobs Slurm still holds for this sweep, by run name (array tasks) and report jobs; null: no squeue here. */
  runJobs: Map<string, SlurmJob> | null;
  reportJobs: SlurmJob[];
  /** Runs the manifest shows in a Slurm job that Slurm no longer holds although the run did not finish. */
  orphaned: string[];
  /**
   * Runs the manifest shows training or evaluating on this machine (no Slurm
   * job) while no sweep holds the folder's lock: the sweep that ran them was
   * stopped (kill -9, a reboot); they are interrupted and resume on the next run.
   */
  ownerGone: string[];
  /** Arrays submitted held whose submission stopped before releasing them (the next submission cancels them). */
  unreleased: string[];
  /**
   * Runs the manifest shows interrupted whose array task Slurm still holds
   * (`scontrol requeue`, preemption with requeue, a node failure): Slurm
   * restarts the task itself, which resumes from `last.ckpt`, so nothing is
   * to be submitted. Counted as queued.
   */
  requeued: string[];
}

/**
 * The status of the sweep in `root`: run counts by state from the manifest
 * and, when the sweep was submitted to Slurm and squeue is on PATH, the jobs
 * still queued or running. Runs of a local sweep that is no longer running
 * (its lock is free) count as interrupted, whatever the manifest last said;
 * interrupted runs whose array task Slurm still holds (requeued) as queued.
 * Reads only. Throws {@linkcode UserError} when `root` has no manifest.
 */
export async function sweepStatus(root: string): Promise<SweepStatus> {
  const manifest = await readManifest(root);
  if (!manifest) throw new UserError(`--runs-dir ${root}: no sweep here (no ${SWEEP_FILES.manifest})`);
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  const active = (r: ManifestRun): boolean => r.state === "training" || r.state === "evaluating";
  const localActive = Object.values(manifest.runs).filter((r) => !r.jobId && active(r));
  const ownerGone = localActive.length > 0 && !(await isLockHeld(joinPath(root, SWEEP_FILES.lock)))
    ? localActive.map((r) => r.name)
    : [];
  for (const r of Object.values(manifest.runs)) counts[ownerGone.includes(r.name) ? "interrupted" : r.state]++;
  const submissions = manifest.slurm ?? [];
  const jobs = submissions.length > 0 ? await squeueJobs() : null;
  const runJobs = jobs === null ? null : new Map<string, SlurmJob>();
  const byId = new Map((jobs ?? []).map((j) => [j.id, j]));
  const orphaned: string[] = [];
  const requeued: string[] = [];
  for (const r of Object.values(manifest.runs)) {
    if (!r.jobId) continue;
    const job = byId.get(r.jobId);
    if (job) runJobs?.set(r.name, job);
    else if (jobs !== null && ["queued", "training", "trained", "evaluating"].includes(r.state)) orphaned.push(r.name);
    if (job && r.state === "interrupted") {
      requeued.push(r.name);
      counts.interrupted--;
      counts.queued++;
    }
  }
  const reportIds = new Set(submissions.map((s) => s.reportJob));
  return {
    manifest,
    counts,
    runJobs,
    reportJobs: (jobs ?? []).filter((j) => reportIds.has(j.id)),
    orphaned,
    ownerGone,
    unreleased: submissions.filter((s) => s.released === false).map((s) => s.arrayJob),
    requeued,
  };
}
