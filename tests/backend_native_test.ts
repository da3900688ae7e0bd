/**
 * The native backend through our own `tf` import: `selectBackend("tensorflow")`
 * activates it on the same tfjs-core engine, and ops computed there give
 * hand-computed values (including PyTorch-style numeric conv padding, which
 * tfjs-node alone cannot train). Ignored, with the reason in the name, when
 * the native backend does not load (run `deno task setup`).
 */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { selectBackend, tf } from "../src/backend/mod.ts";
import {
  bindingPath,
  loadedNativeBinding,
  loadNativeBackend,
  NATIVE_PACKAGES,
  type NativePackage,
  nativePackageDir,
} from "../src/backend/native.ts";
import { CPU_WHEELS, GPU_WHEELS, NODE_API_HEADERS, TENSORFLOW_VERSION } from "../scripts/setup/pins.ts";
import { ignore, native, why } from "./_native.ts";

Deno.test({
  name: `loadNativeBackend: the loaded backend names its package, its TensorFlow version and its addon${why}`,
  ignore,
  fn: async () => {
    assert(native.ok);
    assert((NATIVE_PACKAGES as readonly string[]).includes(native.info.package), native.info.package);
    // 2.9.1 is what tfjs-node's own install script fetches; setup builds against the pinned wheel.
    assert(
      ["2.9.1", TENSORFLOW_VERSION].includes(native.info.tensorflowVersion!),
      native.info.tensorflowVersion ?? "no version",
    );
    assertEquals(loadedNativeBinding(), bindingPath(native.info.package as NativePackage));
    assert(tf.findBackend("tensorflow") !== null, "no 'tensorflow' backend registered on our tfjs-core");
    assertEquals(await loadNativeBackend(), native, "a second load gives the first result");
  },
});

Deno.test("loadNativeBackend: where it cannot read the addon it says why, in one line, and does not throw", async () => {
  // A process that may read everything but the native packages, where the addon lives.
  // Permissions match paths as written and as resolved (node_modules may be a link): deny both.
  const real = (path: string): string[] => {
    try {
      return [path, Deno.realPathSync(path)];
    } catch {
      return [path]; // not installed
    }
  };
  const hidden = NATIVE_PACKAGES.flatMap((pkg) => real(nativePackageDir(pkg)));
  const code = [
    `import { loadNativeBackend } from ${JSON.stringify(new URL("../src/backend/native.ts", import.meta.url).href)};`,
    "console.log(JSON.stringify(await loadNativeBackend()));",
  ].join("\n");
  const flags = ["--quiet", "--allow-read", `--deny-read=${hidden.join(",")}`, "--allow-env", "--allow-sys"];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "--allow-ffi", "-"], // `deno eval` would ignore the permission flags
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  const load = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(load.ok, false);
  assertMatch(load.reason, /^no read permission \(.*node_modules.*\)$/);
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
  name: `selectBackend("tensorflow") activates the native backend on our tfjs-core${why}`,
  ignore,
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
  name: `native conv2d 'valid' and its filter gradient by hand${why}`,
  ignore,
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
  name: `native conv2d with PyTorch padding 1, stride 2 on 4×4: windows start at -1, gradient counts coverage${why}`,
  ignore,
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
