/**
 * The UFM's float64 losses (`src/ufm/losses.ts`) against the package's tfjs
 * losses (`src/losses/mod.ts`): same values and same gradients with respect to
 * the logits, so the theory checks and the network experiments use one
 * definition of each loss.
 */
import { assert, assertClose, assertEquals } from "./_assert.ts";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Rng } from "../src/rng.ts";
import { ufmLoss } from "../src/ufm/mod.ts";
import { LOSS_NAMES, makeLoss } from "../src/losses/mod.ts";

Deno.test({
  name: "ufm losses agree with src/losses (tfjs): values and logit gradients",
  fn: async () => {
    tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
    await tf.setBackend("cpu");
    const params = { gamma: 3, smoothing: 0.05, rescale: 15 };
    const rng = new Rng(21);
    const B = 16, K = 7;
    const z = new Float32Array(B * K);
    for (let i = 0; i < z.length; i++) z[i] = 4 * rng.normal();
    // A few rows with the true class far ahead or far behind.
    z[0] = 100;
    z[K + 1] = -100;
    const y = new Int32Array(B);
    for (let i = 0; i < B; i++) y[i] = rng.int(K);
    const z64 = Float64Array.from(z);
    assert(LOSS_NAMES.length >= 4);
    for (const name of LOSS_NAMES) {
      const tfLoss = makeLoss(name, params);
      const before = tf.memory().numTensors;
      const [value, grad] = tf.tidy(() => {
        const zt = tf.tensor2d(z, [B, K]);
        const yt = tf.tensor1d(y, "int32");
        const { value, grad } = tf.valueAndGrad((a: tf.Tensor) => tfLoss(a as tf.Tensor2D, yt))(zt);
        return [value.dataSync()[0], grad.dataSync() as Float32Array];
      });
      assertEquals(tf.memory().numTensors, before, `${name}: tensors leaked`);
      const ours = ufmLoss(name, params);
      const g64 = new Float64Array(B * K);
      let sum = 0;
      for (let i = 0; i < B; i++) sum += ours.sample(z64, i * K, K, y[i], g64);
      const mean = sum / B;
      assertClose(value, mean, { rel: 1e-5, floor: 1 }, `${name}: tfjs ${value} vs ufm ${mean}`);
      for (let t = 0; t < B * K; t++) {
        const ref = g64[t] / B; // mean reduction
        assertClose(grad[t], ref, { abs: 1e-5 }, `${name}: ∂/∂z[${t}] tfjs ${grad[t]} vs ufm ${ref}`);
      }
    }
  },
});
