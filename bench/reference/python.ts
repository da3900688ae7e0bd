/**
 * The Python environment of `deno task bench-reference`: a virtual
 * environment in `bench/reference/.venv` (gitignored) holding PyPI's torch
 * made to import without CUDA (see `cuda_stubs.py`), NumPy and SciPy.
 *
 * @module
 */
import { UserError } from "../../src/errors.ts";
import { exists } from "../../src/io.ts";
import { parseReferenceOutput, type ReferenceOutput } from "./compare.ts";

const HERE = new URL(".", import.meta.url).pathname;
/** The folder of the virtual environment. */
export const VENV = `${HERE}.venv`;
/** Its interpreter. */
export const VENV_PYTHON = `${VENV}/bin/python`;

async function run(cmd: string, args: string[], what: string, quiet = false): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: quiet ? "piped" : "inherit",
    }).output();
  } catch (e) {
    throw new UserError(`${what}: could not run ${cmd} (${(e as Error).message})`);
  }
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new UserError(`${what}: ${cmd} ${args.join(" ")} exited with ${out.code}\n${stdout.slice(-2000)}${stderr}`);
  }
  return stdout;
}

/**
 * Creates the virtual environment with `python3` (or `python`), installs the
 * pinned closure of `requirements.txt` with `--no-deps` (so none of the
 * nvidia-* wheels come), writes the CUDA stub libraries, and checks that
 * torch imports, sees no CUDA, and builds both models with the expected
 * parameter counts. Returns the check's output. `log` receives progress.
 */
export async function setupVenv(python: string, log: (line: string) => void): Promise<ReferenceOutput> {
  if (!(await exists(VENV_PYTHON))) {
    log(`creating ${VENV} with ${python}`);
    await run(python, ["-m", "venv", VENV], "--setup");
  }
  log("installing the pinned torch (CPU use, --no-deps), numpy, scipy (torch's wheel is ~900 MB)");
  await run(VENV_PYTHON, ["-m", "pip", "install", "--no-deps", "-r", `${HERE}requirements.txt`], "--setup");
  log("writing CUDA stub libraries into torch/lib");
  log((await run(VENV_PYTHON, [`${HERE}cuda_stubs.py`], "--setup")).trim());
  const check = parseReferenceOutput(await runReference(["--params-only"]));
  if (check.cuda) throw new UserError("--setup: torch unexpectedly reports CUDA");
  for (const p of check.params ?? []) {
    if (p.params_expected !== null && p.params !== p.params_expected) {
      throw new UserError(`--setup: width ${p.width} has ${p.params} parameters, expected ${p.params_expected}`);
    }
  }
  return check;
}

/** Runs `reference_bench.py` in the venv with `args`; returns its stdout. */
export async function runReference(args: string[]): Promise<string> {
  if (!(await exists(VENV_PYTHON))) {
    throw new UserError(`${VENV_PYTHON} does not exist; run 'deno task bench-reference --setup' first`);
  }
  return await run(VENV_PYTHON, [`${HERE}reference_bench.py`, ...args], "reference_bench.py");
}
