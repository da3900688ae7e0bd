/**
 * `deno task bench-reference`: our TensorFlow.js code beside the reference
 * implementation's PyTorch on the same machine and the same inputs, back to
 * back: images/s of a WideResNet-50 training step per tfjs backend and for
 * PyTorch, seconds to compute NC1–NC4 on K = 100, d = 2048, N = 50 000
 * synthetic features with `src/metrics` (float64 JavaScript, and float32
 * products on the native backend or wasm) and with the reference's method, the
 * ratios to the reference, and whether the metric values agree to 1e-4.
 * `--setup` first builds the Python side (bench/reference/README.md).
 */
import { type FlagSpec, runTask } from "./_cli.ts";
import { selectBackend, tf } from "../src/backend/mod.ts";
import { loadNativeBackend } from "../src/backend/native.ts";
import { UserError } from "../src/errors.ts";
import { joinPath, writeJsonAtomic } from "../src/io.ts";
import { writeNpy } from "../src/npy.ts";
import { syntheticFeatures } from "../src/metrics/mod.ts";
import {
  type ComparisonRow,
  formatAgreement,
  formatTable,
  median,
  metricAgreement,
  metricsRow,
  parseReferenceOutput,
  TRAIN_TARGET,
  trainingRow,
} from "../bench/reference/compare.ts";
import { timeMetrics, timeTrainingSteps } from "../bench/reference/ours.ts";
import { tfProjector } from "../src/backend/projector.ts";
import { runReference, setupVenv } from "../bench/reference/python.ts";

const USAGE =
  "deno task bench-reference [--setup] [--reps 5] [--widths 0.25,1] [--skip-train] [--skip-metrics] [--json out.json]";

const SPECS: FlagSpec[] = [
  { name: "setup", type: "boolean", default: false, help: "create bench/reference/.venv (torch, numpy, scipy) first" },
  { name: "python", type: "string", default: "python3", help: "interpreter that creates the venv (--setup)" },
  { name: "reps", type: "int", default: 5, min: 1, help: "timed repetitions per measurement (the median is reported)" },
  { name: "warmup", type: "int", default: 2, min: 0, help: "untimed training steps before timing" },
  {
    name: "widths",
    type: "numbers",
    min: 0,
    minExclusive: true,
    default: [0.25, 1],
    help: "WideResNet-50 widths to train",
  },
  { name: "backends", type: "list", default: ["tensorflow", "cpu"], help: "our tfjs backends to train on" },
  {
    name: "cpu-max-width",
    type: "number",
    default: 0.25,
    min: 0,
    help: "the cpu backend trains only widths up to this (one step takes minutes), with one timed repetition",
  },
  { name: "skip-train", type: "boolean", default: false, help: "skip the training comparison" },
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
];

const K = 100;
const D = 2048;

await runTask(USAGE, SPECS, async (flags) => {
  if (flags.setup) {
    const check = await setupVenv(flags.python as string, (l) => console.log(`setup: ${l}`));
    console.log(
      `setup: torch ${check.versions.torch}, CUDA ${check.cuda}, oneDNN ${check.mkldnn}; parameters ${
        (check.params ?? []).map((p) => `w=${p.width}: ${p.params}`).join(", ")
      } (as expected)`,
    );
  }
  const widths = flags.widths as number[];
  const backends = flags.backends as string[];
  for (const b of backends) {
    if (b !== "tensorflow" && b !== "cpu") {
      throw new UserError(`--backends: '${b}' cannot train; choose tensorflow and/or cpu (wasm has no conv gradients)`);
    }
  }
  const reps = flags.reps as number;
  const warmup = flags.warmup as number;
  const rows: ComparisonRow[] = [];
  const record: Record<string, unknown> = {
    date: new Date().toISOString(),
    cpus: navigator.hardwareConcurrency,
    loadavg_at_start: Deno.loadavg(),
    tfjs: tf.version_core,
    reps,
  };
  console.log(`${navigator.hardwareConcurrency} CPU threads, load average ${Deno.loadavg().join(" ")}`);

  // Two compute threads on both sides, like torch.set_num_threads(2); TensorFlow reads these when
  // its context is created, so before the native backend loads.
  Deno.env.set("TF_NUM_INTRAOP_THREADS", "2");
  Deno.env.set("TF_NUM_INTEROP_THREADS", "1");
  const native = await loadNativeBackend();
  if (!native.ok && backends.includes("tensorflow")) {
    console.log(`tensorflow backend unavailable (${native.reason}): the training comparison runs on cpu only`);
  }

  if (!flags["skip-train"]) {
    const training: unknown[] = [];
    for (const width of widths) {
      const ours: { backend: string; seconds: number[]; leaked: number }[] = [];
      for (const backend of backends) {
        if (backend === "tensorflow" && !native.ok) continue;
        if (backend === "cpu" && width > (flags["cpu-max-width"] as number)) continue;
        await selectBackend(backend as "tensorflow" | "cpu", { needsConvTraining: true });
        const r = backend === "cpu" ? 1 : reps;
        const w = backend === "cpu" ? Math.min(warmup, 1) : warmup;
        console.log(`training: tfjs ${backend}, width ${width}, ${w} warm-up + ${r} timed steps`);
        const t = await timeTrainingSteps(width, r, w);
        ours.push({ backend, seconds: t.seconds, leaked: t.leakedTensors });
        console.log(`  step seconds: ${t.seconds.map((v) => v.toFixed(2)).join(" ")}`);
      }
      console.log(`training: pytorch, width ${width}, ${warmup} warm-up + ${reps} timed steps`);
      const ref = parseReferenceOutput(
        await runReference(["--widths", String(width), "--reps", String(reps), "--warmup", String(warmup)]),
      );
      const refTrain = ref.train![0];
      console.log(`  step seconds: ${refTrain.step_seconds.map((v) => v.toFixed(2)).join(" ")}`);
      if (refTrain.params_expected !== null && refTrain.params !== refTrain.params_expected) {
        throw new Error(`PyTorch model has ${refTrain.params} parameters, expected ${refTrain.params_expected}`);
      }
      for (const o of ours) {
        const ips = 100 / median(o.seconds);
        const target = o.backend === "tensorflow" && width === 0.25 ? TRAIN_TARGET : null;
        const note = o.seconds.length === 1 ? "1 timed step" : `median of ${o.seconds.length}`;
        rows.push(trainingRow(`tfjs ${o.backend}`, width, ips, refTrain, target, note));
      }
      rows.push(
        trainingRow(
          `pytorch ${ref.versions.torch}`,
          width,
          refTrain.images_per_second,
          undefined,
          null,
          `median of ${refTrain.step_seconds.length}, ${ref.threads} threads`,
        ),
      );
      training.push({ width, ours, pytorch: refTrain });
    }
    record.training = training;
  }

  if (!flags["skip-metrics"]) {
    const n = flags.n as number;
    console.log(`metrics: generating N = ${n}, K = ${K}, d = ${D} synthetic features`);
    const data = syntheticFeatures(1, n, K, D, flags.noise as number);
    const dir = await Deno.makeTempDir({ prefix: "bench-reference-" });
    try {
      await Deno.writeFile(
        joinPath(dir, "features.npy"),
        writeNpy({ dtype: "float32", shape: [n, D], data: data.features }),
      );
      await Deno.writeFile(joinPath(dir, "labels.npy"), writeNpy({ dtype: "int32", shape: [n], data: data.labels }));
      await Deno.writeFile(
        joinPath(dir, "weights.npy"),
        writeNpy({ dtype: "float32", shape: [K, D], data: data.weights }),
      );
      await Deno.writeFile(joinPath(dir, "bias.npy"), writeNpy({ dtype: "float32", shape: [K], data: data.bias }));
      const metricReps = flags["metric-reps"] as number;
      // Ours twice: float64 JavaScript (the default), then float32 products on the fastest tfjs backend here.
      const projectedOn = native.ok ? "tensorflow" : "wasm";
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
      record.metrics = { ours: results, reference: ref };
      console.log(`agreement: ${allPass ? "PASS" : "FAIL"}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  record.rows = rows;
  record.loadavg_at_end = Deno.loadavg();
  console.log();
  console.log(formatTable(rows));
  console.log(`load average at the end: ${Deno.loadavg().join(" ")}`);
  if (flags.json) await writeJsonAtomic(flags.json as string, record);
});
