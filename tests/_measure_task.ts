/**
 * Runs `deno task measure` as a subprocess with the task's permissions, for
 * the measure tests.
 */
import { joinPath } from "../src/io.ts";
import { runTask } from "./_task.ts";

/** The repository root. */
export const ROOT = joinPath(new URL(".", import.meta.url).pathname, "..");

/** Exit code, stdout and stderr of `deno task measure <args>`, with the task's own permissions from deno.json. */
export async function measure(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runTask("measure", args);
}
