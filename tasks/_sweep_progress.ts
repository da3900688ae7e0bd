/**
 * How `deno task sweep` and `deno task reproduce` show a sweep: a progress
 * bar on a terminal and a line per finished run while it runs locally, the
 * summary after it, and what a Slurm submission did. A task-side helper
 * shared by the two tasks (not a task).
 *
 * @module
 */
import { joinPath } from "../src/io.ts";
import {
  type ExecuteSweepOptions,
  MANIFEST_FILE,
  type SlurmOptions,
  type SlurmSubmitResult,
  type SweepConfig,
  type SweepEvent,
  type SweepSummary,
} from "../src/sweep/mod.ts";
import { formatDuration, isTerminal, ProgressBar } from "./_progress.ts";

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
 * The callbacks of `executeSweep` that print a local sweep's progress on
 * stderr, and `end`, which prints its summary.
 */
export function sweepProgress(
  root: string,
  config: SweepConfig,
  jobs: number,
): Required<Omit<ExecuteSweepOptions, "preset">> & { end(summary: SweepSummary): void } {
  const tty = isTerminal();
  let bar = new ProgressBar("runs", 0);
  return {
    onNote: (line) => console.error(line),
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
    end: (summary) => {
      bar.done();
      console.error(
        `sweep: ${summary.evaluated}/${summary.total} evaluated, ${summary.failed.length} failed, ` +
          `${summary.skipped} skipped, in ${formatDuration(summary.seconds)} → ${joinPath(root, MANIFEST_FILE)}`,
      );
      for (const f of summary.failed) console.error(`  failed: ${f.name} (${f.failedStage}): ${f.reason}`);
      if (summary.stoppedBy) {
        console.error(`sweep: stopped by ${summary.stoppedBy}; run the same command again to resume`);
      }
    },
  };
}

/** Prints what a Slurm submission did (stderr), or for a dry run the batch scripts (stdout). */
export function printSubmission(r: SlurmSubmitResult, root: string, slurm: SlurmOptions, dryRun: boolean): void {
  const live = r.live.length > 0
    ? `${r.live.length} already queued or running (${r.live.slice(0, 4).map((l) => l.jobId).join(", ")}${
      r.live.length > 4 ? ", …" : ""
    })`
    : "none queued or running";
  const tally = `${r.skipped.length} evaluated or skipped, ${live}`;
  for (const a of r.cancelled) {
    console.error(`sweep: cancelled array ${a}, left held by a submission that stopped before releasing it`);
  }
  if (dryRun) {
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
