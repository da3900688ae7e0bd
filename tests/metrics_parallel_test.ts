/**
 * Pass 2 split over worker threads gives the one-thread result (up to the
 * order of float64 sums), falls back to this thread when a worker does not
 * answer, and reports bad inputs in any block as the same one-line UserError.
 */
import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import {
  NeuralCollapseAccumulator,
  type NeuralCollapseMetrics,
  neuralCollapseMetrics,
  syntheticFeatures,
} from "../src/metrics/mod.ts";
import { addPass2Parallel, type Pass2Helper, startHelpers, stopHelpers } from "../src/metrics/_parallel_pass2.ts";
import { UserError } from "../src/errors.ts";

/** Pass 2 split over threads sums in another order: the same metrics to `rel`, relative even near zero. */
function assertSameMetrics(a: NeuralCollapseMetrics, b: NeuralCollapseMetrics, rel: number, what: string): void {
  assertClose(a, b, { rel, floor: 1e-300 }, what);
}

// N·d·K = 6101 · 231 · 97 ≈ 1.4e8 is above the parallel threshold (2^27); odd sizes exercise every block tail.
const N = 6101;
const K = 97;
const D = 231;
const data = syntheticFeatures(5, N, K, D, 3);
const single = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { threads: 1 });

/** The accumulator after pass 1 and startPass2(), as neuralCollapseMetrics leaves it. */
function afterPass1(features: Float32Array | Float64Array = data.features): NeuralCollapseAccumulator {
  const acc = new NeuralCollapseAccumulator(K, D, data.weights, data.bias);
  acc.addPass1(features, data.labels);
  acc.startPass2();
  return acc;
}

Deno.test("two and three threads equal one thread to 1e-12", () => {
  assert(single.top1 > 0 && single.top1 < 100, "the synthetic case is not trivial");
  const two = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias);
  const three = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { threads: 3 });
  assertSameMetrics(two, single, 1e-12, "2");
  assertSameMetrics(three, single, 1e-12, "3 threads");
  // The workers did take part: their blocks are summed in another order, which moves the last bits of some sum
  // (for this seeded case). With zero workers the results would equal the one-thread run bit for bit.
  const differs = (m: NeuralCollapseMetrics) =>
    Object.keys(single).some((k) => m[k as keyof NeuralCollapseMetrics] !== single[k as keyof NeuralCollapseMetrics]);
  assert(
    differs(two) && differs(three),
    "the multi-threaded results equal the one-thread run bit for bit: no worker ran",
  );
  const f64 = Float64Array.from(data.features);
  const f64Single = neuralCollapseMetrics(f64, data.labels, data.weights, null, { threads: 1 });
  assertSameMetrics(
    neuralCollapseMetrics(f64, Array.from(data.labels), data.weights, null),
    f64Single,
    1e-12,
    "float64, plain-array labels",
  );
});

Deno.test("the workers do take their blocks, also from shared memory", () => {
  const shared = new Float32Array(new SharedArrayBuffer(data.features.byteLength));
  shared.set(data.features);
  for (const features of [data.features, shared]) {
    const acc = afterPass1(features);
    const helpers = startHelpers(2);
    assertEquals(helpers.length, 2, "workers start under --allow-read");
    try {
      assertEquals(addPass2Parallel(acc, features, data.labels, helpers), 2);
    } finally {
      stopHelpers(helpers);
    }
    assertSameMetrics(acc.result(), single, 1e-12, features === shared ? "shared" : "copied");
  }
});

Deno.test("a worker that never answers leaves its block to this thread", () => {
  // A module worker that ignores every message: the caller times out and runs the block itself.
  const silent = new Worker("data:application/javascript,", { type: "module" });
  const helpers: Pass2Helper[] = [{ worker: silent }];
  const acc = afterPass1();
  try {
    assertEquals(addPass2Parallel(acc, data.features, data.labels, helpers), 0);
  } finally {
    stopHelpers(helpers);
  }
  assertSameMetrics(acc.result(), single, 1e-12, "fallback");
});

Deno.test("pass-2 state round trip: a half in another accumulator merges to the whole", () => {
  const acc = afterPass1();
  const state = acc.pass2State();
  assertEquals(state.numClasses, K);
  assertEquals(state.dim, D);
  const part = NeuralCollapseAccumulator.fromPass2State(structuredClone(state));
  assertEquals(part.pass2State(), state);
  const half = 3000;
  part.addPass2(data.features.subarray(0, half * D), data.labels.subarray(0, half));
  acc.addPass2(data.features.subarray(half * D), data.labels.subarray(half));
  const sums = part.pass2Sums();
  assertEquals(sums.n, half);
  acc.mergePass2(structuredClone(sums));
  assertSameMetrics(acc.result(), single, 1e-12, "merged");
  assertThrows(() => part.result(), Error, /only holds pass-2 sums/);
  assertThrows(
    () => NeuralCollapseAccumulator.fromPass2State({ ...state, stack: state.stack.subarray(1) }),
    Error,
    /does not match/,
  );
});

Deno.test("bad inputs in the second half still give the one-line UserError", () => {
  const labels = Int32Array.from(data.labels);
  labels[N - 2] = K;
  assertThrows(
    () => neuralCollapseMetrics(data.features, labels, data.weights, data.bias),
    UserError,
    `label ${K} at index ${N - 2} is not a class`,
  );
  const features = Float32Array.from(data.features);
  features[(N - 3) * D + 7] = NaN;
  assertThrows(
    () => neuralCollapseMetrics(features, data.labels, data.weights, data.bias),
    UserError,
    `features: non-finite value NaN at row ${N - 3}, column 7`,
  );
  assertThrows(
    () => neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { threads: 0 }),
    UserError,
    "threads must be a positive integer",
  );
});

Deno.test({
  name: "without read access to the worker module, one thread does all of pass 2",
  permissions: { read: false },
  fn() {
    assertEquals(startHelpers(1).length, 0);
    assertSameMetrics(neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias), single, 1e-12, "");
  },
});
