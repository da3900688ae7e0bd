/**
 * The native `tensorflow` backend computes the layer kernels our models use
 * to within 1e-5 (relative to each output's scale) of the reference `cpu`
 * backend, on fixed seeded inputs: conv2d forward and both gradients (with
 * 'same', 'valid', numeric and explicit padding), batch
 * norm moments and normalisation with gradients, matMul (all transpose
 * combinations), relu and its gradient, avgPool, softmax and logSoftmax with
 * gradient, topk. Ignored, with the reason in the test name, when the native
 * backend does not load (run `deno task setup`).
 */
import { assert, assertEquals } from "./_assert.ts";
import { tf } from "../src/backend/mod.ts";
import { relativeError } from "../src/backend/relative_error.ts";
import { Rng } from "../src/rng.ts";
import { ignore, why } from "./_native.ts";

const TOLERANCE = 1e-5;

interface Input {
  shape: number[];
  data: Float32Array;
}

function normalInput(rng: Rng, shape: number[], scale = 1): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, () => rng.normal() * scale) };
}

/** Runs `f` on `backend` with fresh tensors; returns each output's shape and values. */
async function runOn(
  backend: string,
  inputs: Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<{ shape: number[]; data: Float32Array }[]> {
  assert(await tf.setBackend(backend));
  const before = tf.memory().numTensors;
  const outs = tf.tidy(() => f(...inputs.map((x) => tf.tensor(x.data, x.shape))));
  const result = [];
  for (const o of outs) result.push({ shape: o.shape, data: Float32Array.from(await o.data() as Float32Array) });
  tf.dispose(outs);
  assertEquals(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return result;
}

function agreement(name: string, inputs: (rng: Rng) => Input[], f: (...xs: tf.Tensor[]) => tf.Tensor[]): void {
  Deno.test({
    name: `native agrees with cpu: ${name}${why}`,
    ignore,
    fn: async () => {
      const xs = inputs(new Rng(20221128));
      const reference = await runOn("cpu", xs, f);
      const got = await runOn("tensorflow", xs, f);
      assertEquals(got.length, reference.length);
      for (let k = 0; k < got.length; k++) {
        assertEquals(got[k].shape, reference[k].shape, `output ${k} shape`);
        assert(reference[k].data.some((v) => v !== 0), `output ${k} is all zeros: the comparison would be vacuous`);
        const err = relativeError(got[k].data, reference[k].data);
        assert(err <= TOLERANCE, `output ${k}: relative error ${err.toExponential(2)} > ${TOLERANCE}`);
      }
    },
  });
}

type ConvPad = "same" | "valid" | number | [[number, number], [number, number], [number, number], [number, number]];
const conv = (stride: number, pad: ConvPad) => (x: tf.Tensor, w: tf.Tensor): tf.Tensor[] => {
  const fwd = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
  // A non-uniform upstream gradient (the square) exercises every position of both backward kernels.
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(fwd(a, b))))([x, w]);
  return [fwd(x, w), gx, gw];
};

/** The conv2d cases: what each covers, input [N, H, W, C], filter [kh, kw, C, C'] and its scale, stride, padding. */
const CONV_CASES: { what: string; x: number[]; w: number[]; scale: number; stride: number; pad: ConvPad }[] = [
  { what: "3x3 stride 1 same", x: [4, 8, 8, 16], w: [3, 3, 16, 8], scale: 0.1, stride: 1, pad: "same" },
  { what: "3x3 stride 2 same", x: [4, 9, 9, 8], w: [3, 3, 8, 12], scale: 0.1, stride: 2, pad: "same" },
  { what: "1x1 stride 2 valid (shortcut)", x: [4, 8, 8, 8], w: [1, 1, 8, 16], scale: 0.3, stride: 2, pad: "valid" },
  // Our models pad like PyTorch (a number); tfjs-node needs src/backend/_native_padding.ts for that.
  {
    what: "3x3 stride 2 pad 1 (numeric, PyTorch-style)",
    x: [4, 8, 8, 8],
    w: [3, 3, 8, 12],
    scale: 0.1,
    stride: 2,
    pad: 1,
  },
  { what: "3x3 stride 1 pad 1 (numeric)", x: [2, 7, 7, 4], w: [3, 3, 4, 6], scale: 0.1, stride: 1, pad: 1 },
  // Strided numeric pads whose input gradient runs as SAME on reversed maps: both axes above, one axis, 5x5.
  {
    what: "3x3 stride 2 pad 1, 8 x 7 (reversed in height only)",
    x: [2, 8, 7, 4],
    w: [3, 3, 4, 6],
    scale: 0.1,
    stride: 2,
    pad: 1,
  },
  { what: "5x5 stride 2 pad 2 (reversed)", x: [2, 8, 8, 4], w: [5, 5, 4, 6], scale: 0.1, stride: 2, pad: 2 },
  // Numeric pads that 'same' equals run as SAME (TensorFlow's fast gradients); others stay EXPLICIT.
  { what: "1x1 stride 2 pad 0 (numeric shortcut)", x: [4, 8, 8, 8], w: [1, 1, 8, 16], scale: 0.3, stride: 2, pad: 0 },
  { what: "5x5 stride 1 pad 1 (numeric, not 'same')", x: [2, 9, 9, 4], w: [5, 5, 4, 6], scale: 0.1, stride: 1, pad: 1 },
  {
    what: "3x3 stride 2, explicit asymmetric pad",
    x: [2, 8, 8, 4],
    w: [3, 3, 4, 6],
    scale: 0.1,
    stride: 2,
    pad: [[0, 0], [1, 0], [0, 2], [0, 0]],
  },
];
for (const c of CONV_CASES) {
  agreement(
    `conv2d ${c.what}, forward and gradients`,
    (r) => [normalInput(r, c.x), normalInput(r, c.w, c.scale)],
    conv(c.stride, c.pad),
  );
}
agreement("batch-norm moments over N, H, W", (r) => [normalInput(r, [8, 6, 6, 10], 2)], (x) => {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return [mean, variance];
});
agreement(
  "batchNorm (training form) forward and gradients",
  (r) => [normalInput(r, [8, 4, 4, 6]), normalInput(r, [6]), normalInput(r, [6]), normalInput(r, [8, 4, 4, 6])],
  (x, gamma, beta, upstream) => {
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean, variance, b, g, 1e-5);
    };
    // A random upstream gradient: with sum(y²) the gradient in x is exactly
    // zero (normalisation makes sum(x̂²) constant) and only rounding noise is left.
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(f(a, g, b), upstream));
    return [f(x, gamma, beta), ...tf.grads(loss)([x, gamma, beta])];
  },
);
for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
  agreement(
    `matMul transposeA=${ta} transposeB=${tb}`,
    (r) => [normalInput(r, ta ? [96, 64] : [64, 96]), normalInput(r, tb ? [48, 96] : [96, 48])],
    (a, b) => [tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb)],
  );
}
agreement("relu forward and gradient", (r) => [normalInput(r, [16, 33])], (x) => {
  const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), a)))([x]);
  return [tf.relu(x), g];
});
agreement("avgPool 2x2 and global 8x8, forward and gradient", (r) => [normalInput(r, [4, 8, 8, 5])], (x) => {
  const pool = (a: tf.Tensor, k: number): tf.Tensor4D => tf.avgPool(a as tf.Tensor4D, k, k, "valid");
  const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.square(pool(a, 2))))([x]);
  return [pool(x, 2), pool(x, 8), g];
});
agreement("softmax and logSoftmax, forward and gradient", (r) => [normalInput(r, [32, 10], 3)], (x) => {
  const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(a), tf.linspace(-1, 1, 10))))([x]);
  return [tf.softmax(x), tf.logSoftmax(x), g];
});
agreement("topk values (k = 5)", (r) => [normalInput(r, [20, 10])], (x) => [tf.topk(x, 5).values]);

Deno.test("relativeError is scale-relative and zero for equal inputs", () => {
  assertEquals(relativeError(new Float32Array([1, -2]), new Float32Array([1, -2])), 0);
  assertEquals(relativeError(new Float32Array([2, 0.5]), new Float32Array([2, 0.25])), 0.25 / 2);
  assertEquals(relativeError(new Float32Array([1.5, -4]), new Float32Array([1, -4])), 0.5 / 4);
});
