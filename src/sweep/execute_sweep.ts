/**
 * Running a sweep as `deno task sweep` and `deno task reproduce` do: on this
 * machine (subprocesses, {@linkcode executeSweep}; what it would do,
 * {@linkcode sweepPlanLines}) or as a Slurm job array and a report job after
 * it ({@linkcode submitSweep}), from the flags both tasks share
 * (`RUN_FLAGS`, `EXECUTOR_FLAGS` in `flags.ts`). Progress goes to the
 * caller's callbacks; the tasks print it.
 *
 * @module
 */
import type { BackendName } from "../backend/mod.ts";
import { loadNativeBackend } from "../backend/native.ts";
import { type FlagValues, repositoryPath } from "../cli.ts";
import { UserError } from "../errors.ts";
import { isConvolutional } from "../models/mod.ts";
import type { RUN_FLAGS } from "./flags.ts";
import type { SweepConfig } from "./grid.ts";
import { readManifest } from "./manifest.ts";
import { sweepRunSettings } from "./run_settings.ts";
import { planSweep, runSweep, stageArguments, type SweepOptions, type SweepSummary } from "./run_sweep.ts";
import { type SlurmSubmitResult, squeueJobs, submitSlurmSweep } from "./slurm.ts";
import { type SlurmOptions, thisCommandLine } from "./slurm_script.ts";
import { taskCommand } from "./task_runner.ts";

/** Options of {@linkcode executeSweep}: the preset recorded in a new manifest, and where progress goes. */
export interface ExecuteSweepOptions {
  preset?: string;
  /** A note before the runs start (a GPU workload about to run on the CPU). */
  onNote?: (line: string) => void;
  /** The plan, once the sweep holds its folder. */
  onStart?: SweepOptions["onStart"];
  /** A run was skipped, started or finished. */
  onEvent?: SweepOptions["onEvent"];
}

/** The options of {@linkcode runSweep} and {@linkcode planSweep} that the run flags set. */
function sweepOptions(
  root: string,
  config: SweepConfig,
  v: FlagValues<typeof RUN_FLAGS>,
  preset: string | undefined,
): SweepOptions {
  return {
    root,
    config,
    preset,
    backend: v["backend"],
    retryFailed: v["retry-failed"],
    runSettings: sweepRunSettings(config),
  };
}

/** What the sweep of `config` under `root` would do, one line per run (`--dry-run`). */
export async function sweepPlanLines(
  root: string,
  config: SweepConfig,
  v: FlagValues<typeof RUN_FLAGS>,
  preset?: string,
): Promise<string[]> {
  const lines: string[] = [];
  for (const p of await planSweep(sweepOptions(root, config, v, preset))) {
    const args = stageArguments(config, p, v["backend"]);
    const what = p.action === "skip"
      ? `(${p.note})`
      : [args.train ? `train ${args.train.join(" ")} &&` : "", `evaluate ${args.evaluate.join(" ")}`].join(" ")
        .trim();
    lines.push(`${p.action.padEnd(8)} ${p.run.name}  ${what}`);
  }
  return lines;
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

/**
 * Runs the sweep of `config` under `root` on this machine, `--jobs` at a
 * time, telling `opts`' callbacks; returns the summary. Throws
 * {@linkcode UserError} while runs of the sweep are in Slurm jobs.
 */
export async function executeSweep(
  root: string,
  config: SweepConfig,
  v: FlagValues<typeof RUN_FLAGS>,
  opts: ExecuteSweepOptions = {},
): Promise<SweepSummary> {
  await refuseWhileInSlurm(root);
  const note = await gpuNote(config, v["backend"]);
  if (note) opts.onNote?.(note);
  return await runSweep({
    ...sweepOptions(root, config, v, opts.preset),
    jobs: v["jobs"],
    onStart: opts.onStart,
    onEvent: opts.onEvent,
  });
}

/**
 * Submits the sweep to Slurm (or, with `dryRun`, writes nothing and returns
 * the batch scripts): one job array whose tasks run `task`'s array mode, and
 * a job after it that runs `reportCommand`.
 */
export async function submitSweep(
  root: string,
  config: SweepConfig,
  v: FlagValues<typeof RUN_FLAGS>,
  slurm: SlurmOptions,
  opts: { dryRun: boolean; preset?: string; task: string; reportCommand: string[] },
): Promise<SlurmSubmitResult> {
  const backend = v["backend"];
  const arrayArgs = ["--slurm-array-task", "--runs-dir", root, "--backend", backend];
  arrayArgs.push("--max-requeue", String(slurm.maxRequeue));
  if (slurm.gpusPerTask) arrayArgs.push("--gpus-per-task", String(slurm.gpusPerTask));
  return await submitSlurmSweep({
    ...sweepOptions(root, config, v, opts.preset),
    slurm,
    repo: repositoryPath(),
    arrayCommand: await taskCommand("sweep", arrayArgs),
    reportCommand: opts.reportCommand,
    commandLine: thisCommandLine(opts.task),
    dryRun: opts.dryRun,
  });
}
