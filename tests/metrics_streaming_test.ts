/**
 * Streaming accumulation equals the one-shot measurement, whatever the
 * batching and order of pass 2, and float32 features give the float64 result.
 */
import { assert, assertClose } from "./_assert.ts";
import { NeuralCollapseAccumulator, neuralCollapseMetrics, syntheticFeatures } from "../src/metrics/mod.ts";
import { gemmNT } from "../src/metrics/_gemm.ts";
import { Rng } from "../src/rng.ts";

// Odd sizes exercise every tail of the blocked product (N, 2K and d not multiples of the block).
const N = 1001;
const K = 7;
const D = 33;
const data = syntheticFeatures(3, N, K, D, 1.5);

Deno.test("streaming in small batches equals one-shot", () => {
  const oneShot = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias);
  assert(oneShot.top1 > 0 && oneShot.top1 < 100, "the synthetic case is not trivial");
  assert(oneShot.nc4_ncc > 0, "some samples disagree with the nearest class centre");
  for (const [b1, b2] of [[1, 1], [5, 37], [64, 3], [1000, 1]]) {
    const acc = new NeuralCollapseAccumulator(K, D, data.weights, data.bias);
    for (let i = 0; i < N; i += b1) {
      const e = Math.min(N, i + b1);
      acc.addPass1(data.features.subarray(i * D, e * D), data.labels.subarray(i, e));
    }
    acc.startPass2();
    for (let i = 0; i < N; i += b2) {
      const e = Math.min(N, i + b2);
      acc.addPass2(data.features.subarray(i * D, e * D), data.labels.subarray(i, e));
    }
    assertClose(acc.result(), oneShot, { rel: 1e-12, floor: 1 }, `batches ${b1}/${b2}`);
  }
});

Deno.test("pass 2 may visit the samples in another order", () => {
  const oneShot = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias);
  const order = new Rng(9).permutation(N);
  const acc = new NeuralCollapseAccumulator(K, D, data.weights, data.bias);
  acc.addPass1(data.features, data.labels);
  acc.startPass2();
  for (const i of order) acc.addPass2(data.features.subarray(i * D, (i + 1) * D), data.labels.subarray(i, i + 1));
  assertClose(acc.result(), oneShot, { rel: 1e-12, floor: 1 }, "permuted pass 2");
});

Deno.test("float32 and float64 copies of the same features give the same metrics", () => {
  const f32 = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias);
  const f64 = neuralCollapseMetrics(
    Float64Array.from(data.features),
    Array.from(data.labels),
    Float64Array.from(data.weights),
    Float64Array.from(data.bias),
  );
  assertClose(f32, f64, { rel: 0, floor: 1 }, "float32 vs float64");
});

Deno.test("gemmNT equals the naive product on every tail shape", () => {
  const rng = new Rng(4);
  for (const [n, m, d] of [[1, 1, 1], [2, 4, 3], [3, 5, 7], [5, 9, 2], [4, 8, 16]]) {
    const a = Float64Array.from({ length: n * d }, () => rng.normal());
    const b = Float64Array.from({ length: m * d }, () => rng.normal());
    const c = new Float64Array(n * m).fill(NaN);
    gemmNT(a, b, c, n, m, d);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < m; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += a[i * d + j] * b[k * d + j];
        assert(Math.abs(c[i * m + k] - s) <= 1e-13 * (1 + Math.abs(s)), `[${n},${m},${d}] (${i},${k})`);
      }
    }
  }
});
