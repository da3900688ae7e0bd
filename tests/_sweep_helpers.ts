/**
 * Shared by the sweep tests that run `tasks/sweep.ts` as a user would: the
 * subprocess call, a tiny synthetic grid that trains in seconds, and waiting
 * for a condition without timing assertions (a generous bound only turns a
 * hang into a failure that says what it waited for).
 */
import { joinPath } from "../src/io.ts";
import type { SweepConfig } from "../src/sweep/mod.ts";
import { runTask, taskCommand } from "./_task.ts";

export const SWEEP = new URL("../tasks/sweep.ts", import.meta.url).pathname;
export const TRAIN = new URL("../tasks/train.ts", import.meta.url).pathname;
export const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** What a finished subprocess printed. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno task sweep <args>` (with the task's own permissions) to its end. */
export async function sweep(args: string[], env: Record<string, string> = {}): Promise<Output> {
  return await runTask("sweep", args, { env });
}

/** Starts `deno task sweep <args>` and leaves it running. */
export async function startSweep(args: string[]): Promise<Deno.ChildProcess> {
  const child = (await taskCommand("sweep", args)).spawn();
  child.stdout.cancel();
  return child;
}

/**
 * A sweep configuration of the smallest grid: the MLP on the synthetic problem, width 1, cross-entropy and
 * MSE, 2 epochs, seed 1, no train arguments; `changes` replace any of these.
 */
export function tinySweepConfig(changes: Partial<SweepConfig> = {}): SweepConfig {
  return {
    dataset: "synthetic",
    model: "mlp",
    losses: ["cross_entropy", "mean_square_error"],
    widths: [1],
    epochs: [2],
    seeds: [1],
    trainArgs: {},
    ...changes,
  };
}

/**
 * A synthetic problem and a small MLP on the cpu backend; `epochs` and
 * `perClass` set how long one run trains (10 samples per class are one batch).
 */
export function tinyGrid(
  opts: { losses?: string; seeds?: string; epochs?: number; perClass?: number; saveInterval?: number } = {},
): string[] {
  return [
    ...["--dataset", "synthetic", "--model", "mlp", "--losses", opts.losses ?? "ce,ls", "--widths", "1"],
    ...["--epochs-list", String(opts.epochs ?? 2), "--seeds", opts.seeds ?? "1"],
    ...["--synthetic-per-class", String(opts.perClass ?? 20), "--synthetic-dim", "8"],
    ...[
      "--mlp-depth",
      "1",
      "--mlp-hidden",
      "16",
      "--save-interval",
      String(opts.saveInterval ?? 1),
      "--train-subset",
      "0",
      "--backend",
      "cpu",
    ],
  ];
}

/**
 * Polls `condition` every `everyMs` until it returns a truthy value, which it
 * returns; fails naming `what` after `boundSeconds` (a safety net for a hang,
 * far above the time the condition needs).
 */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  boundSeconds = 180,
  everyMs = 250,
): Promise<T> {
  const give = Date.now() + boundSeconds * 1000;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > give) throw new Error(`gave up waiting for ${what} after ${boundSeconds} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `ps` with `args`: its output lines, trimmed (reading /proc directly would need --allow-all). */
async function ps(args: string[]): Promise<string[]> {
  const out = await new Deno.Command("ps", { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

/** The ids of the live (not zombie) processes whose parent is `pid`. */
export async function childrenOf(pid: number): Promise<number[]> {
  const lines = await ps(["-o", "pid=,stat=", "--ppid", String(pid)]);
  return lines.map((l) => l.split(/\s+/)).filter(([, stat]) => !stat.startsWith("Z")).map(([p]) => Number(p));
}

/** Whether process `pid` still runs (a zombie does not count). */
export async function alive(pid: number): Promise<boolean> {
  const [stat] = await ps(["-o", "stat=", "-p", String(pid)]);
  return stat !== undefined && !stat.startsWith("Z");
}

/** The text of a file, or "" when it does not exist yet. */
export async function textOr(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

/** `<root>/logs/<run>.log`. */
export function runLog(root: string, run: string): string {
  return joinPath(root, "logs", `${run}.log`);
}

/** How often `needle` occurs in `text`. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
