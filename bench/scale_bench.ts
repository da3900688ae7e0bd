/**
 * Whole-process measurements from files, as a researcher runs them:
 * synthetic features written once as `.npy`, then `deno task measure`
 * (float32 and float64 projections) and, optionally, the PyTorch accumulator
 * implementation `bench/torch_accumulators.py`, each timed from outside with
 * its peak resident memory (`/usr/bin/time`), run in turn `repeat` times.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import { type SyntheticFiles, writeSyntheticFiles } from "./synthetic_files.ts";

/** One command's result: median wall seconds and peak resident memory over its runs, and its JSON output. */
export interface ProcessRun {
  name: string;
  seconds: number[];
  peakMiB: number[];
  output: Record<string, unknown>;
}

/** Options of {@linkcode runScaleBench}. */
export interface ScaleBenchOptions {
  n: number;
  k: number;
  d: number;
  noise: number;
  seed: number;
  /** Folder for the synthetic files (deleted afterwards unless `keep`). */
  dir: string;
  keep: boolean;
  repeat: number;
  /** Which of ours to run. */
  ours: ("float32" | "float64")[];
  /** Python with torch for the accumulators, or null to skip them. */
  torchPython: string | null;
  torchDtypes: ("float32" | "float64")[];
}

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs `cmd args` under /usr/bin/time; returns wall seconds, peak RSS and stdout. */
export async function timeProcess(
  cmd: string,
  args: string[],
): Promise<{ seconds: number; peakMiB: number; stdout: string }> {
  const report = await Deno.makeTempFile({ prefix: "bench-time-" });
  try {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("/usr/bin/time", {
        args: ["-f", "%e %M", "-o", report, cmd, ...args],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      throw new UserError(`cannot run /usr/bin/time (${(e as Error).message}); install GNU time`);
    }
    const stdout = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
      throw new UserError(`${cmd} ${args.slice(0, 3).join(" ")} … failed: ${err}`);
    }
    const [seconds, kb] = (await Deno.readTextFile(report)).trim().split("\n").pop()!.split(" ").map(Number);
    return { seconds, peakMiB: kb / 1024, stdout };
  } finally {
    await Deno.remove(report);
  }
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The median of a run's seconds and of its peak memory. */
export function summary(run: ProcessRun): { seconds: number; peakMiB: number } {
  return { seconds: median(run.seconds), peakMiB: median(run.peakMiB) };
}

/**
 * Writes the synthetic files, then runs every command `repeat` times in turn.
 * `log` receives progress lines.
 */
export async function runScaleBench(o: ScaleBenchOptions, log: (line: string) => void): Promise<ProcessRun[]> {
  const bytes = o.n * o.d * 4;
  await Deno.mkdir(o.dir, { recursive: true });
  let t = performance.now();
  log(`writing N = ${o.n}, K = ${o.k}, d = ${o.d} (${(bytes / 2 ** 30).toFixed(1)} GiB of float32) to ${o.dir}`);
  let lastLog = 0;
  const files: SyntheticFiles = await writeSyntheticFiles(o.dir, o.seed, o.n, o.k, o.d, o.noise, (rows) => {
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(`  ${rows} of ${o.n} rows`);
    }
  });
  log(`written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  try {
    const commands: { name: string; cmd: string; args: string[] }[] = [];
    for (const p of o.ours) {
      commands.push({
        name: `ours ${p}`,
        cmd: Deno.execPath(),
        args: [
          "run",
          "--allow-read",
          "--allow-env",
          "--allow-sys",
          "--allow-ffi=node_modules,native",
          "tasks/measure.ts",
          "--features",
          files.features,
          "--labels",
          files.labels,
          "--weights",
          files.weights,
          "--bias",
          files.bias,
          "--projection",
          p,
          "--json",
        ],
      });
    }
    if (o.torchPython !== null) {
      for (const dt of o.torchDtypes) {
        commands.push({
          name: `torch ${dt}`,
          cmd: o.torchPython,
          args: [joinPath(ROOT, "bench", "torch_accumulators.py"), o.dir, "--dtype", dt, "--threads", "2"],
        });
      }
    }
    const runs: ProcessRun[] = commands.map((c) => ({ name: c.name, seconds: [], peakMiB: [], output: {} }));
    for (let r = 0; r < o.repeat; r++) {
      for (const [i, c] of commands.entries()) {
        t = performance.now();
        const res = await timeProcess(c.cmd, c.args);
        runs[i].seconds.push(res.seconds);
        runs[i].peakMiB.push(res.peakMiB);
        runs[i].output = JSON.parse(res.stdout.trim().split("\n").pop()!);
        log(`  ${c.name}: ${res.seconds.toFixed(2)} s, peak ${res.peakMiB.toFixed(0)} MiB`);
      }
    }
    return runs;
  } finally {
    if (!o.keep) await Deno.remove(o.dir, { recursive: true });
  }
}
