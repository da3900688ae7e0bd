/**
 * Backend selection. Compute runs on TensorFlow.js; which kernels execute it
 * is chosen here, once per process:
 *
 * - `tensorflow`: the native TensorFlow core through `@tensorflow/tfjs-node-gpu`
 *   or `@tensorflow/tfjs-node` (see `native.ts` and `deno task setup`);
 * - `wasm`: XNNPACK kernels in WebAssembly; fast matrix products, but tfjs 4.22
 *   registers no `Conv2DBackpropFilter` for it, so it cannot train convolutions;
 * - `cpu`: plain JavaScript kernels; slow, runs everything.
 *
 * `auto` takes the native backend when it loads, otherwise the fastest portable
 * backend that can run the model.
 */
import { tf } from "./tf.ts";
import { UserError } from "../errors.ts";
import { loadNativeBackend, type NativeInfo } from "./native.ts";
import { nativeFloat64Kernels } from "./graph/native_float64_kernels.ts";
import { setFloat64Kernels } from "../float64_kernels.ts";

export { tf };

/** Backend names accepted by `--backend`. */
export const BACKENDS = ["auto", "tensorflow", "wasm", "cpu"] as const;
/** One of {@linkcode BACKENDS}. */
export type BackendName = typeof BACKENDS[number];

/** What {@linkcode selectBackend} chose and why. */
export interface BackendInfo {
  /** The tfjs backend now active: `tensorflow`, `wasm` or `cpu`. */
  name: "tensorflow" | "wasm" | "cpu";
  /** For the native backend: which package loaded, and whether it sees a GPU. */
  native?: NativeInfo;
  /** Why `auto` did not take the native backend, when it did not. */
  fallbackReason?: string;
}

let wasmRegistered = false;

async function activate(name: "wasm" | "cpu" | "tensorflow"): Promise<void> {
  if (name === "wasm" && !wasmRegistered) {
    // The WASM module reads its .wasm binaries relative to the package; under
    // Deno's node_modules layout the default lookup works.
    await import("@tensorflow/tfjs-backend-wasm");
    wasmRegistered = true;
  }
  if (!(await tf.setBackend(name))) {
    throw new UserError(`--backend ${name}: the backend failed to initialise`);
  }
  await tf.ready();
}

/**
 * Activates a backend. `needsConvTraining` says whether the work trains
 * convolutions (which rules out WASM).
 *
 * @example
 * ```ts
 * const info = await selectBackend("auto", { needsConvTraining: false });
 * console.log(info.name); // "tensorflow", "wasm" or "cpu"
 * ```
 */
export async function selectBackend(
  requested: BackendName,
  opts: { needsConvTraining: boolean },
): Promise<BackendInfo> {
  if (requested === "tensorflow" || requested === "auto") {
    const native = await loadNativeBackend();
    if (native.ok) {
      await activate("tensorflow");
      // The metrics' large float64 products and eigendecompositions then run on TensorFlow's kernels too.
      setFloat64Kernels(nativeFloat64Kernels());
      return { name: "tensorflow", native: native.info };
    }
    if (requested === "tensorflow") {
      throw new UserError(
        `--backend tensorflow: the native backend did not load (${native.reason}); run 'deno task setup'`,
      );
    }
    const portable = opts.needsConvTraining ? "cpu" : "wasm";
    setFloat64Kernels(null);
    await activate(portable);
    return { name: portable, fallbackReason: native.reason };
  }
  if (requested === "wasm" && opts.needsConvTraining) {
    throw new UserError(
      "--backend wasm cannot train convolutional models (tfjs 4.22 has no WASM Conv2DBackpropFilter); use --backend cpu or tensorflow, or --model mlp",
    );
  }
  setFloat64Kernels(null);
  await activate(requested);
  return { name: requested };
}
