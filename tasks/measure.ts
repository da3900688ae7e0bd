/**
 * `deno task measure`: every neural-collapse metric of arrays on disk, read
 * in batches of rows (memory O(K·d + batch·d) whatever N is).
 *
 *   deno task measure --features H.npy --labels y.npy --weights W.npy [--bias b.npy] [--json]
 *   deno task measure --npz run.npz                       (keys features, labels, W, b)
 *   deno task measure --features 'h_rank*.npy' --labels 'y_rank*.npy' --weights W.npy
 *   deno task measure ... --ood-features ood.npy          (adds NC5)
 *                     [--projection float32 [--backend auto|tensorflow|wasm|cpu]]
 *
 * Arrays are `.npy` as NumPy writes them (C or Fortran order, either byte
 * order, float16/32/64, any integer labels, versions 1–3), members of `.npz`
 * archives (`file.npz:key`), or JSON arrays. Feature and label lists (comma
 * lists or globs, one file per shard, paired in order) are measured as one
 * set. With --json prints one JSON object, otherwise a table; on a terminal a
 * progress bar shows samples/s. `--projection float32` does the N·d·K
 * products as float32 matrix products on a tfjs backend (several times
 * faster on large inputs, ≈ 1e-6 relative on NC1); the default is float64
 * JavaScript on two threads.
 */
import { METRICS } from "../src/metrics/table.ts";
import type { MeasuredMetrics } from "../src/metrics/mod.ts";
import { MEASURE_BACKENDS, type MeasuredFiles, measureFiles } from "../src/measure/mod.ts";
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { ProgressBar } from "./_progress.ts";

const USAGE = "deno task measure (--features F.npy --labels L.npy --weights W.npy [--bias B.npy] | --npz A.npz) " +
  "[--ood-features O.npy] [--json] [--projection float64|float32] [--backend auto|tensorflow|wasm|cpu]";

const SPECS = defineFlags([
  {
    name: "features",
    type: "paths",
    expect: "file",
    help: "features [N, d]: .npy, .npz:key or .json; a comma list or glob of shards is one set",
  },
  { name: "labels", type: "paths", expect: "file", help: "integer labels [N] in [0, K), one file per features file" },
  { name: "weights", type: "path", expect: "file", help: "classifier weights W [K, d]" },
  { name: "bias", type: "path", expect: "file", help: "classifier bias b [K] (default: zeros)" },
  {
    name: "npz",
    type: "path",
    expect: "file",
    help: "archive with keys features, labels, W and optionally b (flags above override)",
  },
  {
    name: "ood-features",
    type: "paths",
    expect: "file",
    help: "out-of-distribution features [M, d] for NC5 (list or glob)",
  },
  { name: "batch-rows", type: "int", min: 1, help: "rows read at a time (default: about 8 M values' worth)" },
  { name: "json", type: "boolean", default: false, help: "print one JSON object" },
  {
    name: "projection",
    type: "choice",
    choices: ["float64", "float32"],
    default: "float64",
    help: "pass 2's N·d·K products: float64 JavaScript, or float32 matrix products on a tfjs backend",
  },
  {
    name: "backend",
    type: "choice",
    choices: MEASURE_BACKENDS,
    help: "tfjs backend of --projection float32 (default auto: native, else wasm)",
  },
]);

/** Output rows: the metric table's rows that are measured from features. */
const ROWS = METRICS.filter((m) => m.features).map((m) =>
  [m.key, m.key as keyof MeasuredMetrics, m.definition] as const
);

/** A progress bar per pass on stderr, with samples per second. */
function progressBars(): {
  onProgress: (pass: string, done: number, total: number) => void;
  done: () => void;
} {
  const bars = new Map<string, ProgressBar>();
  const started = new Map<string, number>();
  return {
    onProgress: (pass, done, total) => {
      let bar = bars.get(pass);
      if (bar === undefined) {
        for (const b of bars.values()) b.done();
        bar = new ProgressBar(pass, total);
        bars.set(pass, bar);
        started.set(pass, performance.now());
      }
      const seconds = (performance.now() - started.get(pass)!) / 1000;
      bar.update(done, seconds > 0 ? `${Math.round(done / seconds)} samples/s` : "");
    },
    done: () => {
      for (const b of bars.values()) b.done();
    },
  };
}

/** Prints the metrics: one JSON object, or a line on the data and a table. */
function printMetrics(r: MeasuredFiles, json: boolean): void {
  const m = r.metrics;
  const rows = ROWS.filter(([, field]) => m[field] !== undefined);
  if (json) {
    console.log(JSON.stringify(Object.fromEntries(rows.map(([key, field]) => [key, m[field]]))));
    return;
  }
  const shardNote = r.shards > 1 ? ` in ${r.shards} shards` : "";
  console.log(
    `N = ${r.n}${shardNote}, K = ${r.k}, d = ${r.d}${r.hasBias ? "" : ", b = 0"}` +
      `${r.oodCount !== undefined ? `, ${r.oodCount} out-of-distribution samples` : ""}; projections ${r.projection}`,
  );
  for (const [key, field, description] of rows) {
    console.log(`${key.padEnd(18)}${formatValue(m[field]!).padStart(14)}   ${description}`);
  }
}

function formatValue(v: number): string {
  return v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(4) : v.toFixed(6);
}

/** Measures the files the flags name and prints the metrics. */
async function main(flags: FlagValues<typeof SPECS>): Promise<void> {
  const bars = progressBars();
  const r = await measureFiles({
    features: flags.features,
    labels: flags.labels,
    weights: flags.weights,
    bias: flags.bias,
    npz: flags.npz,
    oodFeatures: flags["ood-features"],
    batchRows: flags["batch-rows"],
    projection: flags.projection,
    backend: flags.backend,
    usage: USAGE,
    onProgress: bars.onProgress,
  });
  bars.done();
  printMetrics(r, flags.json);
}

if (import.meta.main) {
  await runTask(USAGE, SPECS, main);
}
