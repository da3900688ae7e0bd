/**
 * Pass 2 with its projections as float32 matrix products on a real tfjs
 * backend (`tfProjector`): the metrics match the float64 path and the NumPy
 * fixtures to float32 accuracy, the product is right on every chunk tail,
 * and no tensor is left behind, also when pass 2 fails. Runs on `cpu` and
 * `wasm`, and on `tensorflow` when the native backend loads.
 */
import { assert, assertClose, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { selectBackend, tf } from "../src/backend/mod.ts";
import { tfProjector } from "../src/backend/projector.ts";
import {
  arraySource,
  measureBatches,
  type NeuralCollapseMetrics,
  neuralCollapseMetrics,
  type ProjectorFactory,
  syntheticFeatures,
} from "../src/metrics/mod.ts";
import { exists, joinPath } from "../src/io.ts";
import { numericData } from "../src/arrays/npy.ts";
import { readArrayFile } from "../src/arrays/read_array_file.ts";
import { etfPlaneWithNoise } from "./_metrics_cases.ts";
import { ignore, native, why } from "./_native.ts";

const BACKENDS: ("cpu" | "wasm" | "tensorflow")[] = ["cpu", "wasm", ...(native.ok ? ["tensorflow" as const] : [])];

/** Metrics that pass 2's products feed (the others never see them). */
const PROJECTED: (keyof NeuralCollapseMetrics)[] = ["nc1", "nc4_ncc", "top1", "top5"];

// 4101 rows = 2 full chunks of 2048 and a tail of 5: the tail goes to the backend as a view of the buffer.
const N = 4101;
const K = 13;
const D = 37;
const data = syntheticFeatures(11, N, K, D, 2);
const exact = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias);

for (const backend of BACKENDS) {
  Deno.test(`${backend} projector: float32 products give the float64 metrics to 1e-6, others exactly`, async () => {
    await selectBackend(backend, { needsConvTraining: false });
    const before = tf.memory().numTensors;
    const got = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { projector: tfProjector });
    assertEquals(tf.memory().numTensors, before, "tensors leaked");
    assert(exact.top1 > 10 && exact.top1 < 90 && exact.nc4_ncc > 0, "the case is not trivial");
    for (const key of Object.keys(exact) as (keyof NeuralCollapseMetrics)[]) {
      if (key === "nc1" || key === "nc1_svd") assertClose(got[key], exact[key], { rel: 1e-6, floor: 1e-300 }, key);
      // A sample within float32 rounding of a tie may flip: allow one in N.
      else if (key === "nc4_ncc") assert(Math.abs(got[key] - exact[key]) <= 1 / N, key);
      else if (key === "top1" || key === "top5") assert(Math.abs(got[key] - exact[key]) <= 100 / N, key);
      else assertEquals(got[key], exact[key], `${key} does not depend on the products`);
    }
  });

  Deno.test(`${backend} projector: streaming batches of 1000 equal one call`, async () => {
    await selectBackend(backend, { needsConvTraining: false });
    const whole = neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, {
      projector: tfProjector,
    });
    const streamed = await measureBatches(
      arraySource(data.features, data.labels, D, 1000),
      D,
      data.weights,
      data.bias,
      {
        projector: tfProjector,
      },
    );
    for (const key of PROJECTED) assertClose(streamed[key], whole[key], { rel: 1e-6, floor: 1e-300 }, key);
  });
}

Deno.test("projector: K = 3 ETF in the plane with noise along x gives NC1 = 2s²/(3r²) on every backend", async () => {
  const r = 2;
  const s = 0.25;
  const { features, labels, w } = etfPlaneWithNoise(r, s);
  for (const backend of BACKENDS) {
    await selectBackend(backend, { needsConvTraining: false });
    const m = neuralCollapseMetrics(features, labels, w, null, { projector: tfProjector });
    assertClose(m.nc1, (2 * s * s) / (3 * r * r), { rel: 1e-6, floor: 1e-300 }, `${backend} nc1`);
    assertEquals(m.top1, 100, `${backend} top1`);
    assertEquals(m.nc4_ncc, 0, `${backend} nc4_ncc`);
  }
});

const FIXTURES = joinPath(new URL(".", import.meta.url).pathname, "fixtures", "metrics");

Deno.test("projector on the native backend (or wasm) matches every NumPy fixture to 1e-5", async () => {
  await selectBackend(native.ok ? "tensorflow" : "wasm", { needsConvTraining: false });
  for (const name of ["k5_d8", "k4_d2", "k2_d5", "k10_d20"]) {
    const dir = joinPath(FIXTURES, name);
    const read = async (file: string) => (await readArrayFile(joinPath(dir, file))).data as Float32Array;
    const biasPath = joinPath(dir, "bias.npy");
    const got = neuralCollapseMetrics(
      await read("features.npy"),
      numericData(await readArrayFile(joinPath(dir, "labels.npy")), "labels"),
      await read("weights.npy"),
      (await exists(biasPath)) ? await read("bias.npy") : null,
      { projector: tfProjector },
    );
    const expected = JSON.parse(await Deno.readTextFile(joinPath(dir, "expected.json"))) as NeuralCollapseMetrics;
    for (const key of Object.keys(expected) as (keyof NeuralCollapseMetrics)[]) {
      const tol = 1e-5 * Math.max(1, Math.abs(expected[key]));
      assertClose(got[key], expected[key], { abs: tol }, `${name}.${key}: ${got[key]} vs NumPy ${expected[key]}`);
    }
  }
});

Deno.test("the projector gets every centred row once, as float32 h_i − μ_{y_i}, and B = [M; W]", async () => {
  await selectBackend("cpu", { needsConvTraining: false });
  const calls: number[] = [];
  let firstRow: Float32Array | null = null;
  let stack: Float32Array | null = null;
  const counting: ProjectorFactory = (b, m, d) => {
    stack = b.slice();
    assertEquals([m, d], [2 * K, D]);
    const inner = tfProjector(b, m, d);
    return {
      project: (rows, n) => {
        firstRow ??= rows.slice(0, d);
        calls.push(n);
        return inner.project(rows, n);
      },
      dispose: () => inner.dispose(),
    };
  };
  neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { projector: counting });
  assertEquals(calls, [2048, 2048, 5]);
  // Class means, global mean and the expected first centred row, in float64.
  const y0 = data.labels[0];
  const mu = new Float64Array(K * D);
  const counts = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    counts[data.labels[i]]++;
    for (let j = 0; j < D; j++) mu[data.labels[i] * D + j] += data.features[i * D + j];
  }
  const muG = new Float64Array(D);
  for (let c = 0; c < K; c++) {
    for (let j = 0; j < D; j++) {
      muG[j] += mu[c * D + j] / N;
      mu[c * D + j] /= counts[c];
    }
  }
  for (let j = 0; j < D; j++) {
    assertClose(firstRow![j], data.features[j] - mu[y0 * D + j], { rel: 1e-6, floor: 1e-300 }, `e_0[${j}]`);
    assertClose(stack![j], mu[j] - muG[j], { rel: 1e-6, floor: 1e-300 }, `M[0, ${j}]`);
    assertEquals(stack![K * D + j], Math.fround(data.weights[j]), `W[0, ${j}]`);
  }
});

Deno.test("a projector that returns the wrong shape fails pass 2 and its tensors are freed", async () => {
  await selectBackend("cpu", { needsConvTraining: false });
  const before = tf.memory().numTensors;
  const broken: ProjectorFactory = (b, m, d) => {
    const inner = tfProjector(b, m, d);
    return { project: (rows, n) => inner.project(rows, n).subarray(1), dispose: () => inner.dispose() };
  };
  assertThrows(
    () => neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias, { projector: broken }),
    Error,
    "values for 2048 rows × 26, expected 53248",
  );
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("tfProjector checks its inputs and refuses use after dispose", async () => {
  await selectBackend("cpu", { needsConvTraining: false });
  assertThrows(() => tfProjector(new Float32Array(5), 2, 3), Error, "B has 5 values, expected 2 × 3");
  // B = [[1, 2, 3], [4, 5, 6]]: rows [1, 0, 1] and [0, 1, 0] give [4, 10] and [2, 5].
  const p = tfProjector(new Float32Array([1, 2, 3, 4, 5, 6]), 2, 3);
  assertEquals(Array.from(p.project(new Float32Array([1, 0, 1, 0, 1, 0]), 2)), [4, 10, 2, 5]);
  assertThrows(() => p.project(new Float32Array(4), 2), Error, "4 values are not 2 rows of 3");
  p.dispose();
  assertThrows(() => p.project(new Float32Array(3), 1), Error, "after dispose");
});

Deno.test({
  name:
    `native projector: the pipelined pass 2 (products on another thread) gives the bits of the synchronous one${why}`,
  ignore,
  fn: async () => {
    await selectBackend("tensorflow", { needsConvTraining: false });
    let asyncCalls = 0;
    const counting: ProjectorFactory = (b, m, d) => {
      const inner = tfProjector(b, m, d);
      assert(inner.projectWithScatterAsync, "the native projector has no asynchronous products");
      return {
        ...inner,
        projectWithScatterAsync: (rows, n, k) => (asyncCalls++, inner.projectWithScatterAsync!(rows, n, k)),
      };
    };
    const synchronous: ProjectorFactory = (b, m, d) => {
      const { projectWithScatterAsync: _, ...inner } = tfProjector(b, m, d);
      return inner;
    };
    const measure = (projector: ProjectorFactory) =>
      measureBatches(arraySource(data.features, data.labels, D, 1000), D, data.weights, data.bias, {
        projector,
        threads: 1,
      });
    const pipelined = await measure(counting);
    // 5 batches (1000 rows; the last 101) of one block each.
    assertEquals(asyncCalls, 5, "the products did not run asynchronously");
    assertEquals(pipelined, await measure(synchronous));
    // The same two MatMul kernels as the eager products: the same product and scatter.
    const p = tfProjector(Float32Array.from(data.weights), K, D);
    const rows = data.features.subarray(0, 300 * D);
    const eager = p.projectWithScatter!(rows, 300, 5);
    const graph = await p.projectWithScatterAsync!(rows, 300, 5);
    assertEquals(graph.product, eager.product);
    assertEquals(graph.scatter, eager.scatter);
    p.dispose();
    await assertRejects(() => p.projectWithScatterAsync!(rows, 300, 5), Error, /after dispose/);
  },
});

Deno.test("a pipelined product that fails ends pass 2 with its error, and the projector is still freed", async () => {
  await selectBackend("cpu", { needsConvTraining: false });
  let disposed = 0;
  let calls = 0;
  const failing: ProjectorFactory = (b, m, d) => {
    const inner = tfProjector(b, m, d);
    return {
      project: inner.project,
      projectWithScatter: inner.projectWithScatter,
      projectWithScatterAsync: (rows, n, k) => {
        const result = inner.projectWithScatter!(rows, n, k);
        return ++calls === 3 ? Promise.reject(new Error("product failed")) : Promise.resolve(result);
      },
      dispose: () => (disposed++, inner.dispose()),
    };
  };
  await assertRejects(
    () =>
      measureBatches(arraySource(data.features, data.labels, D, 1000), D, data.weights, data.bias, {
        projector: failing,
        threads: 1,
      }),
    Error,
    /product failed/,
  );
  assertEquals(disposed, 1, "the projector was not freed");
});
