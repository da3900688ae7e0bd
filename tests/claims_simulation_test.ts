/**
 * The claims are honest on simulated grids (pure TypeScript, seeded): with no
 * true gap anywhere and a noisier narrow cell, each trend claim PASSes in at
 * most 5% of grids (plus Monte Carlo error) and Ĝ averages 0; with a true gap
 * of the size a pilot shows, both trend claims and the equivalence PASS in at
 * least 80% of grids at 10 seeds.
 *
 * Monte Carlo error: with G grids a PASS rate p has standard error
 * √(p(1 − p)/G): 0.011 at p = 0.05 and G = 400, 0.028 at p = 0.8 and G = 200.
 * The bounds below allow two standard errors.
 */
import { assert } from "./_assert.ts";
import { Rng } from "../src/rng.ts";
import { noiseCorrectedGap } from "../src/gap_statistics.ts";
import { type ClaimsConfig, decideClaims } from "../src/sweep/mod.ts";

/** The claims of a 2 × 2 grid: narrow/wide × short/long. */
const CLAIMS: ClaimsConfig = {
  widthContrast: { from: { width: 1, epochs: 200 }, to: { width: 2, epochs: 200 } },
  lengthContrast: { from: { width: 2, epochs: 20 }, to: { width: 2, epochs: 200 } },
  equivalence: { cell: { width: 2, epochs: 200 }, margin: 1 },
};

/**
 * One cell's accuracies `[4][n]`: 80 + each loss's true offset from CE + a
 * seed effect shared by the losses (s.d. 0.5, so losses correlate within a
 * seed) + independent noise of s.d. `sigma`.
 */
function cell(rng: Rng, n: number, sigma: number, offsets: readonly number[]): number[][] {
  const shared = Array.from({ length: n }, () => 0.5 * rng.normal());
  return offsets.map((o) => shared.map((e) => 80 + o + e + sigma * rng.normal()));
}

interface Scenario {
  /** Per cell: noise s.d. and the true offsets of CE, LS, FL, MSE. */
  narrowLong: [number, number[]];
  wideShort: [number, number[]];
  wideLong: [number, number[]];
}

/** PASS rates of the three claims over `grids` simulated grids, and the mean Ĝ of the narrow-long cell. */
function simulate(s: Scenario, n: number, grids: number, seed: number) {
  const rng = new Rng(seed);
  let width = 0;
  let length = 0;
  let tost = 0;
  const gaps: number[] = [];
  for (let g = 0; g < grids; g++) {
    const a = cell(rng, n, ...s.narrowLong);
    const b = cell(rng, n, ...s.wideShort);
    const c = cell(rng, n, ...s.wideLong);
    gaps.push(noiseCorrectedGap(a)!);
    const d = decideClaims({ width: { a, b: c }, length: { a: b, b: c }, equivalence: c }, CLAIMS, { resamples: 999 });
    width += +(d.width?.decision === "PASS");
    length += +(d.length?.decision === "PASS");
    tost += +(d.equivalence.decision === "PASS");
  }
  const mean = gaps.reduce((t, v) => t + v, 0) / grids;
  const sd = Math.sqrt(gaps.reduce((t, v) => t + (v - mean) ** 2, 0) / (grids - 1));
  return {
    width: width / grids,
    length: length / grids,
    tost: tost / grids,
    meanGap: mean,
    meanGapSe: sd / Math.sqrt(grids),
  };
}

const NONE = [0, 0, 0, 0];

for (const n of [5, 10]) {
  Deno.test(`null: no true gap, σ 1.2 in the narrow and short cells against 0.5, ${n} seeds: PASS ≤ 5% + MC error`, () => {
    const grids = 400;
    const r = simulate({ narrowLong: [1.2, NONE], wideShort: [1.2, NONE], wideLong: [0.5, NONE] }, n, grids, 100 + n);
    const bound = 0.05 + 2 * Math.sqrt(0.05 * 0.95 / grids);
    assert(r.width <= bound, `width contrast PASS rate ${r.width} > ${bound}`);
    assert(r.length <= bound, `length contrast PASS rate ${r.length} > ${bound}`);
    // Ĝ is unbiased: its mean over the grids is 0 within three standard errors.
    assert(Math.abs(r.meanGap) <= 3 * r.meanGapSe, `mean Ĝ ${r.meanGap} (s.e. ${r.meanGapSe})`);
  });
}

Deno.test("power: a pilot-sized gap (LS −1, FL −1.5, MSE −3 points, σ 1) PASSes ≥ 80% at 10 seeds", () => {
  const grids = 200;
  const gap = [0, -1, -1.5, -3];
  const r = simulate({ narrowLong: [1, gap], wideShort: [1, gap], wideLong: [0.5, NONE] }, 10, grids, 7);
  const bound = 0.8 - 2 * Math.sqrt(0.8 * 0.2 / grids);
  assert(r.width >= bound, `width contrast power ${r.width}`);
  assert(r.length >= bound, `length contrast power ${r.length}`);
  assert(r.tost >= bound, `TOST power ${r.tost}`);
});

Deno.test("reverse trend: the gap only in the wide-long cell makes both contrasts FAIL, never PASS", () => {
  const rng = new Rng(3);
  const gap = [0, -1, -1.5, -3];
  for (let g = 0; g < 5; g++) {
    const a = cell(rng, 10, 0.5, NONE);
    const b = cell(rng, 10, 0.5, NONE);
    const c = cell(rng, 10, 0.5, gap);
    const d = decideClaims({ width: { a, b: c }, length: { a: b, b: c }, equivalence: c }, CLAIMS, { resamples: 999 });
    assert(d.width?.decision === "FAIL" && d.length?.decision === "FAIL", `${d.width?.decision} ${d.length?.decision}`);
    assert(d.equivalence.decision === "FAIL", d.equivalence.decision);
  }
});
