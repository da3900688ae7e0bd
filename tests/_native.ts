/**
 * The native backend for the tests that need it: loaded once per test file;
 * `ignore` and `why` for `Deno.test` (ignored, with the reason, where it
 * does not load), and `onNative` (or `onBackend`) to run a test body on it.
 * Every test of the native backend goes through this module.
 */
import { assert } from "./_assert.ts";
import { tf } from "../src/backend/mod.ts";
import { loadNativeBackend } from "../src/backend/native.ts";

/** The outcome of loading the native backend. */
export const native = await loadNativeBackend();
/** `Deno.test`'s `ignore` for tests of the native backend. */
export const ignore = !native.ok;
/** Appended to such a test's name: why it is ignored, or nothing. */
export const why = native.ok ? "" : ` [ignored: ${native.reason}; run 'deno task setup']`;

/** Runs `f` on the backend `name`, then goes back to `cpu`. */
export async function onBackend<T>(name: "tensorflow" | "cpu" | "wasm", f: () => Promise<T> | T): Promise<T> {
  assert(await tf.setBackend(name), `the ${name} backend did not load`);
  try {
    return await f();
  } finally {
    await tf.setBackend("cpu");
  }
}

/** Runs `f` on the native backend, then goes back to `cpu`. */
export function onNative<T>(f: () => Promise<T> | T): Promise<T> {
  return onBackend("tensorflow", f);
}
