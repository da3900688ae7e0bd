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
import { joinPath } from "../src/io.ts";
import {
  differenceMessage,
  executeSweep,
  hasClaimGrid,
  readManifest,
  reproductionTable,
  RUN_STATES,
  slurmArrayTask,
  slurmOptionsFromFlags,
  submitSweep,
  SWEEP_FLAGS,
  sweepConfigFromFlags,
  sweepPlanLines,
  sweepRunSettings,
  sweepStatus,
  taskCommand,
} from "../src/sweep/mod.ts";
import { drawSweepReport } from "../src/sweep/sweep_report.ts";
import { loadRuns } from "../src/run/load.ts";
import { type FlagValues, repositoryPath, runTask } from "../src/cli.ts";
import { printSubmission, sweepProgress } from "./_sweep_progress.ts";

/** Prints the runs of the sweep in `root` by state, with their Slurm jobs. */
async function printStatus(root: string): Promise<void> {
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

/** Trains, submits, shows or reports the sweep the flags describe. */
async function main(v: FlagValues<typeof SWEEP_FLAGS>): Promise<void> {
  const preset = v["preset"];
  const root = v["runs-dir"] ?? repositoryPath("runs", preset);
  if (v["slurm-array-task"]) {
    Deno.exit(
      await slurmArrayTask({
        root,
        backend: v["backend"],
        gpusPerTask: v["gpus-per-task"],
        maxRequeue: v["max-requeue"],
      }),
    );
  }
  if (v["slurm-report"]) return void await reportSweep(root);
  if (v["status"]) return await printStatus(root);
  const config = sweepConfigFromFlags(v);
  const slurm = slurmOptionsFromFlags(v);
  const dryRun = v["dry-run"];
  if (slurm) {
    const reportCommand = await taskCommand("sweep", ["--slurm-report", "--runs-dir", root]);
    const submitted = await submitSweep(root, config, v, slurm, { dryRun, preset, task: "sweep", reportCommand });
    return printSubmission(submitted, root, slurm, dryRun);
  }
  if (dryRun) {
    for (const line of await sweepPlanLines(root, config, v, preset)) console.log(line);
    return;
  }
  const progress = sweepProgress(root, config, v["jobs"]);
  const summary = await executeSweep(root, config, v, { preset, ...progress });
  progress.end(summary);
  if (summary.stoppedBy) Deno.exit(summary.stoppedBy === "SIGINT" ? 130 : 143);
  // A grid with several seeds is judged by its claims, as the Slurm report job does.
  if (hasClaimGrid(await loadRuns({ roots: [root], onSkip: () => {} }))) await reportSweep(root);
  if (summary.failed.length > 0) Deno.exit(1);
}

/** Draws the sweep's figures and report and prints its claims, if its runs are a grid with several seeds. */
async function reportSweep(root: string): Promise<void> {
  const manifest = await readManifest(root);
  const r = await drawSweepReport(root, [], undefined, manifest ? sweepRunSettings(manifest.config) : undefined);
  for (const d of r.refused) console.error(`note: left out: ${differenceMessage(d)}`);
  if (r.checks.length > 0) console.log(reproductionTable(r.checks));
  console.log(`${r.runs.length} runs → ${r.figures.length} figures in ${joinPath(root, "figures")}, ${r.html}`);
}

if (import.meta.main) {
  await runTask("deno task sweep [--preset small|paper-cifar10|paper-cifar100] [flags]", SWEEP_FLAGS, main);
}
