/**
 * Runs `deno task measure` as a subprocess with the task's permissions, for
 * the measure tests.
 */
import { joinPath } from "../src/io.ts";

/** The repository root. */
export const ROOT = joinPath(new URL(".", import.meta.url).pathname, "..");

/** Exit code, stdout and stderr of `tasks/measure.ts` with `args`. */
export async function measure(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-ffi", "--allow-sys", "tasks/measure.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
