/**
 * Student-t quantiles against closed forms (df = 1: Cauchy, tan(π(p − ½));
 * df = 2: t = (2p − 1)·√(2 / (1 − (2p − 1)²))) and printed tables, the
 * intervals built on them, and the interval of an absolute value.
 */
import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import {
  absInterval,
  meanInterval,
  pairedDifference,
  sampleStd,
  studentTCdf,
  studentTQuantile,
  variance,
} from "../src/stats.ts";

Deno.test("t quantile: df = 1 and df = 2 match their closed forms at several levels", () => {
  for (const p of [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995]) {
    assertClose(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), { rel: 1e-12 }, `df 1, p ${p}`);
    const u = 2 * p - 1;
    assertClose(studentTQuantile(p, 2), u * Math.sqrt(2 / (1 - u * u)), { rel: 1e-12 }, `df 2, p ${p}`);
    // Symmetry.
    assertClose(studentTQuantile(1 - p, 2), -u * Math.sqrt(2 / (1 - u * u)), { rel: 1e-12 }, `df 2, p ${1 - p}`);
  }
});

Deno.test("t quantile: the printed 97.5% table (df 3, 4, 10, 30) and the normal limit", () => {
  // Values to the printed table's 3 decimals, and 1.95996 (the normal's 97.5% point) for large df.
  const table: [number, number][] = [[3, 3.182], [4, 2.776], [10, 2.228], [30, 2.042]];
  for (const [df, t] of table) assert(Math.abs(studentTQuantile(0.975, df) - t) < 5e-4, `df ${df}`);
  assertClose(studentTQuantile(0.975, 1e7), 1.959963984540054, { rel: 1e-6 }, "normal limit");
  // The CDF inverts the quantile.
  for (const df of [1, 2.5, 7, 100]) {
    assertClose(studentTCdf(studentTQuantile(0.8, df), df), 0.8, { rel: 1e-12 }, `cdf df ${df}`);
  }
  assertEquals(studentTQuantile(0.5, 3), 0);
  assertThrows(() => studentTQuantile(1, 3), RangeError);
  assertThrows(() => studentTQuantile(0.9, 0), RangeError);
});

Deno.test("mean interval: hand-computed for three values; unknown for one; zero-width for equal values", () => {
  // mean 2, s = 1, t(0.975, 2) = √(2·0.95²/(1 − 0.95²)) = 4.302652729749464; half = t / √3.
  const i = meanInterval([1, 2, 3])!;
  assertEquals(i.mean, 2);
  assertClose(i.half!, 4.302652729749464 / Math.sqrt(3), { rel: 1e-12 }, "half-width");
  assertClose(i.lo!, 2 - 4.302652729749464 / Math.sqrt(3), { rel: 1e-12 }, "lo");
  assertEquals(meanInterval([5]), { mean: 5, lo: null, hi: null, half: null, n: 1 });
  assertEquals(meanInterval([]), null);
  assertEquals(meanInterval([7, 7, 7])!.half, 0);
  assertEquals(variance([1, 2, 3]), 2 / 3);
  assertEquals(sampleStd([1, 2, 3]), 1);
});

Deno.test("abs interval: straddling zero starts at 0; one-sided intervals reflect", () => {
  assertEquals(absInterval({ mean: -0.5, lo: -2, hi: 1, half: 1.5, n: 3 }), {
    mean: 0.5,
    lo: 0,
    hi: 2,
    half: 1.5,
    n: 3,
  });
  assertEquals(absInterval({ mean: -3, lo: -4, hi: -2, half: 1, n: 3 }).lo, 2);
  assertEquals(absInterval({ mean: -3, lo: -4, hi: -2, half: 1, n: 3 }).hi, 4);
  assertEquals(absInterval({ mean: 3, lo: 2, hi: 4, half: 1, n: 3 }).lo, 2);
});

Deno.test("paired difference: over the shared keys by default, over the given keys otherwise", () => {
  const a = new Map([[1, 80], [2, 82], [4, 90]]);
  const b = new Map([[1, 78], [2, 79], [3, 70]]);
  // Seeds 1 and 2: differences 2 and 3, mean 2.5, s = √0.5, half = 12.706 · √0.5 / √2 = 6.353.
  const d = pairedDifference(a, b)!;
  assertEquals([d.mean, d.n], [2.5, 2]);
  assertClose(d.half!, Math.tan(0.475 * Math.PI) / 2, { rel: 1e-12 }, "half-width");
  assertEquals(pairedDifference(a, b, [2])!.mean, 3);
  assertEquals(pairedDifference(new Map([[5, 1]]), b), null);
});
