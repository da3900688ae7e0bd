/**
 * The paper's main claim decided on a width × training-length grid trained
 * with several seeds (the `medium` preset, and the paper's own grids), with
 * the statistics of `src/gap_statistics.ts` (`docs/statistics.md` gives every
 * formula):
 *
 * - terminal phase, per loss, in the equivalence cell (the widest-longest):
 *   training top-1 is 100% for every seed; NC1(last) / NC1(epoch 1) is at most
 *   1/10 (geometric mean over seeds, 95% Student-t interval on the log scale);
 * - for the best-validation checkpoint (the paper's) and for the last epoch:
 *   - the two pre-registered trend contrasts of {@linkcode ClaimsConfig}: the
 *     noise-corrected gap Ĝ is larger in the narrow (short) cell than in the
 *     wide-long one, one-sided, Holm-corrected over the two;
 *   - equivalence to CE of every loss in the widest-longest cell (TOST).
 *
 * Every decided claim reads PASS or FAIL; INCONCLUSIVE when the seeds cannot
 * decide it.
 *
 * @module
 */
import {
  type ContrastDecision,
  decideContrasts,
  type Decision,
  DEFAULT_RESAMPLES,
  DEFAULT_STATISTICS_SEED,
  equivalenceOfCell,
  type EquivalenceTest,
  gapEstimate,
  type LossTable,
  noiseFloor,
  sharedResamples,
} from "../gap_statistics.ts";
import { LOSS_NAMES, type LossName } from "../losses/names.ts";
import { lossStyle } from "../plot/loss_style.ts";
import type { RunRecord } from "../plot/types.ts";
import { absInterval, finite, type Interval, meanInterval, pairedDifference } from "../stats.ts";
import type { ClaimsConfig, GridCell } from "./grid.ts";
import { type ClaimCheck, NC1_RATIO_LIMIT, reproductionMarkdown, type Verdict } from "./reproduction_checks.ts";

/** Which checkpoint's test accuracy a claim reads. */
export type CheckpointKind = "best" | "last";

/** Both kinds, the paper's first. */
export const CHECKPOINT_KINDS: readonly CheckpointKind[] = ["best", "last"];

/** How tables and claims name each kind. */
export const CHECKPOINT_LABELS: Readonly<Record<CheckpointKind, string>> = {
  best: "best-validation checkpoint",
  last: "last epoch",
};

/** What the claims read of one run. */
export interface RunValues {
  /** Test top-1 of the best-validation checkpoint (`info.json` `best.test_top1`). */
  best: number | null;
  /** Test top-1 at the last epoch (the last entry of `test_top1`, when that checkpoint is the run's last epoch). */
  last: number | null;
  /** Training top-1 at the last epoch. */
  train: number | null;
  /** NC1 at the last epoch over NC1 after epoch 1. */
  nc1Ratio: number | null;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The values of one run the claims read (see {@linkcode RunValues}). */
export function runValues(run: RunRecord): RunValues {
  const { info } = run;
  const last = info.epochs.length - 1;
  // A run evaluated before its last epoch has no last-epoch accuracy yet.
  const complete = last >= 0 && info.epochs[last] === info.run.epochs;
  const at = (key: "train_top1" | "nc1" | "test_top1", i: number): number | null => num(info.metrics[key]?.[i]);
  const first = info.epochs[0] === 1 && last > 0 ? at("nc1", 0) : null;
  const end = last >= 0 ? at("nc1", last) : null;
  return {
    best: num(info.best?.test_top1),
    last: complete ? at("test_top1", last) : null,
    train: complete ? at("train_top1", last) : null,
    nc1Ratio: first !== null && end !== null && first > 0 && complete ? end / first : null,
  };
}

/** The runs of one cell by loss and seed. */
export type CellRuns = Map<LossName, Map<number, RunValues>>;

/** The runs of `cell` by loss and seed (the first folder of a repeated configuration wins). */
export function cellRuns(runs: readonly RunRecord[], cell: GridCell): CellRuns {
  const out: CellRuns = new Map();
  for (const r of runs) {
    const { width, epochs, loss, seed } = r.info.run;
    if (width !== cell.width || epochs !== cell.epochs) continue;
    const bySeed = out.get(loss as LossName) ?? new Map<number, RunValues>();
    if (!bySeed.has(seed)) bySeed.set(seed, runValues(r));
    out.set(loss as LossName, bySeed);
  }
  return out;
}

/** Seeds with a `kind` test accuracy for every loss of {@linkcode LOSS_NAMES} in every one of `cells`, ascending. */
export function completeSeeds(cells: readonly CellRuns[], kind: CheckpointKind): number[] {
  const seeds = new Set<number>();
  for (const cell of cells) for (const bySeed of cell.values()) for (const s of bySeed.keys()) seeds.add(s);
  return [...seeds].sort((a, b) => a - b).filter((s) =>
    cells.every((cell) => LOSS_NAMES.every((l) => cell.get(l)?.get(s)?.[kind] != null))
  );
}

/** The cell's `kind` accuracies as a {@linkcode LossTable}: losses in {@linkcode LOSS_NAMES} order (CE first) × `seeds`. */
export function lossTable(cell: CellRuns, kind: CheckpointKind, seeds: readonly number[]): number[][] {
  return LOSS_NAMES.map((l) => seeds.map((s) => cell.get(l)!.get(s)![kind]!));
}

/** Settings of the claim statistics. */
export interface ClaimOptions {
  /** Bootstrap draws and label permutations (default {@linkcode DEFAULT_RESAMPLES}). */
  resamples?: number;
  /** Seed of the draws (default {@linkcode DEFAULT_STATISTICS_SEED}). */
  seed?: number;
}

/** The tables the claims read: each contrast's two cells over the seeds both hold, and the equivalence cell. */
export interface ClaimTables {
  width: { a: LossTable; b: LossTable };
  length: { a: LossTable; b: LossTable };
  equivalence: LossTable;
}

/** The decisions of the claims on one set of tables. */
export interface ClaimDecisions {
  /** `null` where fewer than three seeds hold both cells. */
  width: ContrastDecision | null;
  length: ContrastDecision | null;
  equivalence: { tests: (EquivalenceTest | null)[]; decision: Decision };
}

/**
 * Decides the claims on tables: the two contrasts together (bootstrap-t and
 * noise floor, Holm over the two at `claims.alpha`), and TOST at the
 * equivalence cell with `claims.equivalence.margin`. The power simulation
 * calls this on simulated tables, the report on measured ones.
 */
export function decideClaims(tables: ClaimTables, claims: ClaimsConfig, options: ClaimOptions = {}): ClaimDecisions {
  const alpha = claims.alpha ?? 0.05;
  const [width, length] = decideContrasts([tables.width, tables.length], { alpha, ...options });
  return {
    width,
    length,
    equivalence: equivalenceOfCell(tables.equivalence, claims.equivalence.margin, alpha),
  };
}

/** The claim tables of `runs` for `kind`: each contrast over the seeds complete in both of its cells. */
export function claimTables(
  runs: readonly RunRecord[],
  claims: ClaimsConfig,
  kind: CheckpointKind,
): ClaimTables & { seeds: { width: number[]; length: number[]; equivalence: number[] } } {
  const pair = (from: GridCell, to: GridCell) => {
    const a = cellRuns(runs, from);
    const b = cellRuns(runs, to);
    const seeds = completeSeeds([a, b], kind);
    return { tables: { a: lossTable(a, kind, seeds), b: lossTable(b, kind, seeds) }, seeds };
  };
  const width = pair(claims.widthContrast.from, claims.widthContrast.to);
  const length = pair(claims.lengthContrast.from, claims.lengthContrast.to);
  const eqCell = cellRuns(runs, claims.equivalence.cell);
  const eqSeeds = completeSeeds([eqCell], kind);
  return {
    width: width.tables,
    length: length.tables,
    equivalence: lossTable(eqCell, kind, eqSeeds),
    seeds: { width: width.seeds, length: length.seeds, equivalence: eqSeeds },
  };
}

/** `width 0.25, 200 epochs`. */
export const cellName = (c: GridCell): string => `width ${c.width}, ${c.epochs} epochs`;

/** `1.23 [0.45, 2.01]`, or `1.23 (one seed: no interval)`. */
export function formatInterval(i: Interval | null, digits = 2): string {
  if (i === null) return "none";
  if (i.lo === null || i.hi === null) return `${i.mean.toFixed(digits)} (one seed: no interval)`;
  return `${i.mean.toFixed(digits)} [${i.lo.toFixed(digits)}, ${i.hi.toFixed(digits)}]`;
}

/** A p-value as text: four decimals, or `< 0.0001`. */
const pText = (p: number): string => (p < 1e-4 ? "< 0.0001" : p.toFixed(4));

/** √Ĝ of a table with its 95% interval and noise floor, as text (`–` with fewer than three seeds). */
function gapText(table: LossTable, options: ClaimOptions): string {
  const n = table[0]?.length ?? 0;
  const count = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_STATISTICS_SEED;
  const g = n >= 3 ? gapEstimate(table, sharedResamples(n, count, seed)) : null;
  const f = noiseFloor(table, count, seed);
  if (g === null || f === null) return "–";
  const p = g.points;
  return `√Ĝ ${p.value.toFixed(2)} [${p.lo.toFixed(2)}, ${p.hi.toFixed(2)}] (floor ${f.points.toFixed(2)})`;
}

function contrastCheck(
  axis: "width" | "length",
  kind: CheckpointKind,
  claims: ClaimsConfig,
  tables: { a: LossTable; b: LossTable },
  seeds: number[],
  decision: ContrastDecision | null,
  options: ClaimOptions,
): ClaimCheck {
  const c = axis === "width" ? claims.widthContrast : claims.lengthContrast;
  const run = `${cellName(c.from)} → ${cellName(c.to)}`;
  const claim = `[${CHECKPOINT_LABELS[kind]}] the gap between losses shrinks along the ${axis} axis: ` +
    `Ĝ(from) > Ĝ(to), one-sided, Holm over both axes at α = ${claims.alpha ?? 0.05}`;
  if (decision === null) {
    return {
      loss: "all",
      run,
      claim,
      measured: `${seeds.length} seed(s) in both cells (3 needed)`,
      verdict: "INCONCLUSIVE",
    };
  }
  const t = decision.test;
  const measured = `${gapText(tables.a, options)} → ${gapText(tables.b, options)}; ` +
    `Ĝ(from) − Ĝ(to) ${t.estimate.toFixed(2)} (se ${t.se.toFixed(2)}) points²; ` +
    `p ${pText(decision.pGreater)}, Holm ${pText(decision.pGreaterHolm)}` +
    (decision.decision === "FAIL" ? `; reverse p ${pText(decision.pLess)}, Holm ${pText(decision.pLessHolm)}` : "") +
    ` (${seeds.length} seeds)`;
  return { loss: "all", run, claim, measured, verdict: decision.decision };
}

function equivalenceCheck(
  kind: CheckpointKind,
  claims: ClaimsConfig,
  seeds: number[],
  eq: ClaimDecisions["equivalence"],
): ClaimCheck {
  const { cell, margin } = claims.equivalence;
  const alpha = claims.alpha ?? 0.05;
  const claim = `[${CHECKPOINT_LABELS[kind]}] every loss within ±${margin} point of CE (TOST, ` +
    `${Math.round((1 - 2 * alpha) * 100)}% intervals of the paired difference)`;
  if (seeds.length < 2) {
    return {
      loss: "all",
      run: cellName(cell),
      claim,
      measured: `${seeds.length} complete seed(s)`,
      verdict: "INCONCLUSIVE",
    };
  }
  const parts = LOSS_NAMES.slice(1).map((l, i) =>
    `${lossStyle({ loss: l }).short} − CE ${formatInterval(eq.tests[i]?.interval ?? null)}`
  );
  return {
    loss: "all",
    run: cellName(cell),
    claim,
    measured: `${parts.join("; ")} (${seeds.length} seeds)`,
    verdict: eq.decision,
  };
}

/** The verdict of "the true value is below `limit`" from an interval: decided only by an interval wholly on one side. */
function belowVerdict(i: Interval | null, limit: number): Verdict {
  if (i === null || i.lo === null || i.hi === null) return "INCONCLUSIVE";
  return i.hi < limit ? "PASS" : i.lo >= limit ? "FAIL" : "INCONCLUSIVE";
}

function terminalPhase(loss: LossName, cell: GridCell, bySeed: Map<number, RunValues> | undefined): ClaimCheck[] {
  const label = lossStyle({ loss }).label;
  const where = cellName(cell);
  const runs = [...(bySeed?.values() ?? [])];
  if (runs.length === 0) {
    return [{ loss: label, run: where, claim: "evaluated runs exist", measured: "none", verdict: "FAIL" }];
  }
  const complete = finite(runs.map((r) => r.train));
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
    verdict: li === null ? "FAIL" : belowVerdict(li, Math.log10(NC1_RATIO_LIMIT)),
  };
  return [trainCheck, nc1Check];
}

/**
 * The claims on a grid with several seeds (see the module documentation):
 * per loss, the terminal phase in the equivalence cell; then, for the
 * best-validation checkpoint and for the last epoch, the width contrast, the
 * length contrast and the equivalence.
 *
 * @example
 * ```ts
 * const runs = await selectRuns({ roots: ["runs/reproduce-medium/runs"] });
 * const checks = checkClaims(runs, claimsOf(sweepPreset("medium")));
 * ```
 */
export function checkClaims(
  runs: readonly RunRecord[],
  claims: ClaimsConfig,
  options: ClaimOptions = {},
): ClaimCheck[] {
  if (runs.length === 0) {
    return [{ loss: "all", run: "–", claim: "evaluated runs exist", measured: "none", verdict: "FAIL" }];
  }
  const checks: ClaimCheck[] = [];
  const corner = cellRuns(runs, claims.equivalence.cell);
  for (const loss of LOSS_NAMES) checks.push(...terminalPhase(loss, claims.equivalence.cell, corner.get(loss)));
  for (const kind of CHECKPOINT_KINDS) {
    const t = claimTables(runs, claims, kind);
    const d = decideClaims(t, claims, options);
    checks.push(contrastCheck("width", kind, claims, t.width, t.seeds.width, d.width, options));
    checks.push(contrastCheck("length", kind, claims, t.length, t.seeds.length, d.length, options));
    checks.push(equivalenceCheck(kind, claims, t.seeds.equivalence, d.equivalence));
  }
  return checks;
}

/**
 * The grid as a Markdown table for one checkpoint kind: per width and
 * training length, each loss's test top-1 as mean ± the 95% half-width over
 * seeds, the paper's |mean acc_CE − mean acc_l| per loss with the 95% interval
 * of the paired difference, √Ĝ with its 95% bootstrap interval, and the noise
 * floor (95th percentile of √Ĝ under within-seed label permutation).
 */
export function claimsGridMarkdown(
  runs: readonly RunRecord[],
  kind: CheckpointKind,
  options: ClaimOptions = {},
): string {
  const widths = [...new Set(runs.map((r) => r.info.run.width))].sort((a, b) => a - b);
  const lengths = [...new Set(runs.map((r) => r.info.run.epochs))].sort((a, b) => a - b);
  const short = (l: LossName): string => lossStyle({ loss: l }).short;
  const others = LOSS_NAMES.slice(1);
  const header = [
    "width",
    "epochs",
    ...LOSS_NAMES.map(short),
    ...others.map((l) => `\\|CE − ${short(l)}\\|`),
    "√Ĝ [95%]",
    "noise floor",
    "seeds",
  ];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  const count = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_STATISTICS_SEED;
  for (const width of widths) {
    for (const epochs of lengths) {
      const cell = cellRuns(runs, { width, epochs });
      const accuracy = LOSS_NAMES.map((l) => {
        const i = meanInterval(finite([...(cell.get(l)?.values() ?? [])].map((r) => r[kind])));
        if (i === null) return "–";
        return i.half === null ? `${i.mean.toFixed(2)} (n = 1)` : `${i.mean.toFixed(2)} ± ${i.half.toFixed(2)}`;
      });
      const bySeed = (l: LossName): Map<number, number> =>
        new Map(
          [...(cell.get(l) ?? new Map<number, RunValues>())].filter(([, r]) => r[kind] !== null)
            .map(([s, r]) => [s, r[kind]!]),
        );
      const gaps = others.map((l) => {
        const d = pairedDifference(bySeed("cross_entropy"), bySeed(l));
        return d === null ? "–" : formatInterval(absInterval(d));
      });
      const seeds = completeSeeds([cell], kind);
      const table = lossTable(cell, kind, seeds);
      const g = seeds.length >= 3 ? gapEstimate(table, sharedResamples(seeds.length, count, seed)) : null;
      const f = seeds.length >= 2 ? noiseFloor(table, count, seed) : null;
      const gText = g === null
        ? "–"
        : `${g.points.value.toFixed(2)} [${g.points.lo.toFixed(2)}, ${g.points.hi.toFixed(2)}]`;
      const fText = f === null ? "–" : f.points.toFixed(2);
      lines.push(
        `| ${[String(width), String(epochs), ...accuracy, ...gaps, gText, fText, String(seeds.length)].join(" | ")} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Both kinds' grid tables with a sentence each, for a report section. */
export function claimsTablesMarkdown(runs: readonly RunRecord[], options: ClaimOptions = {}): string {
  return CHECKPOINT_KINDS.map((kind) =>
    `Test top-1 of the ${CHECKPOINT_LABELS[kind]} per cell (mean ± 95% half-width over seeds), the paper's ` +
    `|mean CE − mean loss| with the 95% interval of the paired difference, the noise-corrected gap √Ĝ with its ` +
    `95% seed-bootstrap interval, and its noise floor (95th percentile of √Ĝ with the loss labels permuted ` +
    `within each seed):\n\n` + claimsGridMarkdown(runs, kind, options)
  ).join("\n\n");
}

/**
 * The claims of a grid of runs as a report section's Markdown: `intro`, the
 * checks as a table, a one-line summary, and both checkpoint kinds' grid
 * tables; with the checks, for the caller's exit status.
 */
export function claimsSection(
  runs: readonly RunRecord[],
  claims: ClaimsConfig,
  intro: string,
  options: ClaimOptions = {},
): { markdown: string; checks: ClaimCheck[] } {
  const checks = checkClaims(runs, claims, options);
  const failed = checks.filter((c) => c.verdict === "FAIL").length;
  const inconclusive = checks.filter((c) => c.verdict === "INCONCLUSIVE").length;
  const markdown = [
    intro,
    "",
    reproductionMarkdown(checks),
    "",
    failed > 0
      ? `**${failed} claim(s) failed.**`
      : inconclusive > 0
      ? `**No claim failed; ${inconclusive} inconclusive.**`
      : "**All claims hold.**",
    "",
    claimsTablesMarkdown(runs, options),
  ].join("\n");
  return { markdown, checks };
}

/** Whether `runs` form a grid the claims can read: two or more cells, and some cell with three or more seeds. */
export function hasClaimGrid(runs: readonly RunRecord[]): boolean {
  const cells = new Map<string, Set<number>>();
  for (const { info: { run } } of runs) {
    const k = `${run.width}|${run.epochs}`;
    cells.set(k, (cells.get(k) ?? new Set()).add(run.seed));
  }
  return cells.size > 1 && [...cells.values()].some((s) => s.size >= 3);
}
