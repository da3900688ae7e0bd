/**
 * One task of a sweep's Slurm job array: finds its run in the manifest by
 * its array task id (the run's position in grid order), trains it (resuming
 * from `last.ckpt` when there is one) and evaluates it, with the same stage
 * arguments as the local executor, recording each state change in the shared
 * manifest. Slurm's warning before the time limit (SIGUSR1 to the batch
 * shell, passed on to this process as SIGUSR2, its own stop signal) is
 * passed to the running stage as SIGTERM; training
 * then writes `last.ckpt` and stops, and the task reports exit status 4 so
 * that the batch script requeues it, at most `maxRequeue` times. A SIGTERM
 * sent to the whole job (scancel, preemption) leaves the run interrupted,
 * to be resumed by the next submission (or by Slurm's own requeue).
 *
 * @module
 */
import { repositoryPath } from "../cli.ts";
import { UserError } from "../errors.ts";
import { exists, joinPath } from "../io.ts";
import { RUN_FILES, SWEEP_FILES } from "../run/files.ts";
import { expandGrid } from "./grid.ts";
import { type ManifestRun, readManifest, updateManifest } from "./manifest.ts";
import { EXIT_INTERRUPTED, planRun, runStages } from "./run_sweep.ts";
import { squeueJobs } from "./slurm.ts";
import { signalChildren, subprocessRunner, type TaskRunner } from "./task_runner.ts";

/** Options of {@linkcode runArrayTask}. */
export interface ArrayTaskOptions {
  root: string;
  /** `SLURM_ARRAY_TASK_ID`: the run's position in the manifest's grid order. */
  index: number;
  /** `<SLURM_ARRAY_JOB_ID>_<SLURM_ARRAY_TASK_ID>`. */
  jobId: string;
  /** `SLURM_RESTART_COUNT`: how often Slurm has restarted this task. */
  restarts: number;
  maxRequeue: number;
  /** `SLURMD_NODENAME`. */
  node: string;
  backend: string;
  /** GPUs Slurm gave the task (`--gpus-per-task`); then the log says whether the native GPU backend loaded. */
  gpusPerTask?: number;
  /** Whether the native GPU backend loads, as a line for the log (a subprocess, so this process holds no GPU). */
  probeGpu?: () => Promise<string>;
  runner?: TaskRunner;
  /** The ids of the jobs Slurm still holds (`squeue`), to leave a run alone that another live job owns. */
  liveJobs?: () => Promise<Set<string>>;
}

/** How {@linkcode runArrayTask} ended, as an exit status: 0 evaluated, 1 failed, 4 interrupted. */
export type ArrayTaskExit = 0 | 1 | 4;

/**
 * Runs one array task (see the module doc) and returns its exit status.
 * Throws {@linkcode UserError} when `root` has no manifest or `index` is
 * outside its grid.
 */
export async function runArrayTask(o: ArrayTaskOptions): Promise<ArrayTaskExit> {
  // Two ways to be stopped. SIGUSR2 comes from the batch shell, which got Slurm's warning before the time
  // limit: the stage is told to stop (SIGTERM, once) and the task is requeued. SIGTERM reaches every
  // process of the job at once (scancel, preemption, the limit itself): the stage got it too, and a second
  // one would make training exit before saving, so it is not passed on, and the task is not requeued.
  let stopSignal: Deno.Signal | null = null;
  let warned = false;
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGUSR2", () => {
      if (stopSignal) return;
      stopSignal = "SIGUSR2";
      warned = true;
      signalChildren("SIGTERM");
    }],
    ["SIGTERM", () => void (stopSignal ??= "SIGTERM")],
  ];
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  try {
    return await arrayTask(o, () => stopSignal, () => warned);
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  }
}

async function arrayTask(
  o: ArrayTaskOptions,
  stopSignal: () => Deno.Signal | null,
  warnedBefore: () => boolean,
): Promise<ArrayTaskExit> {
  const manifest = await readManifest(o.root);
  if (!manifest) throw new UserError(`--runs-dir ${o.root}: no ${SWEEP_FILES.manifest}; was the sweep submitted here?`);
  const runs = expandGrid(o.root, manifest.config);
  const run = runs[o.index];
  if (!Number.isInteger(o.index) || !run) {
    throw new UserError(
      `SLURM_ARRAY_TASK_ID ${o.index}: ${o.root} has runs 0-${runs.length - 1} only (a script of another sweep?)`,
    );
  }
  const logs = joinPath(o.root, SWEEP_FILES.logs);
  await Deno.mkdir(logs, { recursive: true });
  const logPath = joinPath(logs, `${run.name}.log`);
  const log = (line: string): Promise<void> => Deno.writeTextFile(logPath, `${line}\n`, { append: true });
  const update = (change: (entry: ManifestRun) => void): Promise<ManifestRun> =>
    updateManifest(o.root, (m) => {
      change(m.runs[run.name]);
      return m.runs[run.name];
    });

  const attempt = o.restarts + 1;
  await log(
    `\n== slurm: array task ${o.jobId} on ${o.node}, attempt ${attempt} (requeued at most ${o.maxRequeue} times)`,
  );
  const before = (await readManifest(o.root))!.runs[run.name];
  if (before.state === "evaluated" && await exists(joinPath(run.dir, RUN_FILES.info))) {
    await log(`== ${run.name} is already evaluated; nothing to do`);
    return 0;
  }
  // A script resubmitted by hand while the run's own job still holds it: leave that job alone.
  const other = before.jobId && before.jobId !== o.jobId ? before.jobId : null;
  if (other && ((await o.liveJobs?.()) ?? new Set()).has(other)) {
    await log(`== ${run.name} is in job ${other}, which Slurm still holds; nothing to do`);
    return 0;
  }
  const entry = await update((e) => {
    e.jobId = o.jobId;
    e.node = o.node;
    e.requeues = o.restarts;
  });
  if (o.gpusPerTask && o.probeGpu) await log(await o.probeGpu());
  // The submitter chose this run because it needs work, so a run that failed before is tried again.
  const planned = await planRun(entry, run, true);
  if (planned.action === "skip") {
    await log(`== ${run.name}: nothing to do (${planned.note})`);
    return 0;
  }
  await log(`== ${run.name}: ${planned.action}`);

  const outcome = await runStages({
    root: o.root,
    config: manifest.config,
    backend: o.backend,
    runner: o.runner ?? subprocessRunner(),
    update,
    stopSignal,
  }, planned);
  if (outcome === "evaluated") return 0;
  if (outcome === "failed") return 1;
  const after = await update((e) => recordInterruption(e, o, warnedBefore()));
  await log(`== ${run.name}: ${after.state}: ${after.reason}`);
  return 4;
}

/**
 * Records in the manifest entry why the run stopped: requeued when Slurm
 * warned of the time limit and requeues are left, failed when none are,
 * left interrupted (for the next submission) when the job was stopped.
 */
function recordInterruption(e: ManifestRun, o: ArrayTaskOptions, warned: boolean): void {
  const attempt = o.restarts + 1;
  const requeue = warned && o.restarts < o.maxRequeue;
  const what = warned ? "time limit near" : "cancelled, preempted or at its time limit";
  e.reason = `${e.reason ?? "interrupted"}: ${what}`;
  if (requeue) {
    e.state = "queued";
    e.reason += `; requeued (restart ${attempt} of ${o.maxRequeue})`;
  } else if (warned) {
    e.state = "failed";
    e.failedStage ??= "train";
    e.exitCode = EXIT_INTERRUPTED;
    e.reason = `interrupted ${attempt} times by its time limit; --max-requeue ${o.maxRequeue} reached; ` +
      `submit the sweep again (with a longer --time) to resume from ${RUN_FILES.last}`;
  } else e.reason += `; submit the sweep again to resume, unless Slurm requeued it (sweep --status says)`;
}

/**
 * One line for a run's log saying whether a task given GPUs will use them:
 * the native GPU backend loaded, or why it falls back.
 *
 * @param load What loading the native backend gave (`ok`, whether it sees a GPU, its package, or why it failed).
 */
export function gpuLogLine(
  gpus: number,
  load: { ok: true; gpu: boolean; package: string } | { ok: false; reason: string },
): string {
  const asked = `--gpus-per-task ${gpus}`;
  if (!load.ok) {
    return `== note: ${asked}, but the native backend did not load (${load.reason}); falling back to a portable ` +
      "backend on the CPU (run 'deno task setup --gpu' once in the shared repository)";
  }
  if (!load.gpu) {
    return `== note: ${asked}, but ${load.package} sees no GPU; falling back to the CPU ` +
      "(run 'deno task setup --gpu' once in the shared repository, and check CUDA_VISIBLE_DEVICES and the driver)";
  }
  return `== gpu: ${load.package} loaded and uses the GPU`;
}

/**
 * Runs the array task of this Slurm job (`deno task sweep --slurm-array-task`),
 * its run found from the environment Slurm sets (`SLURM_ARRAY_TASK_ID`, …),
 * and returns its exit status. Throws {@linkcode UserError} outside a job array.
 */
export async function slurmArrayTask(
  o: { root: string; backend: string; gpusPerTask?: number; maxRequeue: number },
): Promise<ArrayTaskExit> {
  const env = (name: string): string | undefined => Deno.env.get(name);
  const index = env("SLURM_ARRAY_TASK_ID");
  if (index === undefined || !/^\d+$/.test(index)) {
    throw new UserError("--slurm-array-task: SLURM_ARRAY_TASK_ID is not set; this mode runs inside a Slurm job array");
  }
  const gpus = o.gpusPerTask;
  return await runArrayTask({
    root: o.root,
    index: Number(index),
    jobId: `${env("SLURM_ARRAY_JOB_ID") ?? "?"}_${index}`,
    restarts: Number(env("SLURM_RESTART_COUNT") ?? 0) || 0,
    maxRequeue: o.maxRequeue,
    node: env("SLURMD_NODENAME") ?? "?",
    backend: o.backend,
    gpusPerTask: gpus,
    probeGpu: gpus ? () => probeGpu(gpus) : undefined,
    liveJobs: async () => new Set(((await squeueJobs().catch(() => null)) ?? []).map((j) => j.id)),
  });
}

/** Whether the native GPU backend loads, probed in a subprocess so that this process holds no GPU memory. */
async function probeGpu(gpus: number): Promise<string> {
  const native = new URL("../backend/native.ts", import.meta.url).href;
  const code = `import { loadNativeBackend } from ${JSON.stringify(native)};
const r = await loadNativeBackend();
console.log(JSON.stringify(r.ok ? { ok: true, gpu: r.info.gpu, package: r.info.package } : { ok: false, reason: r.reason }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--config=${repositoryPath("deno.json")}`, code],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const last = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  try {
    return gpuLogLine(gpus, JSON.parse(last));
  } catch {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? `exit status ${out.code}`;
    return gpuLogLine(gpus, { ok: false, reason: `loading it failed: ${why}` });
  }
}
