import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { LOSS_NAMES, makeLoss } from "../src/losses/mod.ts";
import { UserError } from "../src/errors.ts";

await tf.setBackend("cpu");

// Expected values computed by hand in double precision (Python's math module):
// logits [[2, 0, -1], [0.5, 1.5, -0.3]], labels [0, 2], reference parameters.
const LOGITS = [[2, 0, -1], [0.5, 1.5, -0.3]];
const LABELS = [0, 2];
const EXPECTED: Record<string, number> = {
  cross_entropy: 1.1985944698735247,
  mean_square_error: 67.765,
  focal_loss: 0.7912254350436423,
  label_smoothing: 1.2185944698735247,
};

for (const name of LOSS_NAMES) {
  Deno.test(`${name}: matches the hand-computed value`, () => {
    const value = tf.tidy(() => makeLoss(name)(tf.tensor2d(LOGITS), tf.tensor1d(LABELS, "int32")).dataSync()[0]);
    assertClose(value, EXPECTED[name], { rel: 1e-6, floor: 1 }, name);
  });

  Deno.test(`${name}: finite value and gradient for logits of ±100`, () => {
    const z = tf.tensor2d([[100, -100, 0], [100, -100, 0]]);
    const y = tf.tensor1d([1, 0], "int32");
    const { value, grad } = tf.valueAndGrad((logits: tf.Tensor) => makeLoss(name)(logits as tf.Tensor2D, y))(z);
    const v = value.dataSync()[0];
    assert(Number.isFinite(v), `${name} value ${v}`);
    assert(Array.from(grad.dataSync()).every(Number.isFinite), `${name} gradient not finite`);
    // Hand-computed: CE/FL/LS are 100 (means of ~200 and ~0), MSE (100² + (−100 − 15)² + 0 + (100 − 15)² + 100² + 0)/6.
    const expected = name === "mean_square_error" ? 6741.666666666667 : 100;
    assertClose(v, expected, { rel: 1e-5, floor: 1 }, name);
    tf.dispose([z, y, value, grad]);
  });
}

Deno.test("cross entropy gradient is (softmax − one-hot)/B", () => {
  const z = tf.tensor2d(LOGITS);
  const y = tf.tensor1d(LABELS, "int32");
  const grad = tf.grad((logits: tf.Tensor) => makeLoss("cross_entropy")(logits as tf.Tensor2D, y))(z)
    .arraySync() as number[][];
  LOGITS.forEach((row, i) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    row.forEach((_, k) =>
      assertClose(grad[i][k], (e[k] / s - (k === LABELS[i] ? 1 : 0)) / 2, { rel: 1e-5, floor: 1 }, `grad[${i}][${k}]`)
    );
  });
});

Deno.test("focal loss with gamma 0 is cross entropy; label smoothing with alpha 0 is cross entropy", () => {
  const z = tf.tensor2d(LOGITS);
  const y = tf.tensor1d(LABELS, "int32");
  const ce = makeLoss("cross_entropy")(z, y).dataSync()[0];
  assertClose(makeLoss("focal_loss", { gamma: 0 })(z, y).dataSync()[0], ce, { rel: 1e-6, floor: 1 }, "FL γ=0");
  assertClose(makeLoss("label_smoothing", { smoothing: 0 })(z, y).dataSync()[0], ce, { rel: 1e-6, floor: 1 }, "LS α=0");
});

Deno.test("bad loss names and parameters are user errors", () => {
  assertThrows(
    () => makeLoss("hinge"),
    UserError,
    /choose one of cross_entropy/,
  );
  assertThrows(
    () => makeLoss("focal_loss", { gamma: 0.5 }),
    UserError,
    "--gamma",
  );
  assertThrows(
    () => makeLoss("label_smoothing", { smoothing: 1 }),
    UserError,
    "--smoothing",
  );
  assertThrows(
    () => makeLoss("mean_square_error", { rescale: 0 }),
    UserError,
    "--rescale",
  );
  assertEquals(LOSS_NAMES.length, 4);
});
