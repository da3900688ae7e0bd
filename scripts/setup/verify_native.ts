/**
 * End-to-end check of the native backend, run by `deno task setup` in a
 * fresh process: select it through `selectBackend("tensorflow")`, take the
 * gradient of a small conv-net loss on it and on `cpu`, and compare.
 * Prints one JSON line; exits 1 when the backend is absent or disagrees.
 *
 * Run by hand: `deno run --allow-read --allow-env --allow-ffi --allow-sys scripts/setup/verify_native.ts`
 */
import { selectBackend, tf } from "../../src/backend/mod.ts";
import { relativeError } from "../../src/backend/relative_error.ts";
import { Rng } from "../../src/rng.ts";

function gradients(x: Float32Array, w: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [2, 8, 8, 3]);
    const wt = tf.tensor4d(w, [3, 3, 3, 4]);
    const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(tf.square(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"))));
    const [gx, gw] = tf.grads(loss)([xt, wt]);
    return [gx.dataSync() as Float32Array, gw.dataSync() as Float32Array];
  });
}

const t0 = performance.now();
let info;
try {
  info = await selectBackend("tensorflow", { needsConvTraining: true });
} catch (e) {
  console.log(JSON.stringify({ ok: false, reason: e instanceof Error ? e.message : String(e) }));
  Deno.exit(1);
}
const rng = new Rng(7);
const x = Float32Array.from({ length: 2 * 8 * 8 * 3 }, () => rng.normal());
const w = Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.normal() * 0.3);
const backend = tf.getBackend();
const native = gradients(x, w);
await tf.setBackend("cpu");
const reference = gradients(x, w);
const err = Math.max(relativeError(native[0], reference[0]), relativeError(native[1], reference[1]));
const ok = backend === "tensorflow" && err < 1e-4;
console.log(
  JSON.stringify({ ok, backend, ...info.native, relativeError: err, ms: Math.round(performance.now() - t0) }),
);
if (!ok) Deno.exit(1);
