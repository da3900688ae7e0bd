/**
 * The statistics of the paper's central claim, that the gap between losses is
 * wide for small or briefly trained networks and closes for large ones,
 * decided so that noise alone cannot pass it (`docs/statistics.md` gives every
 * formula and why). Pure and float64; every random draw comes from
 * {@linkcode Rng} with a fixed seed, so a table gives the same verdict on
 * every machine.
 *
 * A cell of the grid (one width and training length) is a {@linkcode LossTable}:
 * accuracies `[L][n]`, row 0 the reference loss (CE), one column per seed, the
 * same seed in the same column of every cell. With d(l, s) = acc(l, s) −
 * acc(CE, s):
 *
 * - Ĝ = mean over l ≠ CE of (d̄_l² − s_l²/n), the unbiased estimate of the
 *   mean squared true gap (a U-statistic: Σ_{i≠j} d_i d_j / (n(n − 1)));
 * - its studentised seed-bootstrap interval and one-sided contrast tests
 *   between cells (seeds resampled jointly across cells, jackknife standard
 *   errors);
 * - its noise floor: Ĝ's distribution when the loss labels are permuted within
 *   each seed, and the permutation p-value of "no gap";
 * - Holm's correction, and two one-sided tests (TOST) of equivalence.
 *
 * @example
 * ```ts
 * const cell = [[80, 81, 79, 80], [78, 80, 77, 78], [79, 80, 78, 80], [76, 77, 75, 77]];
 * noiseCorrectedGap(cell); // mean of (d̄_l² − s_l²/n) over LS, FL, MSE
 * ```
 *
 * @module
 */
import { Rng } from "./rng.ts";
import { type Interval, meanInterval } from "./stats.ts";

/** Accuracies of one cell, `[L][n]`: row 0 the reference loss (CE), one column per seed. */
export type LossTable = readonly ArrayLike<number>[];

/** Seed-index resamples, `[B][n]` flattened: row b is the b-th bootstrap draw of n seed positions. */
export interface Resamples {
  /** Seeds per draw. */
  n: number;
  /** Number of draws B. */
  count: number;
  /** `[count · n]` seed positions in 0 … n − 1. */
  index: Int32Array;
}

/** Default number of bootstrap draws and of label permutations. */
export const DEFAULT_RESAMPLES = 4000;

/** Seed of the generator that draws resamples and permutations when the caller gives none. */
export const DEFAULT_STATISTICS_SEED = 20221128;

/**
 * `count` draws of n seed positions with replacement, from `Rng(seed)`. Use
 * one set for every cell of a grid so that seeds are resampled jointly.
 */
export function seedResamples(n: number, count: number, seed: number = DEFAULT_STATISTICS_SEED): Resamples {
  const rng = new Rng(seed);
  const index = new Int32Array(count * n);
  for (let i = 0; i < index.length; i++) index[i] = rng.int(n);
  return { n, count, index };
}

/** The identity draw 0 … n − 1 (the observed seeds). */
function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Σ d and Σ d² of loss row `l`'s differences from CE (row 0) over the seed positions `idx`. */
function differenceSums(table: LossTable, l: number, idx: ArrayLike<number>): [number, number] {
  const row = table[l];
  const ref = table[0];
  let s1 = 0;
  let s2 = 0;
  for (let k = 0; k < idx.length; k++) {
    const d = row[idx[k]] - ref[idx[k]];
    s1 += d;
    s2 += d * d;
  }
  return [s1, s2];
}

/**
 * Ĝ of `table` over the seed positions `seeds` (default: every column once):
 * mean over l ≥ 1 of (d̄_l² − s_l²/n) = Σ_{i≠j} d_i d_j / (n(n − 1)) with
 * d = acc(l) − acc(0). `null` with fewer than two seeds or one row.
 *
 * @example
 * ```ts
 * noiseCorrectedGap([[80, 80], [78, 79]]); // d = −2, −1: d̄² − s²/n = 2.25 − 0.25 = 2
 * ```
 */
export function noiseCorrectedGap(table: LossTable, seeds?: ArrayLike<number>): number | null {
  const idx = seeds ?? identity(table[0]?.length ?? 0);
  if (table.length < 2 || idx.length < 2) return null;
  return gapOf(table, idx);
}

function gapOf(table: LossTable, idx: ArrayLike<number>): number {
  const n = idx.length;
  let total = 0;
  for (let l = 1; l < table.length; l++) {
    const [s1, s2] = differenceSums(table, l, idx);
    total += (s1 * s1 - s2) / (n * (n - 1));
  }
  return total / (table.length - 1);
}

/** mean over l ≥ 1 of d̄_l² over the observed seeds: the value Ĝ estimates in the bootstrap world. */
function plugInGap(table: LossTable): number {
  const n = table[0].length;
  let total = 0;
  for (let l = 1; l < table.length; l++) {
    let s1 = 0;
    for (let k = 0; k < n; k++) s1 += table[l][k] - table[0][k];
    total += (s1 / n) ** 2;
  }
  return total / (table.length - 1);
}

/**
 * Ĝ(a) − Ĝ(b) (or Ĝ(a) alone when `b` is null) over the seed positions `idx`,
 * and its jackknife standard error (leave one position out), in O(n · L).
 */
function contrastWithSe(a: LossTable, b: LossTable | null, idx: ArrayLike<number>): { value: number; se: number } {
  const n = idx.length;
  // Per seed position, the sum over losses of d and d², for each cell: Ĝ(−k) needs only these sums.
  const loo = new Float64Array(n);
  let value = 0;
  const add = (table: LossTable, sign: number): void => {
    const L = table.length - 1;
    for (let l = 1; l <= L; l++) {
      const row = table[l];
      const ref = table[0];
      const [s1, s2] = differenceSums(table, l, idx);
      value += sign * (s1 * s1 - s2) / (n * (n - 1)) / L;
      for (let k = 0; k < n; k++) {
        const d = row[idx[k]] - ref[idx[k]];
        const t1 = s1 - d;
        const t2 = s2 - d * d;
        loo[k] += sign * (t1 * t1 - t2) / ((n - 1) * (n - 2)) / L;
      }
    }
  };
  add(a, 1);
  if (b !== null) add(b, -1);
  let m = 0;
  for (let k = 0; k < n; k++) m += loo[k];
  m /= n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (loo[k] - m) ** 2;
  return { value, se: Math.sqrt((n - 1) / n * ss) };
}

/**
 * Bootstrap-t statistics (θ̂* − θ(F̂)) / se* of the draws. A draw whose
 * jackknife se* is 0 (every position the same seed) has no t and is left
 * out, as is usual for the bootstrap-t.
 */
function bootstrapT(a: LossTable, b: LossTable | null, resamples: Resamples): Float64Array {
  const { n, count, index } = resamples;
  const center = plugInGap(a) - (b === null ? 0 : plugInGap(b));
  const t = new Float64Array(count);
  let used = 0;
  for (let r = 0; r < count; r++) {
    const { value, se } = contrastWithSe(a, b, index.subarray(r * n, (r + 1) * n));
    if (se > 0) t[used++] = (value - center) / se;
  }
  return t.subarray(0, used);
}

/** The `q`-quantile of sorted values (linear interpolation between order statistics, NumPy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** √max(0, x): a mean squared gap shown in accuracy points. */
export function gapPoints(x: number): number {
  return Math.sqrt(Math.max(0, x));
}

/** Ĝ of a cell with its interval, both as Ĝ and as √max(0, ·) in points. */
export interface GapEstimate {
  /** Ĝ, in squared points. */
  gap: number;
  /** Jackknife standard error of Ĝ. */
  se: number;
  /** Studentised bootstrap interval of G at `level`, in squared points (may reach below 0). */
  lo: number;
  hi: number;
  /** √max(0, ·) of `gap`, `lo`, `hi`: what tables and heatmaps show, in points. */
  points: { value: number; lo: number; hi: number };
  /** Seeds the estimate is over. */
  n: number;
}

/**
 * Ĝ of `table` with its studentised seed-bootstrap interval (default 95%):
 * [Ĝ − q*_{1−α/2} se, Ĝ − q*_{α/2} se], q* the quantiles of the draws'
 * (Ĝ* − θ(F̂)) / se*, se the jackknife standard error. `null` with fewer
 * than three seeds (the jackknife needs two left).
 */
export function gapEstimate(table: LossTable, resamples: Resamples, level = 0.95): GapEstimate | null {
  const n = table[0]?.length ?? 0;
  if (table.length < 2 || n < 3) return null;
  if (resamples.n !== n) throw new RangeError(`gapEstimate: resamples of ${resamples.n} seeds for ${n} seeds`);
  const { value, se } = contrastWithSe(table, null, identity(n));
  const t = bootstrapT(table, null, resamples).sort();
  const alpha = 1 - level;
  const lo = se > 0 ? value - quantileSorted(t, 1 - alpha / 2) * se : value;
  const hi = se > 0 ? value - quantileSorted(t, alpha / 2) * se : value;
  return { gap: value, se, lo, hi, points: { value: gapPoints(value), lo: gapPoints(lo), hi: gapPoints(hi) }, n };
}

/** One-sided test of Ĝ(a) − Ĝ(b) in both directions. */
export interface ContrastTest {
  /** Ĝ(a) − Ĝ(b), squared points. */
  estimate: number;
  /** Its jackknife standard error. */
  se: number;
  /** Bootstrap-t p-value of "G(a) > G(b)" (small: a's gap is larger). */
  pGreater: number;
  /** Bootstrap-t p-value of "G(a) < G(b)". */
  pLess: number;
  n: number;
}

/**
 * The studentised seed-bootstrap test of G(a) − G(b): t = (Ĝ(a) − Ĝ(b)) / se
 * against the draws' T* = (θ̂* − θ(F̂)) / se*, seeds resampled jointly in both
 * cells (columns must be the same seeds). p-values are (1 + #{T* ≥ t}) / (B + 1)
 * and (1 + #{T* ≤ t}) / (B + 1), B the draws with se* > 0. `null` with fewer
 * than three seeds.
 */
export function gapContrast(a: LossTable, b: LossTable, resamples: Resamples): ContrastTest | null {
  const n = a[0]?.length ?? 0;
  if (a.length < 2 || b.length !== a.length || n < 3 || b[0].length !== n) return null;
  if (resamples.n !== n) throw new RangeError(`gapContrast: resamples of ${resamples.n} seeds for ${n} seeds`);
  const { value, se } = contrastWithSe(a, b, identity(n));
  const tStar = bootstrapT(a, b, resamples);
  const t = se > 0 ? value / se : value > 0 ? Infinity : value < 0 ? -Infinity : 0;
  let above = 0;
  let below = 0;
  for (const x of tStar) {
    if (x >= t) above++;
    if (x <= t) below++;
  }
  const B = tStar.length;
  return { estimate: value, se, pGreater: (1 + above) / (B + 1), pLess: (1 + below) / (B + 1), n };
}

/** Ĝ's noise floor in a cell: its distribution with the loss labels permuted within each seed. */
export interface NoiseFloor {
  /** The `quantile` (default 95%) of √max(0, Ĝ*) over the permutations, in points. */
  points: number;
  /** Permutation p-value of "no gap": (1 + #{Ĝ* ≥ Ĝ}) / (P + 1). */
  pValue: number;
  /** Mean of Ĝ* over the permutations (≈ 0: Ĝ is unbiased under exchangeable labels). */
  meanGap: number;
}

/**
 * The noise floor of Ĝ in `table`: `count` draws (from `Rng(seed)`) that
 * shuffle the L accuracies of each seed among the losses, Ĝ of each.
 * `null` with fewer than two seeds.
 */
export function noiseFloor(
  table: LossTable,
  count: number = DEFAULT_RESAMPLES,
  seed: number = DEFAULT_STATISTICS_SEED,
  quantile = 0.95,
): NoiseFloor | null {
  const n = table[0]?.length ?? 0;
  const L = table.length;
  if (L < 2 || n < 2) return null;
  const observed = gapOf(table, identity(n));
  const rng = new Rng(seed);
  const rows = Array.from({ length: L }, () => new Float64Array(n));
  const column = new Float64Array(L);
  const draws = new Float64Array(count);
  const idx = identity(n);
  let atLeast = 0;
  let sum = 0;
  for (let p = 0; p < count; p++) {
    for (let s = 0; s < n; s++) {
      for (let l = 0; l < L; l++) column[l] = table[l][s];
      rng.shuffle(column);
      for (let l = 0; l < L; l++) rows[l][s] = column[l];
    }
    const g = gapOf(rows, idx);
    draws[p] = gapPoints(g);
    sum += g;
    // A tolerance so that a permutation equal to the observed labelling counts however the sums round.
    if (g >= observed - 1e-12 * Math.max(1, Math.abs(observed))) atLeast++;
  }
  draws.sort();
  return { points: quantileSorted(draws, quantile), pValue: (1 + atLeast) / (count + 1), meanGap: sum / count };
}

/**
 * Holm's step-down adjustment of p-values (same order as given): sort
 * ascending, p̃(i) = max over j ≤ i of min(1, (m − j + 1) · p(j)).
 *
 * @example
 * ```ts
 * holm([0.01, 0.04]); // [0.02, 0.04]
 * ```
 */
export function holm(p: readonly number[]): number[] {
  const m = p.length;
  const order = p.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([v, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * v));
    out[i] = running;
  });
  return out;
}

/** PASS, FAIL or INCONCLUSIVE. */
export type Decision = "PASS" | "FAIL" | "INCONCLUSIVE";

/** Two one-sided tests of |mean difference| < margin, as one interval. */
export interface EquivalenceTest {
  /** The (1 − 2α) Student-t interval of the mean paired difference (90% for α = 0.05). */
  interval: Interval;
  /** PASS: the interval lies inside ±margin; FAIL: it lies wholly outside; INCONCLUSIVE otherwise. */
  decision: Decision;
}

/**
 * TOST of the paired differences `d` against ±`margin` at level α (default
 * 0.05): equivalent when the (1 − 2α) t interval lies inside (−margin,
 * margin), the two one-sided t tests both rejecting at α. `null` with fewer
 * than two values.
 *
 * @example
 * ```ts
 * equivalenceTest([0.2, -0.1, 0.3, 0.0], 1).decision; // "PASS"
 * ```
 */
export function equivalenceTest(d: readonly number[], margin: number, alpha = 0.05): EquivalenceTest | null {
  const interval = meanInterval(d, 1 - 2 * alpha);
  if (interval === null || interval.lo === null || interval.hi === null) return null;
  const inside = interval.lo > -margin && interval.hi < margin;
  const outside = interval.lo >= margin || interval.hi <= -margin;
  return { interval, decision: inside ? "PASS" : outside ? "FAIL" : "INCONCLUSIVE" };
}

/** One pre-registered contrast "the gap in cell a is larger than in cell b", as tables of the same seeds. */
export interface ContrastInput {
  a: LossTable;
  b: LossTable;
}

/** The decision of one contrast, with what decided it. */
export interface ContrastDecision {
  test: ContrastTest;
  /** Noise floor and permutation p-value of each cell. */
  floorA: NoiseFloor;
  floorB: NoiseFloor;
  /** p of "G(a) > G(b)": max of the bootstrap-t p and cell a's permutation p (an intersection–union test). */
  pGreater: number;
  /** p of "G(a) < G(b)": max of the bootstrap-t p and cell b's permutation p. */
  pLess: number;
  /** Holm-adjusted over the family of contrasts. */
  pGreaterHolm: number;
  pLessHolm: number;
  decision: Decision;
}

/** Settings of {@linkcode decideContrasts}. */
export interface ContrastOptions {
  /** Family-wise error rate (default 0.05). */
  alpha?: number;
  /** Bootstrap draws and label permutations (default {@linkcode DEFAULT_RESAMPLES}). */
  resamples?: number;
  /** Seed of the draws (default {@linkcode DEFAULT_STATISTICS_SEED}). */
  seed?: number;
}

const resampleCache = new Map<string, Resamples>();

/**
 * {@linkcode seedResamples}, remembered: the same draws for every cell with
 * `n` seeds (seeds resampled jointly across a grid's cells) and for every
 * simulated grid.
 */
export function sharedResamples(n: number, count: number, seed: number = DEFAULT_STATISTICS_SEED): Resamples {
  const key = `${n}|${count}|${seed}`;
  let r = resampleCache.get(key);
  if (!r) {
    if (resampleCache.size > 64) resampleCache.clear();
    r = seedResamples(n, count, seed);
    resampleCache.set(key, r);
  }
  return r;
}

/**
 * The pre-registered contrasts decided together: each one-sided in both
 * directions, p = max(bootstrap-t p, the larger cell's permutation p), Holm
 * over the family. PASS when "G(a) > G(b)" is rejected at α after Holm; FAIL
 * when "G(a) < G(b)" is; INCONCLUSIVE otherwise. A contrast with fewer than
 * three seeds is `null` and leaves the family.
 */
export function decideContrasts(
  contrasts: readonly ContrastInput[],
  options: ContrastOptions = {},
): (ContrastDecision | null)[] {
  const alpha = options.alpha ?? 0.05;
  const count = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_STATISTICS_SEED;
  const parts = contrasts.map(({ a, b }) => {
    const n = a[0]?.length ?? 0;
    if (n < 3) return null;
    const test = gapContrast(a, b, sharedResamples(n, count, seed));
    if (test === null) return null;
    const floorA = noiseFloor(a, count, seed)!;
    const floorB = noiseFloor(b, count, seed + 1)!;
    return {
      test,
      floorA,
      floorB,
      pGreater: Math.max(test.pGreater, floorA.pValue),
      pLess: Math.max(test.pLess, floorB.pValue),
    };
  });
  const decided = parts.filter((p) => p !== null);
  const greater = holm(decided.map((p) => p.pGreater));
  const less = holm(decided.map((p) => p.pLess));
  let k = 0;
  return parts.map((p) => {
    if (p === null) return null;
    const pGreaterHolm = greater[k];
    const pLessHolm = less[k++];
    const decision: Decision = pGreaterHolm <= alpha ? "PASS" : pLessHolm <= alpha ? "FAIL" : "INCONCLUSIVE";
    return { ...p, pGreaterHolm, pLessHolm, decision };
  });
}

/** Paired differences acc(l) − acc(0) per seed, one array per loss l ≥ 1. */
export function differencesFromReference(table: LossTable): number[][] {
  const out: number[][] = [];
  for (let l = 1; l < table.length; l++) out.push(Array.from(table[l], (v, s) => v - table[0][s]));
  return out;
}

/** TOST for every loss of a cell against the reference, combined: PASS when all pass, FAIL when one fails. */
export function equivalenceOfCell(
  table: LossTable,
  margin: number,
  alpha = 0.05,
): { tests: (EquivalenceTest | null)[]; decision: Decision } {
  const tests = differencesFromReference(table).map((d) => equivalenceTest(d, margin, alpha));
  const decisions = tests.map((t) => t?.decision ?? "INCONCLUSIVE");
  const decision: Decision = decisions.includes("FAIL")
    ? "FAIL"
    : decisions.length > 0 && decisions.every((d) => d === "PASS")
    ? "PASS"
    : "INCONCLUSIVE";
  return { tests, decision };
}
