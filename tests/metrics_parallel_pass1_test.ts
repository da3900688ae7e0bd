/**
 * Pass 1 split between this thread and a worker: float32 features summed in
 * one pass give the bits of scaling first, shares summed apart merge to the
 * one-pass sums, the worker's share comes back, a failed worker returns
 * nothing, and `measureBatches` with the helper gives the one-thread metrics
 * and the one-thread error messages for bad values in the worker's rows.
 */
import { assert, assertClose, assertEquals, assertRejects } from "./_assert.ts";
import { ClassSums, type ClassSumsState } from "../src/metrics/class_means.ts";
import { Pass1Helper } from "../src/metrics/_parallel_pass1.ts";
import { arraySource, measureBatches, PARALLEL_PASS1_VALUES, syntheticFeatures } from "../src/metrics/mod.ts";
import { DEFAULT_INPUT_NAMES } from "../src/metrics/types.ts";
import { Rng } from "../src/rng.ts";
import { UserError } from "../src/errors.ts";

function assertSameBits(a: ClassSumsState, b: ClassSumsState, what: string): void {
  assertEquals(a.featureShift, b.featureShift, `${what}: feature shift`);
  assertEquals(a.featureMax, b.featureMax, `${what}: largest |h|`);
  assertEquals(a.n, b.n, `${what}: samples`);
  assertEquals(Array.from(a.counts), Array.from(b.counts), `${what}: counts`);
  for (let i = 0; i < a.sums.length; i++) {
    if (!Object.is(a.sums[i], b.sums[i])) throw new Error(`${what}: sum ${i} is ${a.sums[i]}, expected ${b.sums[i]}`);
  }
}

/** Batches whose largest |h| jumps across the unscaled range both ways, so the scale changes between batches. */
function batchesAcrossScales(k: number, d: number): { x: Float32Array; y: Int32Array }[] {
  const rng = new Rng(11);
  return [1, 3e5, 2e-30, 7e37, 1e-3].map((scale) => {
    const n = 37;
    const x = new Float32Array(n * d).map(() => scale * rng.normal());
    const y = new Int32Array(n).map(() => Math.floor(rng.uniform() * k));
    return { x, y };
  });
}

Deno.test("float32 features summed in one pass give the bits of scaling first (as float64 features are)", () => {
  const k = 5, d = 13;
  const one = new ClassSums(k, d, DEFAULT_INPUT_NAMES);
  const two = new ClassSums(k, d, DEFAULT_INPUT_NAMES);
  for (const { x, y } of batchesAcrossScales(k, d)) {
    one.add(x, y); // float32: one pass, rescaled after
    two.add(Float64Array.from(x), y); // float64: scale first, then sum
    assertSameBits(one.state(), two.state(), "after a batch");
  }
  assert(one.state().featureShift !== 0, "the last scale is not the unscaled one");
});

Deno.test("shares summed apart merge to the one-pass sums, whatever their scales", () => {
  const k = 4, d = 6;
  // Whole multiples of a power of two: every float64 sum is exact, so the order of additions cannot matter.
  const share = (scale: number, n: number, seed: number) => {
    const rng = new Rng(seed);
    return {
      x: new Float32Array(n * d).map(() => scale * Math.round(100 * rng.normal())),
      y: new Int32Array(n).map((_, i) => i % k),
    };
  };
  const a = share(2 ** -10, 9, 1); // unscaled
  const b = share(2 ** 20, 7, 2); // scaled down
  const whole = new ClassSums(k, d, DEFAULT_INPUT_NAMES);
  whole.add(a.x, a.y);
  whole.add(b.x, b.y);
  const left = new ClassSums(k, d, DEFAULT_INPUT_NAMES);
  const right = new ClassSums(k, d, DEFAULT_INPUT_NAMES);
  left.add(a.x, a.y);
  right.add(b.x, b.y);
  assert(left.state().featureShift !== right.state().featureShift, "the shares have different scales");
  left.merge(right.state());
  assertSameBits(left.state(), whole.state(), "merged");
});

Deno.test("the helper sums the blocks it is given and hands its share back", async () => {
  const k = 7, d = 9;
  const helper = Pass1Helper.start(k, d);
  assert(helper !== null, "a worker could not start");
  try {
    const rng = new Rng(3);
    const expected = new ClassSums(k, d, DEFAULT_INPUT_NAMES);
    let row = 0;
    for (let b = 0; b < 5; b++) {
      const n = 100 + b;
      const x = new Float32Array(n * d).map(() => Math.round(50 * rng.normal()));
      const y = new Int32Array(n).map(() => Math.floor(rng.uniform() * k));
      const rows = helper.share(n);
      assertEquals(rows, Math.floor(n / 2));
      await helper.post(x, y, rows, row);
      expected.add(x.subarray(0, rows * d), y.subarray(0, rows));
      row += n;
    }
    const part = await helper.finish();
    assert(part !== null && !helper.failed, "the helper failed");
    assertSameBits(part, expected.state(), "the worker's share");
    assertEquals(helper.share(10), 0, "a small batch stays on this thread");
  } finally {
    helper.stop();
  }
});

Deno.test("a helper whose rows are bad fails, and hands nothing back", async () => {
  const helper = Pass1Helper.start(3, 2);
  assert(helper !== null);
  try {
    const x = new Float32Array(200 * 2);
    const y = new Int32Array(200);
    y[5] = 3; // not a class of K = 3
    await helper.post(x, y, 100, 0);
    assertEquals(await helper.finish(), null);
    assert(helper.failed);
    assertEquals(helper.share(1000), 0, "a failed helper takes no more rows");
  } finally {
    helper.stop();
  }
});

// N·d = 4200 · 1000 ≥ 2^22: measureBatches starts the pass-1 helper.
const N = 4200, K = 10, D = 1000;
const data = syntheticFeatures(8, N, K, D, 2);
const measure = (features: Float32Array, labels: Int32Array, threads: number) =>
  measureBatches(arraySource(features, labels, D, 1000), D, data.weights, data.bias, { threads });

Deno.test("measureBatches with the pass-1 helper equals one thread to 1e-12", async () => {
  assert(N * D >= PARALLEL_PASS1_VALUES, "below the threshold the helper would not start");
  const one = await measure(data.features, data.labels, 1);
  const before = Pass1Helper.blocksSummed;
  const two = await measure(data.features, data.labels, 2);
  assertEquals(Pass1Helper.blocksSummed - before, 5, "the worker summed half of each of the 5 batches");
  const { nc5: _a, ...twoMetrics } = two;
  const { nc5: _b, ...oneMetrics } = one;
  assertClose(twoMetrics, oneMetrics, { rel: 1e-12, floor: 1e-300 }, "two threads");
});

Deno.test("a bad value or label in the helper's rows gets the one-thread message, with its row", async () => {
  // Row 1003 is in the second batch's first half, which goes to the worker.
  const badValue = data.features.slice();
  badValue[1003 * D + 7] = NaN;
  const badLabel = data.labels.slice();
  badLabel[1003] = K;
  for (
    const [features, labels, what] of [[badValue, data.labels, "NaN"], [data.features, badLabel, "label"]] as const
  ) {
    const message = await measure(features, labels, 1).then(() => "", (e: Error) => e.message);
    assert(message.includes("1003"), `the one-thread ${what} message names row 1003: ${message}`);
    await assertRejects(() => measure(features, labels, 2), UserError, message);
  }
});
