/**
 * The paper's main claim checked with error bars on a width × training-length
 * grid trained with several seeds (the `medium` preset): the gap between
 * losses is visible in the narrowest-shortest cell and closes in the
 * widest-longest one. Every claim reads PASS or FAIL only when its 95%
 * interval decides it, and INCONCLUSIVE when the interval is too wide:
 *
 * - terminal phase, per loss, in the widest-longest cell: training top-1 is
 *   100% for every seed; NC1(last) / NC1(epoch 1) is at most 1/10, tested on
 *   the log scale (geometric mean over seeds, Student-t interval);
 * - equivalence in the widest-longest cell: every loss's test accuracy
 *   (best-validation checkpoint) differs from CE's by less than
 *   {@linkcode EQUIVALENCE_MARGIN} points, i.e. the interval of the paired
 *   difference (same seed) lies inside ±margin;
 * - the trend: the spread across losses (max − min of the four test
 *   accuracies of one seed) is larger in the narrowest-shortest cell than in
 *   the widest-longest one, i.e. the interval of the paired difference of the
 *   spreads lies above 0.
 *
 * Intervals are two-sided 95% Student-t intervals over seeds, each comparison
 * at its own 95% level (no multiplicity correction; three seeds make the
 * t quantile 4.30, so the intervals are already wide).
 *
 * @module
 */
import { LOSS_NAMES, type LossName } from "../losses/names.ts";
import { lossStyle } from "../plot/loss_style.ts";
import type { RunRecord } from "../plot/types.ts";
import { finite, type Interval, meanInterval, pairedDifference } from "../stats.ts";
import { type ClaimCheck, NC1_RATIO_LIMIT, type Verdict } from "./reproduction_checks.ts";

/**
 * Test-accuracy difference from CE (points) below which two losses count as
 * performing the same. Fixed before the medium runs were made: the paper's
 * large networks differ by tenths of a point, its narrow ones by several points.
 */
export const EQUIVALENCE_MARGIN = 1;

/** One grid cell: a width and a training length. */
export interface GridCell {
  width: number;
  epochs: number;
}

/** What the trend checks read of one run. */
interface RunValues {
  /** Test top-1 of the best-validation checkpoint. */
  test: number | null;
  /** Training top-1 at the last checkpoint. */
  train: number | null;
  /** NC1 at the last checkpoint over NC1 after epoch 1. */
  nc1Ratio: number | null;
}

function valuesOf(run: RunRecord): RunValues {
  const { info } = run;
  const last = info.epochs.length - 1;
  const at = (key: "train_top1" | "nc1", i: number): number | null => {
    const v = info.metrics[key]?.[i];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const first = info.epochs[0] === 1 && last > 0 ? at("nc1", 0) : null;
  const end = at("nc1", last);
  const test = info.best?.test_top1;
  return {
    test: typeof test === "number" && Number.isFinite(test) ? test : null,
    train: last >= 0 ? at("train_top1", last) : null,
    nc1Ratio: first !== null && end !== null && first > 0 ? end / first : null,
  };
}

/** The runs of a cell by loss and seed (the first folder of a repeated configuration wins). */
function cellRuns(runs: readonly RunRecord[], cell: GridCell): Map<LossName, Map<number, RunValues>> {
  const out = new Map<LossName, Map<number, RunValues>>();
  for (const r of runs) {
    const { width, epochs, loss, seed } = r.info.run;
    if (width !== cell.width || epochs !== cell.epochs) continue;
    const bySeed = out.get(loss as LossName) ?? new Map<number, RunValues>();
    if (!bySeed.has(seed)) bySeed.set(seed, valuesOf(r));
    out.set(loss as LossName, bySeed);
  }
  return out;
}

/** The grid's narrowest-shortest and widest-longest cells. */
export function cornerCells(runs: readonly RunRecord[]): { smallest: GridCell; largest: GridCell } | null {
  if (runs.length === 0) return null;
  const widths = runs.map((r) => r.info.run.width);
  const epochs = runs.map((r) => r.info.run.epochs);
  return {
    smallest: { width: Math.min(...widths), epochs: Math.min(...epochs) },
    largest: { width: Math.max(...widths), epochs: Math.max(...epochs) },
  };
}

/** Seeds with a test accuracy for every loss of {@linkcode LOSS_NAMES} in a cell. */
function completeSeeds(cell: Map<LossName, Map<number, RunValues>>): number[] {
  const seeds = new Set<number>();
  for (const bySeed of cell.values()) for (const s of bySeed.keys()) seeds.add(s);
  return [...seeds].sort((a, b) => a - b).filter((s) =>
    LOSS_NAMES.every((l) => typeof cell.get(l)?.get(s)?.test === "number")
  );
}

/** Per seed, the spread (max − min) of the test accuracies of all losses. */
function spreadsBySeed(cell: Map<LossName, Map<number, RunValues>>, seeds: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of seeds) {
    const values = LOSS_NAMES.map((l) => cell.get(l)!.get(s)!.test!);
    out.set(s, Math.max(...values) - Math.min(...values));
  }
  return out;
}

/** `1.23 [0.45, 2.01]`, or `1.23 (one seed: no interval)`. */
export function formatInterval(i: Interval | null, digits = 2): string {
  if (i === null) return "none";
  if (i.lo === null || i.hi === null) return `${i.mean.toFixed(digits)} (one seed: no interval)`;
  return `${i.mean.toFixed(digits)} [${i.lo.toFixed(digits)}, ${i.hi.toFixed(digits)}]`;
}

/**
 * The verdict of "the true value is above `limit`" (or below it, with
 * `below`) from an interval: decided only when the whole interval is on one side.
 */
export function intervalVerdict(i: Interval | null, limit: number, side: "above" | "below"): Verdict {
  if (i === null || i.lo === null || i.hi === null) return "INCONCLUSIVE";
  if (side === "above") return i.lo > limit ? "PASS" : i.hi <= limit ? "FAIL" : "INCONCLUSIVE";
  return i.hi < limit ? "PASS" : i.lo >= limit ? "FAIL" : "INCONCLUSIVE";
}

const cellName = (c: GridCell): string => `width ${c.width}, ${c.epochs} epochs`;

function terminalPhase(loss: LossName, cell: GridCell, bySeed: Map<number, RunValues> | undefined): ClaimCheck[] {
  const label = lossStyle({ loss }).label;
  const where = cellName(cell);
  const runs = [...(bySeed?.values() ?? [])];
  if (runs.length === 0) {
    return [{ loss: label, run: where, claim: "evaluated runs exist", measured: "none", verdict: "FAIL" }];
  }
  const train = runs.map((r) => r.train);
  const complete = finite(train);
  const all100 = complete.length === runs.length && complete.every((t) => t >= 100 - 1e-9);
  const trainCheck: ClaimCheck = {
    loss: label,
    run: where,
    claim: "train top-1 = 100% at the last epoch, every seed",
    measured: `${complete.filter((t) => t >= 100 - 1e-9).length}/${runs.length} seeds at 100%` +
      (complete.length > 0 ? ` (lowest ${Math.min(...complete).toFixed(2)}%)` : ""),
    verdict: all100 ? "PASS" : "FAIL",
  };
  const logRatios = finite(runs.map((r) => (r.nc1Ratio !== null ? Math.log10(r.nc1Ratio) : null)));
  const li = logRatios.length === runs.length ? meanInterval(logRatios) : null;
  const pow = (x: number | null): string => (x === null ? "?" : (10 ** x).toPrecision(2));
  const nc1Check: ClaimCheck = {
    loss: label,
    run: where,
    claim: `NC1(last) / NC1(epoch 1) ≤ ${NC1_RATIO_LIMIT} (geometric mean over seeds)`,
    measured: li === null
      ? `NC1 missing in ${runs.length - logRatios.length} of ${runs.length} runs`
      : `${pow(li.mean)} [${pow(li.lo)}, ${pow(li.hi)}]`,
    verdict: li === null ? "FAIL" : intervalVerdict(li, Math.log10(NC1_RATIO_LIMIT), "below"),
  };
  return [trainCheck, nc1Check];
}

/** Test accuracy of `loss` minus CE's over `seeds` (each with both), paired by seed. */
function differenceFromCe(
  cell: Map<LossName, Map<number, RunValues>>,
  seeds: readonly number[],
  loss: LossName,
): Interval | null {
  const tests = (l: LossName) => new Map([...cell.get(l)!].map(([seed, r]) => [seed, r.test!]));
  return pairedDifference(tests(loss), tests("cross_entropy"), seeds);
}

function equivalence(cell: Map<LossName, Map<number, RunValues>>, where: GridCell): ClaimCheck {
  const seeds = completeSeeds(cell);
  const claim = `test top-1 of every loss within ±${EQUIVALENCE_MARGIN} point of CE (paired over seeds)`;
  if (seeds.length < 2) {
    return {
      loss: "all",
      run: cellName(where),
      claim,
      measured: `${seeds.length} complete seed(s)`,
      verdict: "INCONCLUSIVE",
    };
  }
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  for (const loss of LOSS_NAMES.filter((l) => l !== "cross_entropy")) {
    const d = differenceFromCe(cell, seeds, loss)!;
    parts.push(`${lossStyle({ loss }).short} − CE ${formatInterval(d)}`);
    const inside = d.lo !== null && d.hi !== null && d.lo > -EQUIVALENCE_MARGIN && d.hi < EQUIVALENCE_MARGIN;
    const outside = d.lo !== null && d.hi !== null && (d.lo >= EQUIVALENCE_MARGIN || d.hi <= -EQUIVALENCE_MARGIN);
    verdicts.push(inside ? "PASS" : outside ? "FAIL" : "INCONCLUSIVE");
  }
  const verdict: Verdict = verdicts.includes("FAIL")
    ? "FAIL"
    : verdicts.every((v) => v === "PASS")
    ? "PASS"
    : "INCONCLUSIVE";
  return { loss: "all", run: cellName(where), claim, measured: `${parts.join("; ")} (${seeds.length} seeds)`, verdict };
}

function trend(
  small: Map<LossName, Map<number, RunValues>>,
  large: Map<LossName, Map<number, RunValues>>,
  corners: { smallest: GridCell; largest: GridCell },
): ClaimCheck[] {
  const seedsSmall = completeSeeds(small);
  const seeds = completeSeeds(large).filter((s) => seedsSmall.includes(s));
  const run = `${cellName(corners.smallest)} → ${cellName(corners.largest)}`;
  const claim = "spread across losses (max − min, per seed) shrinks from the smallest to the largest cell";
  if (seeds.length < 2) {
    return [{ loss: "all", run, claim, measured: `${seeds.length} seed(s) in both cells`, verdict: "INCONCLUSIVE" }];
  }
  const a = spreadsBySeed(small, seeds);
  const b = spreadsBySeed(large, seeds);
  const diff = meanInterval(seeds.map((s) => a.get(s)! - b.get(s)!));
  const gaps = LOSS_NAMES.filter((l) => l !== "cross_entropy").map((l) =>
    `${lossStyle({ loss: l }).short} − CE ${formatInterval(differenceFromCe(small, seeds, l))}`
  );
  return [
    {
      loss: "all",
      run: cellName(corners.smallest),
      claim: "test top-1 difference from CE in the smallest cell (paired over seeds)",
      measured: gaps.join("; "),
      verdict: "info",
    },
    {
      loss: "all",
      run,
      claim,
      measured:
        `${formatInterval(meanInterval([...a.values()]))} → ${formatInterval(meanInterval([...b.values()]))}; ` +
        `difference ${formatInterval(diff)} points (${seeds.length} seeds)`,
      verdict: intervalVerdict(diff, 0, "above"),
    },
  ];
}

/**
 * The trend claims on a grid with several seeds (see the module
 * documentation): per loss, the terminal phase in the widest-longest cell;
 * there, equivalence to CE; and the spread shrinking from the
 * narrowest-shortest cell to the widest-longest one.
 *
 * @example
 * ```ts
 * const checks = checkTrend(await selectRuns({ roots: ["runs/reproduce-medium/runs"] }));
 * const decided = checks.every((c) => c.verdict !== "INCONCLUSIVE");
 * ```
 */
export function checkTrend(runs: readonly RunRecord[]): ClaimCheck[] {
  const corners = cornerCells(runs);
  if (corners === null) {
    return [{ loss: "all", run: "–", claim: "evaluated runs exist", measured: "none", verdict: "FAIL" }];
  }
  const large = cellRuns(runs, corners.largest);
  const small = cellRuns(runs, corners.smallest);
  const checks: ClaimCheck[] = [];
  for (const loss of LOSS_NAMES) checks.push(...terminalPhase(loss, corners.largest, large.get(loss)));
  checks.push(equivalence(large, corners.largest));
  checks.push(...trend(small, large, corners));
  return checks;
}

/**
 * The grid as a Markdown table: per width and training length, each loss's
 * test top-1 (best-validation checkpoint) as mean ± the 95% half-width over
 * seeds, and the spread across losses (max − min per seed) with its interval.
 */
export function trendMarkdown(runs: readonly RunRecord[]): string {
  const widths = [...new Set(runs.map((r) => r.info.run.width))].sort((a, b) => a - b);
  const lengths = [...new Set(runs.map((r) => r.info.run.epochs))].sort((a, b) => a - b);
  const header = ["width", "epochs", ...LOSS_NAMES.map((l) => lossStyle({ loss: l }).short), "spread (max − min)"];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const width of widths) {
    for (const epochs of lengths) {
      const cell = cellRuns(runs, { width, epochs });
      const accuracy = LOSS_NAMES.map((l) => {
        const i = meanInterval(finite([...(cell.get(l)?.values() ?? [])].map((r) => r.test)));
        if (i === null) return "–";
        return i.half === null ? `${i.mean.toFixed(2)} (n = 1)` : `${i.mean.toFixed(2)} ± ${i.half.toFixed(2)}`;
      });
      const seeds = completeSeeds(cell);
      const spread = seeds.length > 0 ? formatInterval(meanInterval([...spreadsBySeed(cell, seeds).values()])) : "–";
      lines.push(`| ${[String(width), String(epochs), ...accuracy, spread].join(" | ")} |`);
    }
  }
  return lines.join("\n");
}
