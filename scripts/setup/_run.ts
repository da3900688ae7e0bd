/** Small process and file helpers for `deno task setup`. */
import { createHash } from "node:crypto";
import { UserError } from "../../src/errors.ts";

/** Progress sink: one line per call. */
export type Log = (line: string) => void;

/** Result of {@linkcode run}. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args…` and captures its output. A command that cannot be started
 * (not installed) becomes a {@linkcode UserError} naming what to install.
 */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; installHint?: string } = {},
): Promise<RunResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd: opts.cwd, env: opts.env, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`'${cmd}' is not installed${opts.installHint ? ` (${opts.installHint})` : ""}`);
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Like {@linkcode run} but throws a one-line {@linkcode UserError} (command + last stderr line) on failure. */
export async function runChecked(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; installHint?: string } = {},
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new UserError(`'${cmd} ${args.join(" ")}' exited with ${r.code}: ${tail}`);
  }
  return r;
}

/** Hex SHA-256 of a file, streamed (wheels reach 700 MB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  // Reading `readable` to its end closes the file.
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** Whether a file exists at `path` with SHA-256 `sha256`. */
export async function hasFileWithHash(path: string, sha256: string): Promise<boolean> {
  try {
    if (!(await Deno.stat(path)).isFile) return false;
  } catch {
    return false;
  }
  return (await sha256File(path)) === sha256;
}

/** Seconds since `t0` (a `performance.now()` value), one decimal. */
export function since(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
