/**
 * Training-mode batch norm of NHWC maps through TensorFlow's fused kernels
 * (`src/backend/native_kernels.ts`): values, batch statistics and all three
 * gradients against the closed form in float64; the running statistics a
 * `ParamStore` keeps from it, against the closed form and against the
 * portable path. Ignored, with the reason, without the native backend.
 */
import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import { tf } from "../src/backend/mod.ts";
import {
  hasNativeKernels,
  nativeMatMul,
  nativeReluGrad,
  nativeTrainingBatchNorm,
} from "../src/backend/native_kernels.ts";
import { BN_EPSILON, ParamStore } from "../src/models/_layers.ts";
import { Rng } from "../src/rng.ts";
import { ignore, onBackend, why } from "./_native.ts";

/** Seeded values in [-3, 5): channels of different means and spreads. */
function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 8 * rng.uniform() - 3);
}

/** Batch norm of `x` (`rows × c`, channel fastest) and the gradients of Σ w·y, in float64. */
function closedForm(x: Float32Array, c: number, gamma: number[], beta: number[], w: Float32Array) {
  const rows = x.length / c;
  const mean = new Float64Array(c), biased = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i] / rows;
  for (let i = 0; i < x.length; i++) biased[i % c] += (x[i] - mean[i % c]) ** 2 / rows;
  const invStd = Array.from(biased, (v) => 1 / Math.sqrt(v + BN_EPSILON));
  const xHat = Float64Array.from(x, (v, i) => (v - mean[i % c]) * invStd[i % c]);
  const y = Float64Array.from(xHat, (v, i) => gamma[i % c] * v + beta[i % c]);
  const dBeta = new Float64Array(c), dGamma = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    dBeta[i % c] += w[i];
    dGamma[i % c] += w[i] * xHat[i];
  }
  const dx = Float64Array.from(
    x,
    (_, i) => gamma[i % c] * invStd[i % c] * (w[i] - dBeta[i % c] / rows - xHat[i] * dGamma[i % c] / rows),
  );
  const unbiased = Array.from(biased, (v) => v * rows / (rows - 1));
  return { y, mean: Array.from(mean), unbiased, dx, dGamma: Array.from(dGamma), dBeta: Array.from(dBeta) };
}

Deno.test({
  name: `the fused kernels normalise NHWC maps and give the closed-form gradients and statistics${why}`,
  ignore,
  fn: () =>
    onBackend("tensorflow", () => {
      const shape: [number, number, number, number] = [5, 4, 3, 6];
      const n = shape.reduce((a, b) => a * b, 1);
      const xs = values(n, 1), ws = values(n, 2);
      const gamma = [1, 2, 0.5, -1, 3, 0.25], beta = [0, 1, -1, 2, 0.5, -0.5];
      const expected = closedForm(xs, 6, gamma, beta, ws);
      tf.tidy(() => {
        const x = tf.tensor4d(xs, shape), g = tf.tensor1d(gamma), b = tf.tensor1d(beta), w = tf.tensor4d(ws, shape);
        const { y, mean, unbiasedVariance } = nativeTrainingBatchNorm(x, g, b, BN_EPSILON);
        assertClose(y.dataSync(), expected.y, { abs: 1e-5, rel: 1e-5 }, "y");
        assertClose(mean.dataSync(), expected.mean, { abs: 1e-6, rel: 1e-6 }, "batch mean");
        assertClose(
          unbiasedVariance.dataSync(),
          expected.unbiased,
          { abs: 1e-5, rel: 1e-5 },
          "unbiased batch variance",
        );
        const loss = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(
            tf.mul(nativeTrainingBatchNorm(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, BN_EPSILON).y, w),
          );
        const [dx, dGamma, dBeta] = tf.grads(loss)([x, g, b]);
        assertClose(dx.dataSync(), expected.dx, { abs: 1e-5, rel: 1e-5 }, "∂/∂x");
        assertClose(dGamma.dataSync(), expected.dGamma, { abs: 1e-5, rel: 1e-5 }, "∂/∂γ");
        assertClose(dBeta.dataSync(), expected.dBeta, { abs: 1e-5, rel: 1e-5 }, "∂/∂β");
      });
    }),
});

Deno.test("the fused kernels refuse to run on a portable backend", async () => {
  await tf.setBackend("cpu");
  assert(!hasNativeKernels());
  tf.tidy(() => {
    const x = tf.zeros([2, 1, 1, 1]) as tf.Tensor4D;
    assertThrows(() => nativeTrainingBatchNorm(x, tf.ones([1]), tf.zeros([1]), 1e-5), Error, "native");
  });
});

/** A store with one NHWC and one vector batch norm over the same count (40 values a channel). */
async function runningStats(backend: "tensorflow" | "cpu") {
  return await onBackend(backend, async () => {
    const store = new ParamStore(new Rng(3));
    const maps = store.batchNorm("maps", 3), vectors = store.batchNorm("vectors", 3);
    const mapValues = values(10 * 2 * 2 * 3, 4), vectorValues = values(40 * 3, 5);
    tf.tidy(() => {
      store.applyBatchNorm(tf.tensor4d(mapValues, [10, 2, 2, 3]), maps, true);
      store.applyBatchNorm(tf.tensor2d(vectorValues, [40, 3]), vectors, true);
    });
    store.applyBatchNormUpdates();
    const read = async (v: tf.Variable) => Array.from(await v.data());
    const out = {
      maps: { mean: await read(maps.runningMean), variance: await read(maps.runningVar) },
      vectors: { mean: await read(vectors.runningMean), variance: await read(vectors.runningVar) },
      expected: [
        closedForm(mapValues, 3, [1, 1, 1], [0, 0, 0], mapValues),
        closedForm(vectorValues, 3, [1, 1, 1], [0, 0, 0], vectorValues),
      ],
    };
    tf.dispose([...store.trainable, ...store.buffers].map((v) => v.variable));
    return out;
  });
}

Deno.test({
  name: `running statistics from the fused kernels move like PyTorch's and match the portable path${why}`,
  ignore,
  fn: async () => {
    const ours = await runningStats("tensorflow");
    const portable = await runningStats("cpu");
    for (const [k, layer] of (["maps", "vectors"] as const).entries()) {
      const e = ours.expected[k];
      assertClose(ours[layer].mean, e.mean.map((m) => 0.1 * m), { abs: 1e-6, rel: 1e-6 }, `${layer}: running mean`);
      assertClose(
        ours[layer].variance,
        e.unbiased.map((v) => 0.9 + 0.1 * v),
        { abs: 1e-6, rel: 1e-6 },
        `${layer}: running variance`,
      );
      assertClose(
        ours[layer].mean,
        portable[layer].mean,
        { abs: 1e-6, rel: 1e-6 },
        `${layer}: running mean against the portable path`,
      );
      assertClose(
        ours[layer].variance,
        portable[layer].variance,
        { abs: 1e-6, rel: 1e-6 },
        `${layer}: variance against portable`,
      );
    }
  },
});

Deno.test({
  name: `ReluGrad gives dy·sign(y) to the bit, zeros' signs included${why}`,
  ignore,
  fn: () =>
    onBackend("tensorflow", () => {
      const n = 2 * 3 * 3 * 4;
      const xs = values(n, 6).map((v, i) => i % 7 === 0 ? 0 : v); // exact zeros too
      const dys = values(n, 7).map((v, i) => i % 5 === 0 ? -0 : v);
      tf.tidy(() => {
        const y = tf.relu(tf.tensor4d(xs, [2, 3, 3, 4]));
        const dy = tf.tensor4d(dys, [2, 3, 3, 4]);
        const fused = nativeReluGrad(dy, y).dataSync();
        const ops = tf.mul(dy, tf.sign(y)).dataSync();
        for (let i = 0; i < n; i++) assert(Object.is(fused[i], ops[i]), `element ${i}: ${fused[i]} against ${ops[i]}`);
        assert(fused.some((v, i) => v === 0 && xs[i] > 0), "some passed gradient is an exact zero");
        assert(fused.some((v) => v !== 0), "some gradient passes");
      });
    }),
});

/** ∂/∂x of Σ dy·conv2d(x, w, stride 2, pad 1) for seeded x [2, 8, 8, 3], w [3, 3, 3, 4], dy [2, 4, 4, 4]. */
function strideTwoInputGradient(): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 8), [2, 8, 8, 3]);
    const w = tf.tensor4d(values(3 * 3 * 3 * 4, 9), [3, 3, 3, 4]);
    const dy = tf.tensor4d(values(2 * 4 * 4 * 4, 10), [2, 4, 4, 4]);
    return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w, 2, 1), dy)))(x)
      .dataSync() as Float32Array;
  });
}

Deno.test({
  name: `a stride-2 convolution's input gradient runs as SAME on reversed maps, and agrees with the portable one${why}`,
  ignore,
  fn: async () => {
    const ops: string[] = [];
    const native = await onBackend("tensorflow", () => {
      const backend = tf.backend() as unknown as { binding: { executeOp: (...a: unknown[]) => unknown } };
      const binding = backend.binding;
      backend.binding = Object.create(binding, {
        executeOp: {
          value: (op: string, attrs: { name: string; value: unknown }[], ...rest: unknown[]) => {
            const padding = attrs.find((a) => a.name === "padding")?.value;
            ops.push(padding === undefined ? op : `${op} ${padding}`);
            return binding.executeOp(op, attrs, ...rest);
          },
        },
      });
      try {
        return strideTwoInputGradient();
      } finally {
        backend.binding = binding;
      }
    });
    assert(ops.includes("Conv2DBackpropInput SAME"), `ops: ${ops.join(", ")}`);
    assert(!ops.includes("Conv2DBackpropInput EXPLICIT"), `ops: ${ops.join(", ")}`);
    assertEquals(ops.filter((o) => o === "ReverseV2").length, 3, `ops: ${ops.join(", ")}`);
    const portable = await onBackend("cpu", strideTwoInputGradient);
    assertClose(native, portable, { abs: 1e-5, rel: 1e-5 }, "∂/∂x");
  },
});

Deno.test({
  name: `MatMul gives A·B with either operand transposed, against float64 products${why}`,
  ignore,
  fn: () =>
    onBackend("tensorflow", () => {
      const [n, d, m] = [5, 7, 3];
      const a = values(n * d, 11), b = values(d * m, 12);
      const expected = new Float64Array(n * m);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) for (let t = 0; t < d; t++) expected[i * m + j] += a[i * d + t] * b[t * m + j];
      }
      tf.tidy(() => {
        const A = tf.tensor2d(a, [n, d]), B = tf.tensor2d(b, [d, m]);
        assertClose(nativeMatMul(A, B).dataSync(), expected, { abs: 1e-6, rel: 1e-6 }, "A·B");
        assertClose(nativeMatMul(tf.transpose(A), B, true).dataSync(), expected, { abs: 1e-6, rel: 1e-6 }, "(Aᵀ)ᵀ·B");
        assertClose(
          nativeMatMul(A, tf.transpose(B), false, true).dataSync(),
          expected,
          { abs: 1e-6, rel: 1e-6 },
          "A·(Bᵀ)ᵀ",
        );
        assertEquals(nativeMatMul(A, B).shape, [n, m]);
      });
    }),
});
