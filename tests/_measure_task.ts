/**
 * Runs `deno task measure` as a subprocess with the task's permissions, for
 * the measure tests.
 */
import { joinPath } from "../src/io.ts";
import type { MeasuredMetrics } from "../src/metrics/mod.ts";
import { runTask } from "./_task.ts";

/** The repository root. */
export const ROOT = joinPath(new URL(".", import.meta.url).pathname, "..");

/** Exit code, stdout and stderr of `deno task measure <args>`, with the task's own permissions from deno.json. */
export async function measure(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runTask("measure", args);
}

/** The K = 10, d = 20 NumPy fixture case. */
export const FIXTURE_CASE = joinPath(ROOT, "tests", "fixtures", "metrics", "k10_d20");

/** `--features`, `--labels`, `--weights` (and `--bias`) of the fixture case, plus `extra` flags. */
export function fixtureArgs(opts: { bias?: boolean; extra?: string[] } = {}): string[] {
  return [
    "--features",
    joinPath(FIXTURE_CASE, "features.npy"),
    "--labels",
    joinPath(FIXTURE_CASE, "labels.npy"),
    "--weights",
    joinPath(FIXTURE_CASE, "weights.npy"),
    ...(opts.bias ?? true ? ["--bias", joinPath(FIXTURE_CASE, "bias.npy")] : []),
    ...(opts.extra ?? []),
  ];
}

/** The metrics of `deno task measure --json` (NC5 aside: only with `--ood-features`), in the order it prints them. */
export const MEASURED_KEYS: (keyof MeasuredMetrics)[] = [
  "nc1",
  "nc1_trace",
  "nc1_svd",
  "nc2",
  "nc2_means",
  "nc3",
  "self_duality",
  "nc4_bias",
  "nc4_ncc",
  "equinorm_means",
  "equinorm_weights",
  "equiangularity",
  "max_angle",
  "uniformity_log",
  "cdnv",
  "top1",
  "top5",
];
