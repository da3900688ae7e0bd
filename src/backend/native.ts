/**
 * Loading the native TensorFlow backend: `@tensorflow/tfjs-node-gpu`, else
 * `@tensorflow/tfjs-node`, whichever has its N-API addon
 * (`lib/napi-v8/tfjs_binding.node`) in place. `deno task setup` builds that
 * addon against the TensorFlow C library (see `scripts/setup/`); without it
 * the backend reports itself absent and callers fall back.
 *
 * The package registers the `tensorflow` backend on the same tfjs-core engine
 * as our `tf` import (tfjs keeps its engine and kernel registry on the global
 * object, and Deno resolves both to one `@tensorflow/tfjs-core@4.22.0`).
 * Two gaps of tfjs-node 4.22 are filled on load: `util.isNullOrUndefined`
 * (gone from Node's API) and numeric convolution padding
 * (`_native_padding.ts`).
 *
 * @example
 * ```ts
 * const native = await loadNativeBackend();
 * if (native.ok) console.log(native.info.package, native.info.tensorflowVersion);
 * else console.log("no native backend:", native.reason);
 * ```
 */
import util from "node:util";
import { fileURLToPath } from "node:url";
import { tf } from "./tf.ts";
import { registerPaddedConvKernels } from "./_native_padding.ts";

/** Which native package loaded. */
export interface NativeInfo {
  /** `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`. */
  package: string;
  /** Whether TensorFlow placed ops on a GPU. */
  gpu: boolean;
  /** Version of the TensorFlow C library in use, e.g. `2.16.2`. */
  tensorflowVersion?: string;
}

/** The outcome of {@linkcode loadNativeBackend}. */
export type NativeLoad = { ok: true; info: NativeInfo } | { ok: false; reason: string };

/** The native packages, in the order they are tried. */
export const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;
/** One of {@linkcode NATIVE_PACKAGES}. */
export type NativePackage = typeof NATIVE_PACKAGES[number];

/** Version of the native packages, as pinned in deno.json. */
export const NATIVE_PACKAGE_VERSION = "4.22.0";

/**
 * Directory of `pkg` inside Deno's `node_modules` (with `"nodeModulesDir":
 * "auto"`, Deno keeps each package under `node_modules/.deno/<name@version>/`).
 *
 * @example
 * ```ts
 * nativePackageDir("@tensorflow/tfjs-node");
 * // ".../node_modules/.deno/@tensorflow+tfjs-node@4.22.0/node_modules/@tensorflow/tfjs-node"
 * ```
 */
export function nativePackageDir(pkg: NativePackage): string {
  const flat = `${pkg.replace("/", "+")}@${NATIVE_PACKAGE_VERSION}`;
  return fileURLToPath(new URL(`../../node_modules/.deno/${flat}/node_modules/${pkg}`, import.meta.url));
}

/**
 * Where the package's JS looks for its addon: node-pre-gyp's `module_path`
 * (`./lib/napi-v{napi_build_version}`) with the highest N-API version the
 * package lists (8) that Deno's N-API (10) supports.
 */
export function bindingPath(pkg: NativePackage): string {
  return `${nativePackageDir(pkg)}/lib/napi-v8/tfjs_binding.node`;
}

/** The part of tfjs-node's binding object read here. */
interface TfjsBinding {
  TF_Version: string;
  isUsingGpuDevice(): boolean;
}

let loading: Promise<NativeLoad> | undefined;
let loadedBinding: string | null = null;

/** Path of the addon the native backend loaded (null until it has loaded). */
export function loadedNativeBinding(): string | null {
  return loadedBinding;
}

/** Tries to load the native backend once; later calls return the first result. */
export function loadNativeBackend(): Promise<NativeLoad> {
  loading ??= load();
  return loading;
}

/**
 * Imports a native package for its side effect (it registers the `tensorflow`
 * backend). Literal specifiers, one per package, so that `deno publish` can
 * resolve them without this repository's import map; being dynamic, neither
 * loads unless the native backend is asked for and its binding is on disk.
 */
function importNativePackage(pkg: NativePackage): Promise<unknown> {
  return pkg === "@tensorflow/tfjs-node-gpu" ? import("@tensorflow/tfjs-node-gpu") : import("@tensorflow/tfjs-node");
}

async function load(): Promise<NativeLoad> {
  let pkg: NativePackage | undefined;
  for (const candidate of NATIVE_PACKAGES) {
    try {
      if ((await Deno.stat(bindingPath(candidate))).isFile) {
        pkg = candidate;
        break;
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) return { ok: false, reason: `no read permission (${e.message})` };
    }
  }
  if (pkg === undefined) return { ok: false, reason: "native backend not installed (no tfjs_binding.node)" };
  quietTensorFlowLogs();
  restoreRemovedNodeUtil();
  try {
    await importNativePackage(pkg);
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    return { ok: false, reason: `${pkg} failed to load: ${message}` };
  }
  const backend = tf.findBackend("tensorflow") as unknown as { binding?: TfjsBinding } | null;
  if (backend?.binding === undefined) {
    return { ok: false, reason: `${pkg} loaded but registered no 'tensorflow' backend on our tfjs-core` };
  }
  registerPaddedConvKernels();
  loadedBinding = bindingPath(pkg);
  return {
    ok: true,
    info: { package: pkg, gpu: backend.binding.isUsingGpuDevice(), tensorflowVersion: backend.binding.TF_Version },
  };
}

/**
 * TensorFlow's C++ logging prints several INFO lines (oneDNN, CPU features)
 * on load; level 2 keeps warnings about real problems (errors) only. A value
 * the user set wins.
 */
function quietTensorFlowLogs(): void {
  try {
    if (Deno.env.get("TF_CPP_MIN_LOG_LEVEL") === undefined) Deno.env.set("TF_CPP_MIN_LOG_LEVEL", "2");
  } catch {
    // Without --allow-env TensorFlow is merely chattier.
  }
}

/**
 * tfjs-node 4.22 calls `util.isNullOrUndefined`, which Node removed in v23;
 * Deno's `node:util` (Node 26 API) lacks it, so every op with optional
 * attributes would throw. Restore the one-line original.
 */
function restoreRemovedNodeUtil(): void {
  const u = util as unknown as Record<string, unknown>;
  if (typeof u.isNullOrUndefined !== "function") {
    u.isNullOrUndefined = (v: unknown): boolean => v === null || v === undefined;
  }
}
