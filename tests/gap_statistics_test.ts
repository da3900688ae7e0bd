/**
 * The gap statistics against NumPy (tests/fixtures/stats/generate.py computes
 * them from their definitions on a 4-loss × 4-seed table, the bootstrap over
 * all 4⁴ = 256 resamples, enumerated so that nothing is random) and against
 * hand-computed cases.
 */
import { assert, assertClose, assertEquals } from "./_assert.ts";
import {
  equivalenceOfCell,
  equivalenceTest,
  gapContrast,
  gapEstimate,
  holm,
  noiseCorrectedGap,
  noiseFloor,
  type Resamples,
  seedResamples,
} from "../src/gap_statistics.ts";

const expected = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/stats/expected.json", import.meta.url)),
) as {
  a: number[][];
  b: number[][];
  gap_a: number;
  gap_b: number;
  se_a: number;
  interval_a: [number, number];
  contrast: { estimate: number; se: number; p_greater: number; p_less: number };
  holm: { p: number[]; adjusted: number[] };
  tost_mse: { mean: number; lo: number; hi: number };
};

/** Every draw of n positions, in NumPy's itertools.product order. */
function allResamples(n: number): Resamples {
  const count = n ** n;
  const index = new Int32Array(count * n);
  for (let r = 0; r < count; r++) {
    let x = r;
    for (let k = n - 1; k >= 0; k--) {
      index[r * n + k] = x % n;
      x = Math.floor(x / n);
    }
  }
  return { n, count, index };
}

Deno.test("Ĝ: the mean of d̄² − s²/n, by hand and as NumPy computes it", () => {
  // d = −2, −1: d̄² = 2.25, s² = 0.5, s²/n = 0.25.
  assertEquals(noiseCorrectedGap([[80, 80], [78, 79]]), 2);
  // As a U-statistic ((Σd)² − Σd²) / (n(n − 1)): d = −2, −1, −1 gives (16 − 6) / 6 = 5/3; d = 1, 1, 4 gives
  // (36 − 18) / 6 = 3; their mean is 7/3.
  assertClose(noiseCorrectedGap([[0, 0, 0], [-2, -1, -1], [1, 1, 4]])!, 7 / 3, { abs: 1e-12 });
  assertClose(noiseCorrectedGap(expected.a)!, expected.gap_a, { abs: 1e-12 });
  assertClose(noiseCorrectedGap(expected.b)!, expected.gap_b, { abs: 1e-12 });
  assertEquals(noiseCorrectedGap([[1], [2]]), null);
});

Deno.test("bootstrap-t: jackknife se, interval and one-sided p-values over all 256 resamples match NumPy", () => {
  const all = allResamples(4);
  const g = gapEstimate(expected.a, all)!;
  assertClose(g.gap, expected.gap_a, { abs: 1e-12 });
  assertClose(g.se, expected.se_a, { abs: 1e-12 });
  assertClose(g.lo, expected.interval_a[0], { abs: 1e-9 });
  assertClose(g.hi, expected.interval_a[1], { abs: 1e-9 });
  assertClose(g.points.value, Math.sqrt(expected.gap_a), { abs: 1e-12 });
  const c = gapContrast(expected.a, expected.b, all)!;
  assertClose(c.estimate, expected.contrast.estimate, { abs: 1e-12 });
  assertClose(c.se, expected.contrast.se, { abs: 1e-12 });
  assertClose(c.pGreater, expected.contrast.p_greater, { abs: 1e-12 });
  assertClose(c.pLess, expected.contrast.p_less, { abs: 1e-12 });
});

Deno.test("bootstrap: random draws are reproducible and approach the enumerated p-value", () => {
  const r1 = seedResamples(4, 4000, 7);
  assertEquals(r1.index, seedResamples(4, 4000, 7).index);
  assert(r1.index.some((v, i) => v !== seedResamples(4, 4000, 8).index[i]));
  const p = gapContrast(expected.a, expected.b, r1)!.pGreater;
  // 4000 draws: a binomial s.e. of √(0.004 · 0.996 / 4000) ≈ 0.001 around the exact 0.00395.
  assert(Math.abs(p - expected.contrast.p_greater) < 0.005, `p ${p}`);
});

Deno.test("Holm: step-down adjustment matches NumPy and keeps order", () => {
  const adjusted = holm(expected.holm.p);
  expected.holm.adjusted.forEach((v, i) => assertClose(adjusted[i], v, { abs: 1e-15 }));
  assertEquals(holm([0.01, 0.04]), [0.02, 0.04]);
  // 0.5 first: min(1, 2 · 0.5) = 1; then 0.6 is raised to the running maximum 1.
  assertEquals(holm([0.6, 0.5]), [1, 1]);
});

Deno.test("TOST: the 90% t interval decides PASS inside, FAIL wholly outside, INCONCLUSIVE across", () => {
  const d = expected.a[3].map((v, s) => v - expected.a[0][s]);
  const t = equivalenceTest(d, 1)!;
  assertClose(t.interval.mean, expected.tost_mse.mean, { abs: 1e-12 });
  assertClose(t.interval.lo!, expected.tost_mse.lo, { abs: 1e-9 });
  assertClose(t.interval.hi!, expected.tost_mse.hi, { abs: 1e-9 });
  assertEquals(t.decision, "FAIL");
  assertEquals(equivalenceTest([0.2, -0.1, 0.3, 0.0], 1)!.decision, "PASS");
  assertEquals(equivalenceTest([0.2, -0.9, 1.3, 0.0], 1)!.decision, "INCONCLUSIVE");
  assertEquals(equivalenceTest([0.5], 1), null);
  // A cell: one loss outside fails it; all inside pass it.
  assertEquals(equivalenceOfCell(expected.a, 1).decision, "FAIL");
  assertEquals(equivalenceOfCell(expected.b, 1).decision, "PASS");
});

Deno.test("noise floor: zero for identical losses, small p for a consistent gap, reproducible", () => {
  const same = [[80, 81, 79], [80, 81, 79], [80, 81, 79], [80, 81, 79]];
  const f0 = noiseFloor(same, 500, 1)!;
  assertEquals(f0.points, 0);
  assertEquals(f0.pValue, 1);
  const gap = [[80, 81, 79, 80, 82, 81], [78, 79, 77, 78, 80, 79], [79, 80, 78, 79, 81, 80], [76, 77, 75, 76, 78, 77]];
  const f = noiseFloor(gap, 2000, 1)!;
  assert(f.pValue < 0.01, `p ${f.pValue}`);
  assert(f.points < Math.sqrt(noiseCorrectedGap(gap)!), `floor ${f.points}`);
  assertEquals(noiseFloor(gap, 2000, 1), f);
});
