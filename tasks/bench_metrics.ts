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
 */
import {
  NeuralCollapseAccumulator,
  type NeuralCollapseMetrics,
  type ProjectorFactory,
  syntheticFeatures,
} from "../src/metrics/mod.ts";
import { type BackendName, selectBackend } from "../src/backend/mod.ts";
import { tfProjector } from "../src/backend/projector.ts";
import { writeNpy } from "../src/npy.ts";
import { joinPath } from "../src/io.ts";
import { UserError } from "../src/errors.ts";
import { type FlagSpec, runTask } from "./_cli.ts";

const USAGE =
  "deno task bench-metrics [--n 50000] [--k 100] [--d 2048] [--method fast|reference] [--projection float64|float32] [--json]";

const SPECS: FlagSpec[] = [
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
];

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
    await Deno.writeFile(
      joinPath(dir, "features.npy"),
      writeNpy({ dtype: "float32", shape: [n, d], data: data.features }),
    );
    await Deno.writeFile(joinPath(dir, "labels.npy"), writeNpy({ dtype: "int32", shape: [n], data: data.labels }));
    await Deno.writeFile(
      joinPath(dir, "weights.npy"),
      writeNpy({ dtype: "float32", shape: [k, d], data: data.weights }),
    );
    await Deno.writeFile(joinPath(dir, "bias.npy"), writeNpy({ dtype: "float32", shape: [k], data: data.bias }));
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

/** Both passes over the data in batches, as the evaluate task feeds them. */
function measureStreaming(
  data: ReturnType<typeof syntheticFeatures>,
  n: number,
  k: number,
  d: number,
  batch: number,
  projector: ProjectorFactory | undefined,
): NeuralCollapseMetrics {
  const acc = new NeuralCollapseAccumulator(k, d, data.weights, data.bias, { projector });
  for (let i = 0; i < n; i += batch) {
    const end = Math.min(n, i + batch);
    acc.addPass1(data.features.subarray(i * d, end * d), data.labels.subarray(i, end));
  }
  acc.startPass2();
  for (let i = 0; i < n; i += batch) {
    const end = Math.min(n, i + batch);
    acc.addPass2(data.features.subarray(i * d, end * d), data.labels.subarray(i, end));
  }
  return acc.result();
}

runTask(USAGE, SPECS, async (flags) => {
  const n = flags.n as number;
  const k = flags.k as number;
  const d = flags.d as number;
  const batch = flags.batch as number;
  const json = flags.json as boolean;
  const log = (s: string) => {
    if (!json) console.log(s);
  };
  if (n < k) throw new UserError(`--n ${n}: need at least one sample per class (K = ${k})`);

  let t = performance.now();
  const data = syntheticFeatures(flags.seed as number, n, k, d, flags.noise as number);
  log(`synthetic data N=${n} K=${k} d=${d}: generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  let projector: ProjectorFactory | undefined;
  let variant = "float64";
  if (flags.projection === "float32") {
    const backend = await selectBackend(flags.backend as BackendName, { needsConvTraining: false });
    projector = tfProjector;
    variant = `float32 products on tfjs ${backend.name}`;
  }
  const repeat = flags.repeat as number;
  let oursSeconds = Infinity;
  let ours: NeuralCollapseMetrics | null = null;
  for (let r = 0; r < repeat; r++) {
    t = performance.now();
    ours = measureStreaming(data, n, k, d, batch, projector);
    oursSeconds = Math.min(oursSeconds, (performance.now() - t) / 1000);
  }
  log(
    `ours (streaming, ${variant}, batch ${batch}): ${oursSeconds.toFixed(2)} s${
      repeat > 1 ? ` (best of ${repeat})` : ""
    }`,
  );

  const numpy = await runNumpy(flags.python as string, flags.method as string, repeat, data, n, k, d);
  if (ours === null) throw new Error("unreachable: repeat >= 1");
  const keys = Object.keys(ours) as (keyof NeuralCollapseMetrics)[];
  if (typeof numpy === "string") {
    log(`NumPy comparison skipped: ${numpy}`);
    if (json) console.log(JSON.stringify({ n, k, d, ours_seconds: oursSeconds, numpy_skipped: numpy, metrics: ours }));
    return;
  }
  const ratio = oursSeconds / numpy.seconds;
  log(`NumPy/SciPy (${flags.method}): ${numpy.seconds.toFixed(2)} s${repeat > 1 ? ` (best of ${repeat})` : ""}`);
  log(`ratio ours/NumPy: ${ratio.toFixed(2)}`);
  let worst = 0;
  const disagree: string[] = [];
  log("");
  log(`${"metric".padEnd(18)}${"ours".padStart(22)}${"NumPy".padStart(22)}${"rel. diff".padStart(12)}`);
  for (const key of keys) {
    const a = ours[key];
    const b = numpy.metrics[key];
    const rel = Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const diff = a === b ? 0 : rel;
    // Rates count samples: a near-tie rounded differently flips one sample, 1/N (or 100/N percent).
    const oneSample = key === "nc4_ncc" ? 1 / n : key === "top1" || key === "top5" ? 100 / n : 0;
    const ok = diff <= TOLERANCE || Math.abs(a - b) <= oneSample;
    if (!ok) disagree.push(key);
    worst = Math.max(worst, ok ? 0 : diff);
    log(
      `${key.padEnd(18)}${a.toPrecision(12).padStart(22)}${b.toPrecision(12).padStart(22)}${
        diff.toExponential(1).padStart(12)
      }${ok ? "" : "  DISAGREE"}`,
    );
  }
  const agree = disagree.length === 0;
  log("");
  log(agree ? `all metrics agree to ${TOLERANCE} relative` : `metrics disagree: ${disagree.join(", ")}`);
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
});
