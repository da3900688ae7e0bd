/**
 * `deno task bench-metrics`: times the streaming neural-collapse metrics on
 * seeded synthetic features (default K = 100, d = 2048, N = 50 000) against
 * the NumPy/SciPy formulas of `bench/metrics_numpy.py` on the same data, and
 * checks that every metric agrees to 1e-4 relative.
 *
 * Ours runs as the evaluate task uses it: pass 1 over batches, then pass 2
 * over the same batches, in float64 or (`--projection float32`) with pass 2's
 * products as float32 matrix products on tfjs (`--backend`, default auto).
 * NumPy's time excludes loading its .npy files.
 *
 * From files, whole processes (`--scale imagenet`, or `--torch`): writes the
 * synthetic features once as `.npy` under `--cache` (K = 1000, d = 2048,
 * N = 1 280 000 for imagenet: 10.5 GB), times `deno task measure` on them
 * with its peak resident memory, and with `--torch` the PyTorch accumulators
 * of `bench/torch_accumulators.py` beside it (float32 against float32,
 * float64 against float64), with the NC1 agreement; then deletes the files.
 */
import {
  arraySource,
  measureBatches,
  type NeuralCollapseMetrics,
  type ProjectorFactory,
  syntheticFeatures,
} from "../src/metrics/mod.ts";
import { selectBackend } from "../src/backend/mod.ts";
import { tfProjector } from "../src/backend/projector.ts";
import { UserError } from "../src/errors.ts";
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { type ProcessRun, runScaleBench, summary } from "../bench/scale_bench.ts";
import { VENV_PYTHON } from "../bench/reference/python.ts";
import { writeFeatureFiles } from "../bench/synthetic_files.ts";

const USAGE =
  "deno task bench-metrics [--n 50000] [--k 100] [--d 2048] [--method fast|reference] [--projection float64|float32] [--json]\n" +
  "       deno task bench-metrics --scale imagenet|peer [--torch] [--repeat 1] [--keep]";

const SPECS = defineFlags([
  { name: "n", type: "int", default: 50_000, min: 1, help: "number of samples N" },
  { name: "k", type: "int", default: 100, min: 2, help: "number of classes K" },
  { name: "d", type: "int", default: 2048, min: 1, help: "feature dimension d" },
  { name: "noise", type: "number", default: 20, min: 0, help: "within-class noise std (sets accuracy and NC1)" },
  { name: "seed", type: "int", default: 1, help: "seed of the synthetic data" },
  { name: "batch", type: "int", default: 128, min: 1, help: "batch size fed to the accumulator" },
  {
    name: "projection",
    type: "choice",
    choices: ["float64", "float32"],
    default: "float64",
    help: "pass 2's products: float64 JavaScript, or float32 matrix products on a tfjs backend",
  },
  {
    name: "backend",
    type: "choice",
    choices: ["auto", "tensorflow", "wasm", "cpu"],
    default: "auto",
    help: "tfjs backend of --projection float32",
  },
  { name: "python", type: "string", default: "python3", help: "Python interpreter with numpy and scipy" },
  {
    name: "method",
    type: "choice",
    choices: ["fast", "reference"],
    default: "fast",
    help: "NumPy method: vectorised formulas, or the reference's per-sample outer products (very slow)",
  },
  {
    name: "repeat",
    type: "int",
    default: 1,
    min: 1,
    help: "time each side this many times and report the fastest (the machine may be shared)",
  },
  { name: "json", type: "boolean", default: false, help: "print one JSON object instead of text" },
  {
    name: "scale",
    type: "choice",
    choices: ["imagenet", "peer"],
    help: "whole processes on .npy files: imagenet (K = 1000, d = 2048, N = 1 280 000) or peer (K = 100, N = 50 000)",
  },
  { name: "torch", type: "boolean", default: false, help: "also time bench/torch_accumulators.py (files mode)" },
  {
    name: "torch-python",
    type: "string",
    default: VENV_PYTHON,
    help: "Python with torch (default: bench-reference's venv)",
  },
  { name: "cache", type: "path", default: ".cache/bench-metrics", help: "folder for the synthetic .npy files" },
  { name: "keep", type: "boolean", default: false, help: "keep the synthetic files" },
]);

const SCALES = { imagenet: { n: 1_280_000, k: 1000, d: 2048 }, peer: { n: 50_000, k: 100, d: 2048 } };

/** Files mode: prints the table of whole-process times, memory and NC1 agreement. */
async function filesMode(flags: FlagValues<typeof SPECS>, log: (s: string) => void): Promise<void> {
  const scale = SCALES[flags.scale ?? "peer"];
  const { n, k, d } = flags.scale ? scale : { n: flags.n, k: flags.k, d: flags.d };
  // Float64 JavaScript runs only up to the peer size's N·K·d (at ImageNet scale it is ~5·10¹² scalar multiply-adds).
  const withFloat64 = n * k * d <= 2e10;
  const runs = await runScaleBench({
    n,
    k,
    d,
    noise: flags.noise,
    seed: flags.seed,
    dir: `${flags.cache}/${n}x${d}-k${k}`,
    keep: flags.keep,
    repeat: flags.repeat,
    ours: withFloat64 ? ["float32", "float64"] : ["float32"],
    torchPython: flags.torch ? flags["torch-python"] : null,
    torchDtypes: withFloat64 ? ["float32", "float64"] : ["float32"],
  }, log);
  const byName = new Map(runs.map((r) => [r.name, r]));
  const reference = byName.get("ours float64") ?? byName.get("torch float64") ?? null;
  // Not a flag: a field of the JSON line the benchmarked process printed (every variant prints a numeric nc1).
  const nc1 = (r: ProcessRun) => r.output.nc1 as number;
  log("");
  log(`N = ${n}, K = ${k}, d = ${d}; whole process, 2 threads each; median of ${flags.repeat} run(s)`);
  log(`${"command".padEnd(16)}${"seconds".padStart(10)}${"peak MiB".padStart(10)}${"NC1".padStart(24)}  rel. to`);
  for (const r of runs) {
    const s = summary(r);
    const rel = reference && reference !== r ? Math.abs(nc1(r) - nc1(reference)) / Math.abs(nc1(reference)) : null;
    log(
      `${r.name.padEnd(16)}${s.seconds.toFixed(2).padStart(10)}${s.peakMiB.toFixed(0).padStart(10)}` +
        `${nc1(r).toPrecision(15).padStart(24)}  ${rel === null ? "" : `${rel.toExponential(1)} (${reference!.name})`}`,
    );
  }
  for (const dt of ["float32", "float64"]) {
    const a = byName.get(`ours ${dt}`);
    const b = byName.get(`torch ${dt}`);
    if (!a || !b) continue;
    const ratio = summary(b).seconds / summary(a).seconds;
    const rel = Math.abs(nc1(a) - nc1(b)) / Math.abs(nc1(b));
    log(`${dt}: ours ${ratio.toFixed(2)}× faster than the torch accumulators; NC1 agrees to ${rel.toExponential(1)}`);
  }
  if (flags.json) {
    console.log(JSON.stringify({ n, k, d, runs: runs.map((r) => ({ ...r, ...summary(r) })) }));
  }
}

/** Relative agreement required of every metric. */
const TOLERANCE = 1e-4;

interface NumpyResult {
  seconds: number;
  metrics: NeuralCollapseMetrics;
}

async function runNumpy(
  python: string,
  method: string,
  repeat: number,
  data: ReturnType<typeof syntheticFeatures>,
  n: number,
  k: number,
  d: number,
): Promise<NumpyResult | string> {
  try {
    const probe = await new Deno.Command(python, { args: ["-c", "import numpy, scipy"], stderr: "null" }).output();
    if (!probe.success) return `${python} has no numpy/scipy (pip install numpy scipy)`;
  } catch {
    return `${python} not found`;
  }
  const dir = await Deno.makeTempDir({ prefix: "bench-metrics-" });
  try {
    await writeFeatureFiles(dir, data, n, k, d);
    const script = new URL("../bench/metrics_numpy.py", import.meta.url).pathname;
    const out = await new Deno.Command(python, { args: [script, dir, "--method", method, "--repeat", String(repeat)] })
      .output();
    if (!out.success) {
      throw new Error(`bench/metrics_numpy.py failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    return JSON.parse(new TextDecoder().decode(out.stdout)) as NumpyResult;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Both passes over the data in batches, as the evaluate task feeds them (one thread, as evaluate). */
function measureStreaming(
  data: ReturnType<typeof syntheticFeatures>,
  n: number,
  k: number,
  d: number,
  batch: number,
  projector: ProjectorFactory | undefined,
): Promise<NeuralCollapseMetrics> {
  if (data.labels.length !== n || data.weights.length !== k * d) throw new Error("unreachable: data of N × K × d");
  const source = arraySource(data.features, data.labels, d, batch);
  return measureBatches(source, d, data.weights, data.bias, { threads: 1, projector });
}

/** Our fastest of `repeat` measurements of the data, and its metrics. */
async function timeOurs(
  data: ReturnType<typeof syntheticFeatures>,
  flags: FlagValues<typeof SPECS>,
  projector: ProjectorFactory | undefined,
): Promise<{ seconds: number; metrics: NeuralCollapseMetrics }> {
  let seconds = Infinity;
  let metrics: NeuralCollapseMetrics | null = null;
  for (let r = 0; r < flags.repeat; r++) {
    const t = performance.now();
    metrics = await measureStreaming(data, flags.n, flags.k, flags.d, flags.batch, projector);
    seconds = Math.min(seconds, (performance.now() - t) / 1000);
  }
  if (metrics === null) throw new Error("unreachable: repeat >= 1");
  return { seconds, metrics };
}

/**
 * Logs ours against NumPy metric by metric; returns the metrics that
 * disagree beyond {@linkcode TOLERANCE} (or one sample of a rate).
 */
function compareMetrics(
  ours: NeuralCollapseMetrics,
  numpy: NeuralCollapseMetrics,
  n: number,
  log: (s: string) => void,
): string[] {
  const disagree: string[] = [];
  log("");
  log(`${"metric".padEnd(18)}${"ours".padStart(22)}${"NumPy".padStart(22)}${"rel. diff".padStart(12)}`);
  for (const key of Object.keys(ours) as (keyof NeuralCollapseMetrics)[]) {
    const a = ours[key];
    const b = numpy[key];
    const rel = Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const diff = a === b ? 0 : rel;
    // Rates count samples: a near-tie rounded differently flips one sample, 1/N (or 100/N percent).
    const oneSample = key === "nc4_ncc" ? 1 / n : key === "top1" || key === "top5" ? 100 / n : 0;
    const ok = diff <= TOLERANCE || Math.abs(a - b) <= oneSample;
    if (!ok) disagree.push(key);
    log(
      `${key.padEnd(18)}${a.toPrecision(12).padStart(22)}${b.toPrecision(12).padStart(22)}${
        diff.toExponential(1).padStart(12)
      }${ok ? "" : "  DISAGREE"}`,
    );
  }
  log("");
  log(
    disagree.length === 0 ? `all metrics agree to ${TOLERANCE} relative` : `metrics disagree: ${disagree.join(", ")}`,
  );
  return disagree;
}

/** Times the streaming metrics against NumPy (or whole processes on files) and checks that they agree. */
async function main(flags: FlagValues<typeof SPECS>): Promise<void> {
  const { n, k, d, batch, json, repeat } = flags;
  const log = (s: string) => {
    if (!json) console.log(s);
  };
  if (n < k) throw new UserError(`--n ${n}: need at least one sample per class (K = ${k})`);
  if (flags.scale !== undefined || flags.torch) return await filesMode(flags, log);

  const t = performance.now();
  const data = syntheticFeatures(flags.seed, n, k, d, flags.noise);
  log(`synthetic data N=${n} K=${k} d=${d}: generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  let projector: ProjectorFactory | undefined;
  let variant = "float64";
  if (flags.projection === "float32") {
    const backend = await selectBackend(flags.backend, { needsConvTraining: false });
    projector = tfProjector;
    variant = `float32 products on tfjs ${backend.name}`;
  }
  const { seconds: oursSeconds, metrics: ours } = await timeOurs(data, flags, projector);
  const best = repeat > 1 ? ` (best of ${repeat})` : "";
  log(`ours (streaming, ${variant}, batch ${batch}): ${oursSeconds.toFixed(2)} s${best}`);

  const numpy = await runNumpy(flags.python, flags.method, repeat, data, n, k, d);
  if (typeof numpy === "string") {
    log(`NumPy comparison skipped: ${numpy}`);
    if (json) {
      console.log(JSON.stringify({ n, k, d, ours_seconds: oursSeconds, numpy_skipped: numpy, metrics: ours }));
    }
    return;
  }
  const ratio = oursSeconds / numpy.seconds;
  log(`NumPy/SciPy (${flags.method}): ${numpy.seconds.toFixed(2)} s${best}`);
  log(`ratio ours/NumPy: ${ratio.toFixed(2)}`);
  const disagree = compareMetrics(ours, numpy.metrics, n, log);
  const agree = disagree.length === 0;
  if (json) {
    console.log(JSON.stringify({
      n,
      k,
      d,
      ours_seconds: oursSeconds,
      numpy_seconds: numpy.seconds,
      numpy_method: flags.method,
      ratio,
      agree,
      disagree,
      metrics: ours,
      numpy_metrics: numpy.metrics,
    }));
  }
  if (!agree) Deno.exit(1);
}

if (import.meta.main) {
  await runTask(USAGE, SPECS, main);
}
