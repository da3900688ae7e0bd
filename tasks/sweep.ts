/**
 * `deno task sweep`: trains and evaluates a grid of runs (losses × widths ×
 * epochs × seeds) as independent subprocesses, in the reference's folder
 * naming, with a manifest that lets an interrupted sweep resume; on this
 * machine (`--executor local`) or as a Slurm job array (`--executor slurm`).
 *
 *   deno task sweep --preset paper-cifar100 --runs-dir wideres50_cifar100 --jobs 1
 *   deno task sweep --preset small --epochs-list 5,10 --losses ce,mse --jobs 2
 *   deno task sweep --preset paper-cifar10 --dry-run
 *   deno task sweep --preset paper-cifar10 --executor slurm --partition gpu --gpus-per-task 1 --time 2-00:00:00
 *   deno task sweep --preset paper-cifar10 --status
 *
 * Flags of `deno task train` other than those the grid sets (loss, width,
 * epochs, seed, save path) are passed to every run.
 */
import { type BackendName, BACKENDS } from "../src/backend/mod.ts";
import { loadNativeBackend } from "../src/backend/native.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import { isConvolutional } from "../src/models/mod.ts";
import {
  differenceMessage,
  gpuLogLine,
  hasClaimGrid,
  MANIFEST_FILE,
  parseLossName,
  planSweep,
  readManifest,
  reproductionTable,
  RUN_STATES,
  runArrayTask,
  type RunSettings,
  runSweep,
  sbatchWord,
  shellQuote,
  SLURM_DEFAULTS,
  type SlurmOptions,
  slurmTimeSeconds,
  squeueJobs,
  stageArguments,
  submitSlurmSweep,
  SWEEP_OWNED_TRAIN_FLAGS,
  SWEEP_PRESET_NAMES,
  type SweepConfig,
  type SweepEvent,
  sweepPreset,
  sweepStatus,
  type SweepSummary,
  trainArgsToFlags,
  trainArguments,
  type TrainArgValue,
  validateSweepConfig,
} from "../src/sweep/mod.ts";
import { taskPermissions } from "../src/sweep/task_runner.ts";
import { drawSweepReport } from "../src/sweep/sweep_report.ts";
import { loadRuns } from "../src/run/load.ts";
import { defineFlags, type FlagSpec, type FlagValues, parseFlags, repositoryPath, runTask } from "../src/cli.ts";
import { formatDuration, isTerminal, ProgressBar } from "./_progress.ts";
import { configFromFlags, TRAIN_FLAGS } from "./train.ts";

/** Train flags passed through to every run: given values only (no defaults), so the preset's stand. */
export const PASSTHROUGH_TRAIN_FLAGS: readonly FlagSpec[] = TRAIN_FLAGS.filter((s) =>
  !SWEEP_OWNED_TRAIN_FLAGS.includes(s.name)
)
  .map((s) => ({ ...s, default: undefined, help: `(train) ${s.help}` }));

/** The flags that pick and shape the grid; `reproduce` shares the execution ones. */
export const GRID_FLAGS = defineFlags([
  { name: "preset", type: "string", default: "small", help: `grid preset: ${SWEEP_PRESET_NAMES.join(", ")}` },
  { name: "losses", type: "list", help: "losses (names or ce,ls,fl,mse; comma list)" },
  { name: "widths", type: "numbers", help: "width multipliers (comma list)" },
  { name: "epochs-list", type: "ints", help: "training lengths in epochs (comma list)" },
  { name: "seeds", type: "ints", help: "seeds (comma list)" },
  { name: "dataset", type: "string", help: "dataset (default: the preset's)" },
  { name: "model", type: "string", help: "model (default: the preset's)" },
]);

/** Flags of running a sweep. */
export const RUN_FLAGS = defineFlags([
  { name: "backend", type: "choice", choices: BACKENDS, default: "auto", help: "compute backend of every run" },
  { name: "jobs", type: "int", min: 1, max: 64, default: 1, help: "runs trained in parallel (one process each)" },
  { name: "retry-failed", type: "boolean", default: false, help: "also retry runs whose training diverged" },
]);

/** Where the runs execute, and what `--executor slurm` asks of Slurm; `reproduce` shares them. */
export const EXECUTOR_FLAGS = defineFlags([
  {
    name: "executor",
    type: "choice",
    choices: ["local", "slurm"],
    default: "local",
    help: "local: subprocesses on this machine; slurm: one job array (one task per run) and a report job",
  },
  { name: "partition", type: "string", help: "(slurm) partition" },
  { name: "time", type: "string", help: "(slurm) time limit per run, e.g. 2-00:00:00" },
  { name: "gpus-per-task", type: "int", min: 1, help: "(slurm) GPUs per run" },
  { name: "cpus-per-task", type: "int", min: 1, help: "(slurm) CPUs per run" },
  { name: "mem", type: "string", help: "(slurm) memory per run, e.g. 16G" },
  { name: "account", type: "string", help: "(slurm) account" },
  { name: "qos", type: "string", help: "(slurm) quality of service" },
  { name: "sbatch-arg", type: "strings", help: "(slurm) any other sbatch option, kept whole; repeatable" },
  { name: "throttle", type: "int", min: 1, help: "(slurm) array tasks running at once (--array=…%T)" },
  {
    name: "max-requeue",
    type: "int",
    min: 0,
    default: SLURM_DEFAULTS.maxRequeue,
    help: "(slurm) times a run stopped before its time limit is requeued to resume from last.ckpt",
  },
  {
    name: "signal-seconds",
    type: "int",
    min: 1,
    default: SLURM_DEFAULTS.signalSeconds,
    help: "(slurm) seconds before the time limit that a run is told to checkpoint (--signal=B:USR1@S)",
  },
]);

/** Every flag of `deno task sweep`. */
export const SWEEP_FLAGS = defineFlags([
  ...GRID_FLAGS,
  {
    name: "runs-dir",
    type: "path",
    expect: "folder",
    help: "sweep folder (default: runs/<preset>, in the repository)",
  },
  ...RUN_FLAGS,
  ...EXECUTOR_FLAGS,
  {
    name: "dry-run",
    type: "boolean",
    default: false,
    help: "print what would run (one line per run; with slurm the batch scripts) and exit",
  },
  { name: "status", type: "boolean", default: false, help: "print the runs by state and their Slurm jobs, and exit" },
  {
    name: "slurm-array-task",
    type: "boolean",
    default: false,
    help: "(internal, run by the batch script) train and evaluate the run of SLURM_ARRAY_TASK_ID",
  },
  {
    name: "slurm-report",
    type: "boolean",
    default: false,
    help: "(internal, run by the report job) draw the figures and the report of the sweep",
  },
  ...PASSTHROUGH_TRAIN_FLAGS,
]);

/** The flags only `--executor slurm` takes (those without a default). */
const SLURM_ONLY = [
  "partition",
  "time",
  "gpus-per-task",
  "cpus-per-task",
  "mem",
  "account",
  "qos",
  "throttle",
] as const;

/**
 * The Slurm settings of parsed flags, or null for `--executor local`. Throws
 * {@linkcode UserError} for a Slurm flag without `--executor slurm`, a time
 * limit Slurm would not parse, or a warning signal not before the limit.
 */
export function slurmOptionsFromFlags(v: FlagValues<typeof EXECUTOR_FLAGS>): SlurmOptions | null {
  const extra = v["sbatch-arg"] ?? [];
  if (v["executor"] !== "slurm") {
    const given = SLURM_ONLY.find((name) => v[name] !== undefined) ?? (extra.length > 0 ? "sbatch-arg" : undefined);
    if (given) throw new UserError(`--${given}: only with --executor slurm`);
    return null;
  }
  for (const a of extra) {
    sbatchWord(a, "--sbatch-arg"); // a line break or a job separator: refused before anything else
    if (!a.startsWith("-")) throw new UserError(`--sbatch-arg ${a}: expected an sbatch option (starting with -)`);
    if (/^--?(array|signal|output|job-name|dependency|requeue|open-mode)\b/.test(a)) {
      throw new UserError(`--sbatch-arg ${a}: set by the sweep itself`);
    }
  }
  for (const name of ["partition", "time", "mem", "account", "qos"] as const) {
    const value = v[name];
    if (value !== undefined) sbatchWord(`--${name}=${value}`, `--${name}`);
  }
  const signalSeconds = v["signal-seconds"];
  const time = v["time"];
  if (time !== undefined) {
    const limit = slurmTimeSeconds(time);
    if (limit <= signalSeconds) {
      throw new UserError(
        `--signal-seconds ${signalSeconds}: must be below the time limit (--time ${time} is ${limit} s)`,
      );
    }
  }
  return {
    partition: v["partition"],
    time,
    gpusPerTask: v["gpus-per-task"],
    cpusPerTask: v["cpus-per-task"],
    mem: v["mem"],
    account: v["account"],
    qos: v["qos"],
    sbatchArgs: extra,
    throttle: v["throttle"],
    signalSeconds,
    maxRequeue: v["max-requeue"],
  };
}

/**
 * The configuration the train task builds for each grid point of `config`:
 * its own flag parser on the arguments the sweep passes it, so that a run
 * folder's `config.json` can be compared with what the sweep trains.
 */
export function sweepRunSettings(config: SweepConfig): RunSettings {
  return (run) => configFromFlags(parseFlags(trainArguments(config, run), TRAIN_FLAGS));
}

const REPO = repositoryPath();
const DENO_JSON = repositoryPath("deno.json");

/** The command that runs `tasks/<task>.ts` with `args` as `deno task <task>` would, from any folder. */
export async function taskCommand(task: string, args: string[]): Promise<string[]> {
  return [
    Deno.execPath(),
    "run",
    `--config=${DENO_JSON}`,
    ...await taskPermissions(task),
    repositoryPath("tasks", `${task}.ts`),
    ...args,
  ];
}

/**
 * The command line of this process, for the batch scripts' header: each
 * argument quoted for bash, so that the line can be pasted back. Throws
 * {@linkcode UserError} naming the flag of an argument no script line can
 * carry (a newline, NUL).
 */
export function thisCommandLine(task: string, args: readonly string[] = Deno.args): string {
  const flagOf = (i: number): string => {
    const a = args[i];
    if (a.startsWith("-")) return a.split("=")[0];
    return i > 0 && args[i - 1].startsWith("-") ? args[i - 1] : `argument ${i + 1}`;
  };
  return ["deno", "task", task, ...args.map((a, i) => shellQuote(a, flagOf(i)))].join(" ");
}

/**
 * Submits the sweep to Slurm (or, with `dryRun`, prints the batch scripts),
 * printing what was submitted on stderr. `reportCommand` is what the
 * dependent job runs.
 */
export async function submitSweep(
  root: string,
  config: SweepConfig,
  v: FlagValues<typeof RUN_FLAGS>,
  slurm: SlurmOptions,
  opts: { dryRun: boolean; preset?: string; task: string; reportCommand: string[] },
): Promise<void> {
  const backend = v["backend"];
  const arrayArgs = ["--slurm-array-task", "--runs-dir", root, "--backend", backend];
  arrayArgs.push("--max-requeue", String(slurm.maxRequeue));
  if (slurm.gpusPerTask) arrayArgs.push("--gpus-per-task", String(slurm.gpusPerTask));
  const r = await submitSlurmSweep({
    root,
    config,
    preset: opts.preset,
    backend,
    retryFailed: v["retry-failed"],
    runSettings: sweepRunSettings(config),
    slurm,
    repo: REPO,
    arrayCommand: await taskCommand("sweep", arrayArgs),
    reportCommand: opts.reportCommand,
    commandLine: thisCommandLine(opts.task),
    dryRun: opts.dryRun,
  });
  const live = r.live.length > 0
    ? `${r.live.length} already queued or running (${r.live.slice(0, 4).map((l) => l.jobId).join(", ")}${
      r.live.length > 4 ? ", …" : ""
    })`
    : "none queued or running";
  const tally = `${r.skipped.length} evaluated or skipped, ${live}`;
  for (const a of r.cancelled) {
    console.error(`sweep: cancelled array ${a}, left held by a submission that stopped before releasing it`);
  }
  if (opts.dryRun) {
    for (const s of r.scripts) {
      console.log(`# ---- ${s.path} ----
${s.text}`);
    }
    console.error(`sweep (dry run): would submit ${r.submitted.length} runs; ${tally}; nothing submitted`);
    return;
  }
  if (r.submitted.length === 0) {
    console.error(`sweep: nothing to submit under ${root}: ${tally}`);
    return;
  }
  const tasks = slurm.throttle ? `, ${slurm.throttle} at a time` : "";
  console.error(
    `sweep: submitted ${r.submitted.length} runs as job array ${r.arrayJob}${tasks}, and report job ${r.reportJob} ` +
      `after it; ${tally}\n  scripts: ${r.scripts.map((s) => s.path).join(", ")}\n  logs: ` +
      `${joinPath(root, "logs")}/<run>.log\n  watch: deno task sweep --status --runs-dir ${root}`,
  );
}

/** Prints the runs of the sweep in `root` by state, with their Slurm jobs. */
export async function printStatus(root: string): Promise<void> {
  const s = await sweepStatus(root);
  const runs = Object.values(s.manifest.runs);
  const counts = RUN_STATES.filter((state) => s.counts[state] > 0).map((state) => `${s.counts[state]} ${state}`);
  console.log(`${root}: ${runs.length} runs: ${counts.join(", ")}`);
  const width = Math.max(...runs.map((r) => r.name.length));
  for (const r of runs) {
    if (r.state === "evaluated") continue;
    const gone = s.ownerGone.includes(r.name);
    const requeued = s.requeued.includes(r.name);
    const job = s.runJobs?.get(r.name);
    const where = job
      ? `  job ${job.id} ${job.state} ${job.time}${job.where ? ` ${job.where}` : ""}`
      : r.jobId && s.orphaned.includes(r.name)
      ? `  job ${r.jobId} no longer in Slurm: submit again`
      : "";
    const why = gone
      ? ` (was ${r.state}; the sweep that ran it is no longer running: run the sweep again to resume)`
      : requeued
      ? ` (interrupted, then requeued by Slurm: Slurm starts its task again, which resumes from last.ckpt; ` +
        "nothing to submit)"
      : r.reason
      ? ` (${r.failedStage ? `${r.failedStage}: ` : ""}${r.reason})`
      : "";
    const state = gone ? "interrupted" : requeued ? "queued" : r.state;
    console.log(`  ${state.padEnd(11)} ${r.name.padEnd(width)}${where}${why}`);
  }
  for (const a of s.unreleased) {
    console.log(
      `slurm: array ${a} was submitted held and its submission stopped before releasing it; ` +
        "the next submission cancels it and submits its runs again",
    );
  }
  if (s.manifest.slurm?.length) {
    if (s.runJobs === null) console.log("slurm: squeue is not on PATH here; the jobs' state is not shown");
    for (const j of s.reportJobs) console.log(`slurm: report job ${j.id} ${j.state} ${j.where}`);
  }
}

/** The run of this Slurm array task (`--slurm-array-task`), from the environment Slurm sets. */
async function arrayTask(v: FlagValues<typeof SWEEP_FLAGS>, root: string): Promise<number> {
  const env = (name: string): string | undefined => Deno.env.get(name);
  const index = env("SLURM_ARRAY_TASK_ID");
  if (index === undefined || !/^\d+$/.test(index)) {
    throw new UserError("--slurm-array-task: SLURM_ARRAY_TASK_ID is not set; this mode runs inside a Slurm job array");
  }
  const gpus = v["gpus-per-task"];
  return await runArrayTask({
    root,
    index: Number(index),
    jobId: `${env("SLURM_ARRAY_JOB_ID") ?? "?"}_${index}`,
    restarts: Number(env("SLURM_RESTART_COUNT") ?? 0) || 0,
    maxRequeue: v["max-requeue"],
    node: env("SLURMD_NODENAME") ?? "?",
    backend: v["backend"],
    gpusPerTask: gpus,
    probeGpu: gpus ? () => probeGpu(gpus) : undefined,
    liveJobs: async () => new Set(((await squeueJobs().catch(() => null)) ?? []).map((j) => j.id)),
  });
}

/** Whether the native GPU backend loads, probed in a subprocess so that this process holds no GPU memory. */
async function probeGpu(gpus: number): Promise<string> {
  const native = new URL("../src/backend/native.ts", import.meta.url).href;
  const code = `import { loadNativeBackend } from ${JSON.stringify(native)};
const r = await loadNativeBackend();
console.log(JSON.stringify(r.ok ? { ok: true, gpu: r.info.gpu, package: r.info.package } : { ok: false, reason: r.reason }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--config=${DENO_JSON}`, code],
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

/**
 * The sweep configuration of parsed flags: the preset, with the grid flags and
 * any passed-through train flags overriding it. Throws {@linkcode UserError} on
 * a bad value.
 */
export function sweepConfigFromFlags(v: FlagValues<typeof SWEEP_FLAGS>): SweepConfig {
  const config = sweepPreset(v["preset"]);
  if (v["losses"] !== undefined) config.losses = v["losses"].map((l) => parseLossName(l));
  config.widths = v["widths"] ?? config.widths;
  config.epochs = v["epochs-list"] ?? config.epochs;
  // The preset's claims name cells of its own grid: another grid is judged by the claims of its corners.
  if (v["widths"] !== undefined || v["epochs-list"] !== undefined) delete config.claims;
  config.seeds = v["seeds"] ?? config.seeds;
  if (v["dataset"] !== undefined) config.dataset = v["dataset"];
  if (v["model"] !== undefined) config.model = v["model"];
  for (const spec of PASSTHROUGH_TRAIN_FLAGS) {
    // A train flag: its value is a string, number or boolean (TRAIN_FLAGS has no list flags), untyped here by the filter.
    if (v[spec.name] !== undefined) config.trainArgs[spec.name] = v[spec.name] as TrainArgValue;
  }
  validateSweepConfig(config);
  // The train task's own parser checks the shared flags (a preset's too) before anything starts.
  parseFlags(trainArgsToFlags(config.trainArgs), TRAIN_FLAGS);
  return config;
}

/** A note when a convolutional grid is about to run without a GPU. */
async function gpuNote(config: SweepConfig, backend: BackendName): Promise<string | null> {
  if (!isConvolutional(config.model)) return null;
  const what = `${config.model} on ${config.dataset} is a GPU workload (the paper trained it on GPUs for days)`;
  if (backend === "cpu" || backend === "wasm") return `note: ${what}; --backend ${backend} runs it on this CPU`;
  const native = await loadNativeBackend();
  if (!native.ok) return `note: ${what}; the native backend did not load (${native.reason}), so it runs on the CPU`;
  if (!native.info.gpu) return `note: ${what}; ${native.info.package} sees no GPU, so it runs on the CPU`;
  return null;
}

/**
 * Throws {@linkcode UserError} when runs of the sweep in `root` are queued or
 * running in Slurm jobs: a local sweep would train them a second time.
 */
async function refuseWhileInSlurm(root: string): Promise<void> {
  const manifest = await readManifest(root);
  if (!manifest?.slurm?.length) return;
  const live = new Set(((await squeueJobs()) ?? []).map((j) => j.id));
  const held = Object.values(manifest.runs).filter((r) => r.jobId && live.has(r.jobId));
  if (held.length === 0) return;
  throw new UserError(
    `--runs-dir ${root}: ${held.length} runs are queued or running in Slurm (${
      held.slice(0, 3).map((r) => r.jobId).join(", ")
    }${held.length > 3 ? ", …" : ""}); wait for them or scancel them before a local sweep`,
  );
}

/** One progress line for a finished, skipped or interrupted run (`[done/total]` counts only the first two). */
export function eventLine(e: SweepEvent): string {
  const r = e.run;
  const head = `[${e.done}/${e.total}] ${r.name}`;
  const eta = e.done < e.total && Number.isFinite(e.etaSeconds) ? `; about ${formatDuration(e.etaSeconds)} left` : "";
  if (e.kind === "skip") return `${head}: skipped (${r.state === "failed" ? `failed: ${r.reason}` : r.state})${eta}`;
  if (e.kind === "stop") return `${head}: not finished, ${r.reason ?? "interrupted"}; the next run resumes it`;
  const times = `train ${formatDuration(r.trainSeconds)}, evaluate ${formatDuration(r.evaluateSeconds)}`;
  if (r.state === "failed") return `${head}: FAILED in ${r.failedStage} (${r.reason}) [${times}]${eta}`;
  return `${head}: ${r.state} [${times}]${eta}`;
}

/**
 * Runs (or, with `dryRun`, prints) the sweep of `config` under `root`,
 * showing progress on stderr; returns the summary (null for a dry run).
 */
export async function executeSweep(
  root: string,
  config: SweepConfig,
  v: FlagValues<typeof RUN_FLAGS>,
  opts: { dryRun: boolean; preset?: string },
): Promise<SweepSummary | null> {
  const backend = v["backend"];
  const base = {
    root,
    config,
    preset: opts.preset,
    backend,
    retryFailed: v["retry-failed"],
    runSettings: sweepRunSettings(config),
  };
  if (opts.dryRun) {
    for (const p of await planSweep(base)) {
      const args = stageArguments(config, p, backend);
      const what = p.action === "skip"
        ? `(${p.note})`
        : [args.train ? `train ${args.train.join(" ")} &&` : "", `evaluate ${args.evaluate.join(" ")}`].join(" ")
          .trim();
      console.log(`${p.action.padEnd(8)} ${p.run.name}  ${what}`);
    }
    return null;
  }
  await refuseWhileInSlurm(root);
  const note = await gpuNote(config, backend);
  if (note) console.error(note);
  const jobs = v["jobs"];
  const tty = isTerminal();
  let bar = new ProgressBar("runs", 0);
  const summary = await runSweep({
    ...base,
    jobs,
    // Said once the sweep holds its folder, so that a refused second sweep prints only its error.
    onStart: (plan) => {
      console.error(
        `sweep: ${plan.length} runs (${config.losses.length} losses × ${config.widths.length} widths × ` +
          `${config.epochs.length} lengths × ${config.seeds.length} seeds) of ${config.model} on ${config.dataset} ` +
          `under ${root}, ${jobs} at a time; logs in ${joinPath(root, "logs")}`,
      );
      bar = new ProgressBar("runs", plan.length);
    },
    onEvent: (e) => {
      if (e.kind === "start") {
        if (!tty) console.error(`[${e.done}/${e.total}] ${e.run.name}: ${e.action}`);
      } else {
        bar.done();
        console.error(eventLine(e));
      }
      bar.update(e.done, Number.isFinite(e.etaSeconds) ? `~${formatDuration(e.etaSeconds)} left` : "");
    },
  });
  bar.done();
  console.error(
    `sweep: ${summary.evaluated}/${summary.total} evaluated, ${summary.failed.length} failed, ` +
      `${summary.skipped} skipped, in ${formatDuration(summary.seconds)} → ${joinPath(root, MANIFEST_FILE)}`,
  );
  for (const f of summary.failed) console.error(`  failed: ${f.name} (${f.failedStage}): ${f.reason}`);
  if (summary.stoppedBy) {
    console.error(`sweep: stopped by ${summary.stoppedBy}; run the same command again to resume`);
  }
  return summary;
}

if (import.meta.main) {
  await runTask("deno task sweep [--preset small|paper-cifar10|paper-cifar100] [flags]", SWEEP_FLAGS, async (v) => {
    const preset = v["preset"];
    const root = v["runs-dir"] ?? repositoryPath("runs", preset);
    if (v["slurm-array-task"]) Deno.exit(await arrayTask(v, root));
    if (v["slurm-report"]) return void await reportSweep(root);
    if (v["status"]) return await printStatus(root);
    const config = sweepConfigFromFlags(v);
    const slurm = slurmOptionsFromFlags(v);
    const dryRun = v["dry-run"];
    if (slurm) {
      const reportCommand = await taskCommand("sweep", ["--slurm-report", "--runs-dir", root]);
      return await submitSweep(root, config, v, slurm, { dryRun, preset, task: "sweep", reportCommand });
    }
    const summary = await executeSweep(root, config, v, { dryRun, preset });
    if (summary?.stoppedBy) Deno.exit(summary.stoppedBy === "SIGINT" ? 130 : 143);
    // A grid with several seeds is judged by its claims, as the Slurm report job does.
    if (summary && hasClaimGrid(await loadRuns({ roots: [root], onSkip: () => {} }))) await reportSweep(root);
    if (summary && summary.failed.length > 0) Deno.exit(1);
  });
}

/** Draws the sweep's figures and report and prints its claims, if its runs are a grid with several seeds. */
async function reportSweep(root: string): Promise<void> {
  const manifest = await readManifest(root);
  const r = await drawSweepReport(root, [], undefined, manifest ? sweepRunSettings(manifest.config) : undefined);
  for (const d of r.refused) console.error(`note: left out: ${differenceMessage(d)}`);
  if (r.checks.length > 0) console.log(reproductionTable(r.checks));
  console.log(`${r.runs.length} runs → ${r.figures.length} figures in ${joinPath(root, "figures")}, ${r.html}`);
}
