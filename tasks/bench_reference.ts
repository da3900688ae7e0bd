/**
 * `deno task bench-reference`: our TensorFlow.js code beside the reference
 * implementation's PyTorch on the same machine and the same inputs, back to
 * back: images/s and peak resident memory of each workload of
 * `REFERENCE_WORKLOADS` (training steps of the MLP, ResNet-18 and
 * WideResNet-50 at two widths, and the MLP's evaluation forward passes), each
 * side in a process of its own; seconds to compute NC1–NC4 on K = 100, d = 2048, N = 50 000
 * synthetic features with `src/metrics` (float64 JavaScript, and float32
 * products on the native backend or wasm) and with the reference's method, the
 * ratios to the reference, and whether the metric values agree to 1e-4.
 * `--setup` first builds the Python side (bench/reference/README.md).
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { selectBackend, tf } from "../src/backend/mod.ts";
import { loadNativeBackend } from "../src/backend/native.ts";
import { EVALUATION_BATCH_VECTORS } from "../src/forward/mod.ts";
import { UserError } from "../src/errors.ts";
import { writeJsonAtomic } from "../src/io.ts";
import { syntheticFeatures } from "../src/metrics/mod.ts";
import {
  type ComparisonRow,
  formatAgreement,
  formatTable,
  median,
  memoryRow,
  metricAgreement,
  metricsRow,
  pairedRounds,
  parseReferenceOutput,
  REFERENCE_WORKLOADS,
  throughputRow,
  type WorkloadResult,
} from "../bench/reference/compare.ts";
import { timeMetrics } from "../bench/reference/ours.ts";
import { tfProjector } from "../src/backend/projector.ts";
import { runReference, setupVenv } from "../bench/reference/python.ts";
import { writeFeatureFiles } from "../bench/synthetic_files.ts";

const USAGE =
  "deno task bench-reference [--setup] [--reps 5] [--rounds 1] [--workloads mlp,mlp-eval,...] [--skip-train] [--skip-metrics] [--json out.json]";

const SPECS = defineFlags([
  { name: "setup", type: "boolean", default: false, help: "create bench/reference/.venv (torch, numpy, scipy) first" },
  { name: "python", type: "string", default: "python3", help: "interpreter that creates the venv (--setup)" },
  { name: "reps", type: "int", default: 5, min: 1, help: "timed repetitions per measurement (the median is reported)" },
  {
    name: "rounds",
    type: "int",
    default: 1,
    min: 1,
    help: "processes per workload and side, run in turn (ours, PyTorch, ours, …); the ratio is the rounds' median",
  },
  {
    name: "warmup",
    type: "int",
    default: 2,
    min: 0,
    help: "untimed repetitions (training steps or evaluation passes) before timing",
  },
  {
    name: "workloads",
    type: "list",
    default: Object.keys(REFERENCE_WORKLOADS),
    help: `workloads to time, each side in its own process (${Object.keys(REFERENCE_WORKLOADS).join(", ")})`,
  },
  {
    name: "backends",
    type: "list",
    default: ["tensorflow"],
    help: "our tfjs backends (tensorflow, cpu; wasm: MLP only)",
  },
  {
    name: "eval-batch",
    type: "int",
    default: EVALUATION_BATCH_VECTORS,
    min: 1,
    help: "evaluation batch of mlp-eval on both sides (the batch deno task evaluate uses for MLPs)",
  },
  { name: "eval-samples", type: "int", default: 10_000, min: 1, help: "inputs per evaluation pass of mlp-eval" },
  { name: "skip-train", type: "boolean", default: false, help: "skip the workloads (training and evaluation)" },
  { name: "skip-metrics", type: "boolean", default: false, help: "skip the metrics comparison" },
  { name: "n", type: "int", default: 50_000, min: 2, help: "samples N of the synthetic features" },
  { name: "noise", type: "number", default: 20, min: 0, help: "within-class noise of the synthetic features" },
  {
    name: "nc-samples",
    type: "int",
    default: 2000,
    min: 1,
    help: "time the reference's per-sample loops on this many samples and scale to N",
  },
  { name: "metric-reps", type: "int", default: 3, min: 1, help: "repetitions of each metric computation" },
  { name: "json", type: "path", expect: "file", help: "also write every measurement to this JSON file" },
]);

const K = 100;
const D = 2048;

/** Runs `ours_worker.ts` in a process of its own with `args` (the workload id first); returns its result. */
async function runOurs(args: string[]): Promise<WorkloadResult & { backend: string; leaked_tensors: number }> {
  const worker = new URL("../bench/reference/ours_worker.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-ffi", "--allow-sys", worker, "--workload", ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new UserError(`ours_worker.ts ${args.join(" ")} exited with ${out.code}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const r = JSON.parse(lines.at(-1)!);
  if (r.leaked_tensors !== 0) console.log(`  warning: the workload left ${r.leaked_tensors} tensors behind`);
  return r;
}

/** Creates the Python venv (`--setup`) and says what it holds. */
async function setupPython(python: string): Promise<void> {
  const check = await setupVenv(python, (l) => console.log(`setup: ${l}`));
  console.log(
    `setup: torch ${check.versions.torch}, CUDA ${check.cuda}, oneDNN ${check.mkldnn}; parameters ${
      (check.params ?? []).map((p) => `w=${p.width}: ${p.params}`).join(", ")
    } (as expected)`,
  );
}

/** Throws {@linkcode UserError} for a workload or backend this task does not know. */
function checkChoices(workloads: readonly string[], backends: readonly string[]): void {
  for (const w of workloads) {
    if (!REFERENCE_WORKLOADS[w]) {
      throw new UserError(`--workloads: unknown '${w}'; choose from ${Object.keys(REFERENCE_WORKLOADS).join(", ")}`);
    }
  }
  for (const b of backends) {
    if (b !== "tensorflow" && b !== "cpu" && b !== "wasm") {
      throw new UserError(`--backends: '${b}' is not a backend; choose tensorflow, cpu and/or wasm`);
    }
  }
}

/** Gigabytes of a byte count, `?` when unknown. */
const gb = (b: number | null) => b === null ? "?" : `${(b / 1e9).toFixed(2)} GB`;

/** Our result of one process. */
type OurResult = WorkloadResult & { backend: string; leaked_tensors: number };

/**
 * Times workload `id` in `flags.rounds` rounds, each our backends' process
 * then PyTorch's; adds its throughput and memory rows to `rows` and returns
 * every process's result.
 */
async function timeWorkload(
  id: string,
  flags: FlagValues<typeof SPECS>,
  ourBackends: readonly string[],
  rows: ComparisonRow[],
): Promise<{ workload: string; rounds: number; ours: OurResult[]; pytorch: WorkloadResult[] }> {
  const { reps, warmup, rounds } = flags;
  const spec = REFERENCE_WORKLOADS[id];
  const evalArgs = ["--eval-batch", String(flags["eval-batch"]), "--eval-samples", String(flags["eval-samples"])];
  const common = ["--reps", String(reps), "--warmup", String(warmup), ...evalArgs];
  // ours[b][r]: backend b's result in round r.
  const ours: OurResult[][] = ourBackends.map(() => []);
  const refs: WorkloadResult[] = [];
  let refVersion = "";
  for (let round = 1; round <= rounds; round++) {
    const of = rounds > 1 ? ` (round ${round} of ${rounds})` : "";
    for (const [b, backend] of ourBackends.entries()) {
      console.log(`${id}: tfjs ${backend}, ${warmup} warm-up + ${reps} timed repetitions, own process${of}`);
      const r = await runOurs([id, "--backend", backend, ...common]);
      ours[b].push(r);
      console.log(
        `  seconds: ${r.step_seconds.map((v) => v.toPrecision(3)).join(" ")}; peak RSS ${gb(r.peak_rss_bytes)}`,
      );
    }
    console.log(`${id}: pytorch, ${warmup} warm-up + ${reps} timed repetitions, own process${of}`);
    const steps = ["--steps-per-rep", String(spec.stepsPerRep)];
    const refOut = parseReferenceOutput(await runReference(["--workload", id, ...common, ...steps]));
    const ref = refOut.workload!;
    refVersion = refOut.versions.torch;
    console.log(
      `  seconds: ${ref.step_seconds.map((v) => v.toPrecision(3)).join(" ")}; peak RSS ${gb(ref.peak_rss_bytes)}`,
    );
    if (ours.length > 0 && ref.params !== ours[0][0].params) {
      throw new Error(`${id}: PyTorch's model has ${ref.params} parameters, ours ${ours[0][0].params}`);
    }
    if (ref.params_expected !== null && ref.params !== ref.params_expected) {
      throw new Error(`${id}: PyTorch model has ${ref.params} parameters, expected ${ref.params_expected}`);
    }
    refs.push(ref);
  }
  const refIps = refs.map((r) => r.images_per_second);
  const note = rounds > 1
    ? `median of ${rounds} rounds' medians of ${reps}; ratio: median of the rounds'`
    : `median of ${reps}`;
  const peak = (rs: WorkloadResult[]) =>
    rs.some((r) => r.peak_rss_bytes === null) ? null : Math.max(...rs.map((r) => r.peak_rss_bytes!));
  for (const [b, backend] of ourBackends.entries()) {
    const p = pairedRounds(ours[b].map((r) => r.images_per_second), refIps);
    rows.push(throughputRow(`tfjs ${backend}`, id, p.ours, p.reference, note, p.ratio));
  }
  rows.push(throughputRow(`pytorch ${refVersion}`, id, median(refIps), null, `${note}, 2 threads`));
  for (const [b, backend] of ourBackends.entries()) {
    const bytes = peak(ours[b]);
    if (bytes !== null) rows.push(memoryRow(`tfjs ${backend}`, id, bytes, peak(refs)));
  }
  const refPeak = peak(refs);
  if (refPeak !== null) rows.push(memoryRow(`pytorch ${refVersion}`, id, refPeak, null));
  return { workload: id, rounds, ours: ours.flat(), pytorch: refs };
}

/**
 * The metrics on synthetic features, ours (float64 JavaScript, then float32
 * products on the fastest tfjs backend here) against the reference's method;
 * adds their rows to `rows` and returns the record.
 */
async function compareMetrics(
  flags: FlagValues<typeof SPECS>,
  nativeLoaded: boolean,
  rows: ComparisonRow[],
): Promise<Record<string, unknown>> {
  const n = flags.n;
  console.log(`metrics: generating N = ${n}, K = ${K}, d = ${D} synthetic features`);
  const data = syntheticFeatures(1, n, K, D, flags.noise);
  const dir = await Deno.makeTempDir({ prefix: "bench-reference-" });
  try {
    await writeFeatureFiles(dir, data, n, K, D);
    const metricReps = flags["metric-reps"];
    const projectedOn = nativeLoaded ? "tensorflow" : "wasm";
    const variants: { side: string; backend: "tensorflow" | "wasm" | null }[] = [
      { side: "ours, float64 JS (2 threads)", backend: null },
      { side: `ours, float32 products (tfjs ${projectedOn})`, backend: projectedOn },
    ];
    const ours = [];
    for (const v of variants) {
      if (v.backend) await selectBackend(v.backend, { needsConvTraining: false });
      console.log(`metrics: ${v.side}, ${metricReps} repetitions`);
      const t = timeMetrics(data, metricReps, v.backend ? tfProjector : undefined);
      console.log(`  seconds: ${t.seconds.map((x) => x.toFixed(2)).join(" ")}`);
      ours.push({ ...v, ...t });
    }
    console.log(`metrics: the reference's method (per-sample loops on ${flags["nc-samples"]} samples)`);
    const ref = parseReferenceOutput(
      await runReference(["--widths", "", "--nc-dir", dir, "--nc-samples", String(flags["nc-samples"])]),
    ).nc!;
    const results = [];
    let allPass = true;
    for (const o of ours) {
      rows.push(metricsRow(o.side, median(o.seconds), ref.median_seconds, `median of ${metricReps}`));
      const agreement = metricAgreement(o.metrics, ref.metrics);
      allPass &&= agreement.every((a) => a.pass);
      results.push({ side: o.side, seconds: o.seconds, metrics: o.metrics, agreement });
      console.log();
      console.log(formatAgreement(agreement, o.side));
    }
    rows.push(metricsRow("reference method", ref.median_seconds, null, ref.note));
    console.log(`agreement: ${allPass ? "PASS" : "FAIL"}`);
    return { ours: results, reference: ref };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Times our code beside the reference PyTorch, workload by workload, then the metrics. */
async function main(flags: FlagValues<typeof SPECS>): Promise<void> {
  if (flags.setup) await setupPython(flags.python);
  const { workloads, backends, reps } = flags;
  checkChoices(workloads, backends);
  const rows: ComparisonRow[] = [];
  const record: Record<string, unknown> = {
    date: new Date().toISOString(),
    cpus: navigator.hardwareConcurrency,
    loadavg_at_start: Deno.loadavg(),
    tfjs: tf.version_core,
    reps,
  };
  console.log(`${navigator.hardwareConcurrency} CPU threads, load average ${Deno.loadavg().join(" ")}`);

  // Two compute threads on both sides, like torch.set_num_threads(2); TensorFlow reads this when its
  // context is created, so before the native backend loads. Inter-op threads stay at TensorFlow's
  // default, as in training: a graph runs independent ops (a convolution's two gradients, the
  // optimiser's updates) side by side on them, sharing the same two compute threads.
  Deno.env.set("TF_NUM_INTRAOP_THREADS", "2");
  const native = await loadNativeBackend();
  if (!native.ok && backends.includes("tensorflow")) {
    console.log(`tensorflow backend unavailable (${native.reason}): workloads run on the other backends only`);
  }

  if (!flags["skip-train"]) {
    const results: unknown[] = [];
    for (const id of workloads) {
      const spec = REFERENCE_WORKLOADS[id];
      const ourBackends = backends.filter((backend) =>
        !(backend === "tensorflow" && !native.ok) &&
        !(backend === "wasm" && spec.model !== "mlp") && // no Conv2DBackpropFilter on wasm
        !(backend === "cpu" && spec.model === "wide_resnet50") // one step takes more than 20 minutes
      );
      results.push(await timeWorkload(id, flags, ourBackends, rows));
    }
    record.workloads = results;
  }
  if (!flags["skip-metrics"]) record.metrics = await compareMetrics(flags, native.ok, rows);
  record.rows = rows;
  record.loadavg_at_end = Deno.loadavg();
  console.log();
  console.log(formatTable(rows));
  console.log(`load average at the end: ${Deno.loadavg().join(" ")}`);
  if (flags.json) await writeJsonAtomic(flags.json, record);
}

if (import.meta.main) {
  await runTask(USAGE, SPECS, main);
}
