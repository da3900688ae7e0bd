/**
 * The native backend through our own `tf` import: `selectBackend("tensorflow")`
 * activates it on the same tfjs-core engine, and ops computed there give
 * hand-computed values (including PyTorch-style numeric conv padding, which
 * tfjs-node alone cannot train). Ignored, with the reason in the name, when
 * the native backend does not load (run `deno task setup`).
 */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { selectBackend, tf } from "../src/backend/mod.ts";
import { bindingPath, loadNativeBackend, NATIVE_PACKAGES } from "../src/backend/native.ts";
import { CPU_WHEELS, GPU_WHEELS, NODE_API_HEADERS, TENSORFLOW_VERSION } from "../scripts/setup/pins.ts";

const native = await loadNativeBackend();
const ignoreReason = native.ok ? "" : ` [ignored: ${native.reason}; run 'deno task setup']`;

Deno.test("loadNativeBackend: a loaded backend names its package and TensorFlow version; else says why", () => {
  if (native.ok) {
    assert((NATIVE_PACKAGES as readonly string[]).includes(native.info.package));
    // 2.9.1 is what tfjs-node's own install script fetches; setup builds against the pinned wheel.
    assert(
      ["2.9.1", TENSORFLOW_VERSION].includes(native.info.tensorflowVersion!),
      native.info.tensorflowVersion ?? "no version",
    );
  } else {
    assertMatch(native.reason, /\S/);
  }
});

Deno.test("bindingPath is where node-pre-gyp looks (napi-v8 under Deno's node_modules layout)", () => {
  assertMatch(
    bindingPath("@tensorflow/tfjs-node"),
    /\/node_modules\/\.deno\/@tensorflow\+tfjs-node@4\.22\.0\/node_modules\/@tensorflow\/tfjs-node\/lib\/napi-v8\/tfjs_binding\.node$/,
  );
});

Deno.test("setup pins: SHA-256 digests are 64 hex digits and file names match name and version", () => {
  for (const w of [...CPU_WHEELS, ...GPU_WHEELS, NODE_API_HEADERS]) {
    assertMatch(w.sha256, /^[0-9a-f]{64}$/, w.name);
    assert(
      w.file.startsWith(`${w.name.replaceAll("-", "_")}-${w.version}-`) || w.file.startsWith(`${w.name}-${w.version}`),
      w.file,
    );
  }
  assertEquals(
    new Set([...CPU_WHEELS, ...GPU_WHEELS].map((w) => w.sha256)).size,
    CPU_WHEELS.length + GPU_WHEELS.length,
  );
});

Deno.test({
  name: `selectBackend("tensorflow") activates the native backend on our tfjs-core${ignoreReason}`,
  ignore: !native.ok,
  fn: async () => {
    const info = await selectBackend("tensorflow", { needsConvTraining: true });
    assertEquals(info.name, "tensorflow");
    assertEquals(tf.getBackend(), "tensorflow");
    const before = tf.memory().numTensors;
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 2], [3, 4]])).arraySync());
    assertEquals(product, [[7, 10], [15, 22]]);
    assertEquals(tf.memory().numTensors, before);
  },
});

Deno.test({
  name: `native conv2d 'valid' and its filter gradient by hand${ignoreReason}`,
  ignore: !native.ok,
  fn: async () => {
    await selectBackend("tensorflow", { needsConvTraining: true });
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const w = tf.ones([2, 2, 1, 1]) as tf.Tensor4D;
    const y = tf.conv2d(x, w, 1, "valid");
    // Each output sums a 2×2 window; d(sum y)/dw[i,j] sums the inputs that w[i,j] touches: the same numbers.
    const [gw] = tf.grads((a: tf.Tensor) => tf.sum(tf.conv2d(x, a as tf.Tensor4D, 1, "valid")))([w]);
    assertEquals(Array.from(y.dataSync()), [12, 16, 24, 28]);
    assertEquals(Array.from(gw.dataSync()), [12, 16, 24, 28]);
    tf.dispose([x, w, y, gw]);
  },
});

Deno.test({
  name:
    `native conv2d with PyTorch padding 1, stride 2 on 4×4: windows start at -1, gradient counts coverage${ignoreReason}`,
  ignore: !native.ok,
  fn: async () => {
    await selectBackend("tensorflow", { needsConvTraining: true });
    const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    const conv = (a: tf.Tensor): tf.Tensor => tf.conv2d(a as tf.Tensor4D, w, 2, 1);
    // Rows/cols covered: window 0 → {-1, 0, 1}, window 1 → {1, 2, 3}. ('same' would pad 0 before, 1 after.)
    const y = conv(x);
    const [gx] = tf.grads((a: tf.Tensor) => tf.sum(conv(a)))([x]);
    assertEquals(Array.from(y.dataSync()), [14, 30, 57, 99]);
    const cover = [1, 2, 1, 1];
    assertEquals(Array.from(gx.dataSync()), cover.flatMap((r) => cover.map((c) => r * c)));
    tf.dispose([x, w, y, gx]);
  },
});
