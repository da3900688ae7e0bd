/**
 * The native backend for the tests that need it: loaded once per test file;
 * `ignore` and `why` for `Deno.test` (ignored, with the reason, where it
 * does not load), and `onNative` to run a test body on it.
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

/** Runs `f` on the native backend, then goes back to `cpu`. */
export async function onNative<T>(f: () => Promise<T> | T): Promise<T> {
  assert(await tf.setBackend("tensorflow"), "the tensorflow backend did not load");
  try {
    return await f();
  } finally {
    await tf.setBackend("cpu");
  }
}
