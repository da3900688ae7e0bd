/**
 * The metrics beyond the reference's (nc1_trace, nc1_svd, nc2_means,
 * self_duality, uniformity_log, nc5) at their closed-form values and on
 * degenerate input, and the streaming measurement over batches equal to the
 * one-shot one (float64 on one and two threads). NumPy agreement is in
 * metrics_fixtures_test.ts.
 */
import { assert, assertClose, assertEquals, assertNotEquals, assertThrows } from "./_assert.ts";
import {
  arraySource,
  type LabelledBatch,
  measureBatches,
  NeuralCollapseAccumulator,
  neuralCollapseMetrics,
  type ProjectorFactory,
} from "../src/metrics/mod.ts";
import { joinPath } from "../src/io.ts";
import { numericData } from "../src/arrays/npy.ts";
import { readArrayFile } from "../src/arrays/read_array_file.ts";
import { productNT } from "./_matrix.ts";

/** K class means forming a simplex ETF in d = K dimensions: e_k − 1/K. */
function simplexMeans(k: number): Float64Array {
  const m = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let j = 0; j < k; j++) m[a * k + j] = (a === j ? 1 : 0) - 1 / k;
  return m;
}

Deno.test("extended metrics at an exactly collapsed, self-dual simplex ETF", () => {
  const k = 5;
  const means = simplexMeans(k);
  const labels = Array.from({ length: 4 * k }, (_, i) => i % k);
  const features = new Float64Array(labels.length * k);
  labels.forEach((y, i) => features.set(means.subarray(y * k, (y + 1) * k), i * k));
  const m = neuralCollapseMetrics(features, labels, means, null);
  assertEquals(m.nc1_trace, 0);
  assertEquals(m.nc1_svd, 0);
  assert(m.nc2_means < 1e-12, `${m.nc2_means}`);
  assert(m.self_duality < 1e-12, `${m.self_duality}`);
  assert(Math.abs(m.uniformity_log - -0.5 * Math.log((2 * k) / (k - 1))) < 1e-12, `${m.uniformity_log}`);
});

Deno.test("extended metrics: trace quotient and SVD form against hand values; noise raises both", () => {
  // K = 2, d = 1: means ±1, each sample ±1 ± 0.5, so tr(Σ_W) = 0.25, tr(Σ_B) = 1.
  const features = new Float64Array([1.5, 0.5, -1.5, -0.5]);
  const m = neuralCollapseMetrics(features, [0, 0, 1, 1], new Float64Array([1, -1]), null);
  assert(Math.abs(m.nc1_trace - 0.25) < 1e-15);
  // One non-zero eigenvalue, so every form of NC1 agrees: tr(Σ_W Σ_B^†)/K = 0.25/1/2.
  assert(Math.abs(m.nc1 - 0.125) < 1e-15 && Math.abs(m.nc1_svd - 0.125) < 1e-15);
  // Antipodal unit means: ‖u_0 − u_1‖ = 2.
  assert(Math.abs(m.uniformity_log + Math.log(2)) < 1e-15);
});

Deno.test("extended metrics on identical features (Σ_B = 0) are defined, not NaN", () => {
  const features = new Float64Array(12).fill(0.5);
  const m = neuralCollapseMetrics(features, [0, 1, 2, 0, 1, 2], new Float64Array([1, 0, 0, 1, -1, -1]), null);
  assertEquals(m.nc1_trace, 0);
  assertEquals(m.nc1_svd, 0);
  assert(Math.abs(m.nc2_means - 1) < 1e-15); // the zero Gram normalises to 0, at distance 1 from the ETF
  assert(Math.abs(m.self_duality - 1) < 1e-15); // W̃/‖W̃‖ has norm 1, M̃ normalises to 0
  assertEquals(m.uniformity_log, 0);
});

Deno.test("uniformity_log stays finite when two class means point the same way", () => {
  // μ_G = 0: classes 0 and 1 both along +x (lengths 1 and 2), class 2 balances them.
  const features = new Float64Array([1, 0, 2, 0, -3, 0]);
  const m = neuralCollapseMetrics(features, [0, 1, 2], new Float64Array([1, 0, 0, 1, 1, 1]), null);
  // Pairs (0, 2) and (1, 2) are antipodal (−log 2 each); (0, 1) coincide and count as distance √ε.
  assert(Math.abs(m.uniformity_log - (26 * Math.LN2 - 2 * Math.LN2) / 3) < 1e-12, `${m.uniformity_log}`);
});

Deno.test("nc5: 0 for an out-of-distribution mean orthogonal to the class means, |cos| averaged otherwise", async () => {
  // K = 2 in d = 2: class means ±e_1 (μ_G = 0).
  const features = new Float64Array([1, 0, -1, 0]);
  const run = (ood: number[]) =>
    measureBatches(arraySource(features, [0, 1], 2, 2), 2, new Float64Array([1, 0, -1, 0]), null, {
      threads: 1,
      outOfDistribution: {
        count: ood.length / 2,
        async *batches() {
          yield new Float64Array(ood);
        },
      },
    });
  assertEquals((await run([0, 3, 0, 1])).nc5, 0);
  assert(Math.abs((await run([1, 1, 1, 1])).nc5! - Math.SQRT1_2) < 1e-15);
  assert(!("nc5" in neuralCollapseMetrics(features, [0, 1], new Float64Array([1, 0, -1, 0]), null)));
  const acc = new NeuralCollapseAccumulator(2, 2, new Float64Array([1, 0, -1, 0]), null);
  assertThrows(
    () => acc.addOutOfDistribution(new Float64Array([1, NaN])),
    Error,
    /out-of-distribution features: non-finite/,
  );
});

Deno.test("measureBatches over batches of 7 equals the one-shot measurement, on 1 and 2 threads", async () => {
  const dir = joinPath(new URL(".", import.meta.url).pathname, "fixtures", "metrics", "k10_d20");
  const h = (await readArrayFile(joinPath(dir, "features.npy"))).data as Float32Array;
  const y = numericData(await readArrayFile(joinPath(dir, "labels.npy")), "labels");
  const w = (await readArrayFile(joinPath(dir, "weights.npy"))).data as Float32Array;
  const b = (await readArrayFile(joinPath(dir, "bias.npy"))).data as Float32Array;
  const d = 20;
  const n = y.length;
  let passes = 0;
  const source = {
    count: n,
    async *batches(): AsyncIterable<LabelledBatch> {
      passes++;
      for (let s = 0; s < n; s += 7) {
        await Promise.resolve();
        const e = Math.min(n, s + 7);
        yield { features: h.subarray(s * d, e * d), labels: Array.from(y).slice(s, e) };
      }
    },
  };
  const want = neuralCollapseMetrics(h, y, w, b, { threads: 1 });
  for (const threads of [1, 2]) {
    passes = 0;
    const seen: string[] = [];
    const got = await measureBatches(source, d, w, b, {
      threads,
      onProgress: (pass, done, total) => {
        if (done === total) seen.push(pass);
      },
    });
    assertEquals(passes, 2);
    assertEquals(seen, ["pass 1", "pass 2"]);
    for (const key of Object.keys(want) as (keyof typeof want)[]) {
      const tol = 1e-12 * Math.max(1, Math.abs(want[key]));
      assertClose(got[key]!, want[key], { abs: tol }, `threads ${threads}, ${key}: ${got[key]} vs ${want[key]}`);
    }
  }
});

Deno.test("a projector's scatter (ZᵀZ as one product) gives the same metrics as S summed row by row", () => {
  const dir = joinPath(new URL(".", import.meta.url).pathname, "fixtures", "metrics", "k10_d20");
  const load = (name: string) => Deno.readFile(joinPath(dir, name));
  return (async () => {
    const { readNpy } = await import("../src/arrays/npy.ts");
    const h = readNpy(await load("features.npy"), "h").data as Float32Array;
    const y = numericData(readNpy(await load("labels.npy"), "y"), "y");
    const w = readNpy(await load("weights.npy"), "w").data as Float32Array;
    /** A float32 projector in plain JavaScript; `scatter` adds projectWithScatter. */
    const make = (scatter: boolean): ProjectorFactory => (b, m, d) => {
      const project = (rows: Float32Array, n: number) => Float32Array.from(productNT(rows, b, n, m, d));
      return {
        project,
        ...(scatter
          ? {
            projectWithScatter(rows: Float32Array, n: number, k: number) {
              const product = project(rows, n);
              const g = new Float32Array(k * k);
              for (let i = 0; i < n; i++) {
                for (let a = 0; a < k; a++) {
                  for (let c = 0; c < k; c++) {
                    g[a * k + c] += product[i * m + a] * product[i * m + c];
                  }
                }
              }
              return { product, scatter: g };
            },
          }
          : {}),
        dispose() {},
      };
    };
    const rowByRow = neuralCollapseMetrics(h, y, w, null, { projector: make(false) });
    const asProduct = neuralCollapseMetrics(h, y, w, null, { projector: make(true) });
    const exact = neuralCollapseMetrics(h, y, w, null);
    for (const key of Object.keys(exact) as (keyof typeof exact)[]) {
      const tol = 1e-6 * Math.max(1, Math.abs(exact[key]));
      assertClose(asProduct[key], rowByRow[key], { abs: tol }, `${key}: ${asProduct[key]} vs ${rowByRow[key]}`);
      assertClose(asProduct[key], exact[key], { abs: tol }, `${key}: ${asProduct[key]} vs exact ${exact[key]}`);
    }
    assertNotEquals(asProduct.nc1, rowByRow.nc1, "the scatter path was not taken");
  })();
});
