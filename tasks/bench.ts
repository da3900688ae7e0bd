/**
 * `deno task bench`: for each backend that loads (tensorflow, wasm, cpu), the
 * GFLOP/s of a 1024×1024 matMul, images/s of a WideResNet-50 (width 0.25)
 * training step on batches of 100 32×32×3 images, and images/s of an MLP step
 * on 784-d inputs; NumPy's GFLOP/s for the same product beside them. On the
 * native backend each step is measured twice in the same process: op by op
 * (eager tfjs) and as the TensorFlow graph training uses (`src/backend/graph`).
 * Record the figures in BENCHMARKS.md.
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { type BackendName, selectBackend, tf } from "../src/backend/mod.ts";
import { loadNativeBackend } from "../src/backend/native.ts";
import { UserError } from "../src/errors.ts";
import { writeJsonAtomic } from "../src/io.ts";
import {
  matMulGflops,
  MLP_STEP,
  numpyMatMulGflops,
  type TimingOptions,
  trainStepThroughput,
  WRN_STEP,
} from "../bench/workloads.ts";

const USAGE =
  "deno task bench [--backends tensorflow,wasm,cpu] [--workloads matmul,mlp,wrn] [--min-seconds 3] [--json out.json]";
const ALL_BACKENDS = ["tensorflow", "wasm", "cpu"] as const;
const ALL_WORKLOADS = ["matmul", "mlp", "wrn"] as const;
const MATMUL_N = 1024;

interface Row {
  backend: string;
  workload: string;
  value: number | null;
  unit: string;
  /** Wall-clock and process CPU seconds per repetition (absent for skipped rows and NumPy). */
  seconds?: number;
  cpuSeconds?: number;
  note: string;
}

function fmtSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`;
}

function times(t: { seconds: number; cpuSeconds: number }): { seconds: number; cpuSeconds: number } {
  return { seconds: t.seconds, cpuSeconds: t.cpuSeconds };
}

const FLAGS = defineFlags([
  { name: "backends", type: "list", default: [...ALL_BACKENDS], help: "backends to measure, in order" },
  { name: "workloads", type: "list", default: [...ALL_WORKLOADS], help: "what to measure" },
  { name: "min-seconds", type: "number", default: 3, min: 0, help: "time each measurement for at least this long" },
  { name: "json", type: "path", expect: "file", help: "also write the rows to this JSON file" },
]);

/** Throws {@linkcode UserError} for a backend or workload this task does not know. */
function checkChoices(backends: readonly string[], workloads: readonly string[]): void {
  for (const b of backends) {
    if (!(ALL_BACKENDS as readonly string[]).includes(b)) {
      throw new UserError(`--backends: unknown backend '${b}'; choose from ${ALL_BACKENDS.join(", ")}`);
    }
  }
  for (const w of workloads) {
    if (!(ALL_WORKLOADS as readonly string[]).includes(w)) {
      throw new UserError(`--workloads: unknown workload '${w}'; choose from ${ALL_WORKLOADS.join(", ")}`);
    }
  }
}

/** Keeps a row and prints it as one line of the table. */
function reportRow(rows: Row[], r: Row): void {
  rows.push(r);
  const value = r.value === null ? "—" : r.value.toFixed(r.value >= 100 ? 0 : 2);
  const time = r.seconds === undefined ? "" : `${fmtSeconds(r.seconds)} wall, ${fmtSeconds(r.cpuSeconds!)} CPU per rep`;
  console.log(
    `${r.backend.padEnd(11)} ${r.workload.padEnd(30)} ${value.padStart(8)} ${r.unit.padEnd(8)} ${
      time.padEnd(32)
    } ${r.note}`,
  );
}

/** NumPy's GFLOP/s of the same product, as a row (or why it was skipped). */
async function numpyRow(minSeconds: number): Promise<Row> {
  const np = await numpyMatMulGflops(MATMUL_N, minSeconds);
  return {
    backend: "numpy",
    workload: `matMul ${MATMUL_N}x${MATMUL_N} f32`,
    value: typeof np === "string" ? null : np.gflops,
    unit: "GFLOP/s",
    ...(typeof np === "string" ? {} : times(np)),
    note: typeof np === "string" ? np : `NumPy ${np.numpy}`,
  };
}

/**
 * Makes `backend` the tfjs backend; returns the note of its rows, or null
 * (with a skipped row reported) when the native backend does not load.
 */
async function loadBackend(backend: string, report: (r: Row) => void): Promise<string | null> {
  let note = "";
  if (backend === "tensorflow") {
    const native = await loadNativeBackend();
    if (!native.ok) {
      report({ backend, workload: "(all)", value: null, unit: "", note: `skipped: ${native.reason}` });
      return null;
    }
    note = `${native.info.package}, TF ${native.info.tensorflowVersion}, ${native.info.gpu ? "GPU" : "CPU"}`;
  }
  // A --backends list item, checked against ALL_BACKENDS above (list flags carry no choices).
  await selectBackend(backend as BackendName, { needsConvTraining: false });
  return note;
}

/** Times the workloads on one backend (already selected), reporting a row for each. */
async function measureBackend(
  backend: string,
  workloads: readonly string[],
  minSeconds: number,
  note: string,
  report: (r: Row) => void,
): Promise<void> {
  // The plain-JS backend takes minutes per WRN step: one untimed warm-up
  // would double that for little gain, so it gets a single timed step.
  const t: TimingOptions = backend === "cpu"
    ? { warmup: 0, minReps: 1, minSeconds: 0 }
    : { warmup: 1, minReps: 3, minSeconds };
  if (workloads.includes("matmul")) {
    const r = await matMulGflops(MATMUL_N, t);
    report({
      backend,
      workload: `matMul ${MATMUL_N}x${MATMUL_N} f32`,
      value: r.gflops,
      unit: "GFLOP/s",
      ...times(r),
      note,
    });
  }
  // On the native backend each step is timed op by op (eager) and as the TensorFlow graph training uses.
  const modes = backend === "tensorflow" ? [false, true] : [false];
  const label = (graphs: boolean) => backend !== "tensorflow" ? "" : graphs ? " (graph)" : " (op by op)";
  if (workloads.includes("mlp")) {
    for (const graphs of modes) {
      const r = await trainStepThroughput(MLP_STEP, t, graphs);
      report({
        backend,
        workload: `MLP step, batch 100, 784-d${label(graphs)}`,
        value: r.imagesPerSecond,
        unit: "img/s",
        ...times(r),
        note,
      });
    }
  }
  if (workloads.includes("wrn")) {
    const workload = "WRN-50 w=0.25 step, batch 100";
    if (backend === "wasm") {
      report({
        backend,
        workload,
        value: null,
        unit: "img/s",
        note: "skipped: no WASM Conv2DBackpropFilter in tfjs 4.22",
      });
      return;
    }
    for (const graphs of modes) {
      const r = await trainStepThroughput(WRN_STEP, t, graphs);
      report({
        backend,
        workload: workload + label(graphs),
        value: r.imagesPerSecond,
        unit: "img/s",
        ...times(r),
        note,
      });
    }
  }
}

/** Times each workload on each backend that loads, one line per measurement. */
async function main(flags: FlagValues<typeof FLAGS>): Promise<void> {
  const backends = flags.backends;
  const workloads = flags.workloads;
  checkChoices(backends, workloads);
  const minSeconds = flags["min-seconds"];
  const rows: Row[] = [];
  const report = (r: Row): void => reportRow(rows, r);
  if (workloads.includes("matmul")) report(await numpyRow(minSeconds));
  for (const backend of backends) {
    const note = await loadBackend(backend, report);
    if (note !== null) await measureBackend(backend, workloads, minSeconds, note, report);
  }
  console.log(
    `(${navigator.hardwareConcurrency} CPU threads; load average ${
      Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
    }; ` +
      `tfjs ${tf.version_core}; wall-clock figures shrink when other processes share the CPUs)`,
  );
  if (flags.json) await writeJsonAtomic(flags.json, rows);
}

if (import.meta.main) {
  await runTask(USAGE, FLAGS, main);
}
