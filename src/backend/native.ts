/**
 * Loading the native TensorFlow backend (`@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node`). Placeholder until the native-backend issue lands:
 * it reports the backend as absent so every caller falls back cleanly.
 */

/** Which native package loaded. */
export interface NativeInfo {
  package: string;
  gpu: boolean;
}

/** The outcome of {@linkcode loadNativeBackend}. */
export type NativeLoad = { ok: true; info: NativeInfo } | { ok: false; reason: string };

/** Tries to load the native backend once; later calls return the first result. */
export function loadNativeBackend(): Promise<NativeLoad> {
  return Promise.resolve({ ok: false, reason: "native backend not installed" });
}
