/**
 * The claims `deno task reproduce` checks on its evaluated runs, for each
 * loss, on the longest (then widest) setting of the grid:
 *
 * - the network interpolates: training top-1 is 100% at the last epoch;
 * - NC1 collapses: NC1 at the last epoch is at most 1/10 of NC1 after epoch 1;
 * - NC2 and NC3 fall: both are lower at the last epoch than after epoch 1;
 *
 * and, across losses, the spread (max − min) of the final test top-1, which
 * the paper predicts to be small once all losses have collapsed.
 *
 * @module
 */
import { LOSS_NAMES } from "../losses/names.ts";
import { lossStyle } from "../plot/loss_style.ts";
import { escapeMarkdown } from "../plot/escape_markdown.ts";
import { runName } from "../run/naming.ts";
import type { CheckpointMetric } from "../metrics/table.ts";
import type { RunRecord } from "../run/load.ts";

/**
 * The outcome of a claim: `PASS` and `FAIL` when the measurement decides it,
 * `INCONCLUSIVE` when its interval is too wide to decide, `info` for a
 * measurement shown without a threshold.
 */
export type Verdict = "PASS" | "FAIL" | "INCONCLUSIVE" | "info";

/** One checked claim, for one run or across runs. */
export interface ClaimCheck {
  /** Loss label (`CE`, `LS (α = 0.05)`, …), or `all` for claims across losses. */
  loss: string;
  /** Run folder name, or `–` for claims across losses. */
  run: string;
  claim: string;
  /** What was measured, as text. */
  measured: string;
  verdict: Verdict;
}

const verdictOf = (ok: boolean): Verdict => (ok ? "PASS" : "FAIL");

/** Largest NC1 ratio (last / epoch 1) that counts as collapse. */
export const NC1_RATIO_LIMIT = 0.1;

function series(run: RunRecord, key: CheckpointMetric): (number | null)[] {
  return run.info.metrics[key] ?? [];
}

function fmt(v: number | null | undefined): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "missing";
  return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toPrecision(4);
}

/** The runs of the grid's largest setting: most epochs, then largest width. */
function largestSetting(runs: readonly RunRecord[]): RunRecord[] {
  if (runs.length === 0) return [];
  const epochs = Math.max(...runs.map((r) => r.info.run.epochs));
  const longest = runs.filter((r) => r.info.run.epochs === epochs);
  const width = Math.max(...longest.map((r) => r.info.run.width));
  return longest.filter((r) => r.info.run.width === width);
}

function checksOfRun(run: RunRecord): ClaimCheck[] {
  const name = runName(run.info.run);
  const loss = lossStyle(run.info.run).label;
  const epochs = run.info.epochs;
  const last = epochs.length - 1;
  const out: ClaimCheck[] = [];
  const trainTop1 = series(run, "train_top1")[last];
  out.push({
    loss,
    run: name,
    claim: `train top-1 = 100% at the last epoch (${epochs[last]})`,
    measured: typeof trainTop1 === "number" ? `${trainTop1.toFixed(2)}%` : "missing",
    // Accuracies are stored as percentages of whole samples: anything below 100 missed at least one.
    verdict: verdictOf(typeof trainTop1 === "number" && trainTop1 >= 100 - 1e-9),
  });
  const hasFirst = epochs[0] === 1 && last > 0;
  const compare = (key: CheckpointMetric, symbol: string, limit: (first: number) => number, rule: string): void => {
    const first = hasFirst ? series(run, key)[0] : null;
    const end = series(run, key)[last];
    const ok = typeof first === "number" && typeof end === "number" && Number.isFinite(end) &&
      end <= limit(first) && end < first;
    out.push({
      loss,
      run: name,
      claim: `${symbol}(last) ${rule} ${symbol}(epoch 1)`,
      measured: hasFirst
        ? `${fmt(end)} vs ${fmt(first)}` +
          (typeof first === "number" && typeof end === "number" && first !== 0 ? ` (×${fmt(end / first)})` : "")
        : "no checkpoint at epoch 1",
      verdict: verdictOf(ok),
    });
  };
  compare("nc1", "NC1", (f) => f * NC1_RATIO_LIMIT, "≤ 1/10 ×");
  compare("nc2", "NC2", (f) => f, "<");
  compare("nc3", "NC3", (f) => f, "<");
  return out;
}

/**
 * Checks the reproduction claims on evaluated runs: per loss on the largest
 * setting (a missing loss is a failed check), then the spread of final test
 * top-1 across losses (shown, not judged).
 *
 * @example
 * ```ts
 * const checks = checkReproduction(await selectRuns({ roots: ["runs/reproduce/runs"] }));
 * const ok = checks.every((c) => c.verdict !== "FAIL");
 * ```
 */
export function checkReproduction(runs: readonly RunRecord[]): ClaimCheck[] {
  const largest = largestSetting(runs);
  const checks: ClaimCheck[] = [];
  const finalTest: { loss: string; value: number }[] = [];
  for (const lossName of LOSS_NAMES) {
    const ofLoss = largest.filter((r) => r.info.run.loss === lossName);
    if (ofLoss.length === 0) {
      checks.push({
        loss: lossStyle({ loss: lossName }).label,
        run: "–",
        claim: "an evaluated run of the largest setting exists",
        measured: "none",
        verdict: "FAIL",
      });
      continue;
    }
    for (const run of ofLoss) {
      checks.push(...checksOfRun(run));
      const test = series(run, "test_top1").at(-1);
      if (typeof test === "number") finalTest.push({ loss: lossStyle(run.info.run).short, value: test });
    }
  }
  if (finalTest.length > 0) {
    const values = finalTest.map((t) => t.value);
    const spread = Math.max(...values) - Math.min(...values);
    checks.push({
      loss: "all",
      run: "–",
      claim: "spread of final test top-1 across losses (max − min)",
      measured: `${spread.toFixed(2)} points (${finalTest.map((t) => `${t.loss} ${t.value.toFixed(2)}`).join(", ")})`,
      verdict: "info",
    });
  }
  return checks;
}

/** The checks as a Markdown table (for the report's extra section). */
export function reproductionMarkdown(checks: readonly ClaimCheck[]): string {
  const escape = (s: string): string => s.replaceAll("|", "\\|");
  const lines = ["| loss | run | claim | measured | result |", "| --- | --- | --- | --- | --- |"];
  for (const c of checks) {
    // The loss and run names come from run folders: literal text, whatever they hold.
    const cells = [escapeMarkdown(c.loss), escapeMarkdown(c.run), ...[c.claim, c.measured].map(escape)];
    lines.push(`| ${[...cells, `**${c.verdict}**`].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The checks as a plain-text table for the console. */
export function reproductionTable(checks: readonly ClaimCheck[]): string {
  const rows = [
    ["result", "loss", "run", "claim", "measured"],
    ...checks.map((c) => [
      c.verdict,
      c.loss,
      c.run,
      c.claim,
      c.measured,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join(
    "\n",
  );
}
