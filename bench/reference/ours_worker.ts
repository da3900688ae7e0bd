/**
 * Our side of one `deno task bench-reference` workload, in a process of its
 * own so that its peak resident memory is the workload's alone (the task
 * starts one per workload and backend). Prints one JSON line: a
 * `WorkloadResult` plus `backend` and `leaked_tensors`.
 *
 *   deno run --allow-read --allow-env --allow-ffi --allow-sys bench/reference/ours_worker.ts \
 *     --workload mlp --backend tensorflow --reps 5 --warmup 2 --steps-per-rep 50 --eval-batch 1000 --eval-samples 10000
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../../src/backend/mod.ts";
import { REFERENCE_WORKLOADS, type WorkloadResult } from "./compare.ts";
import { peakRssBytes, timeWorkload } from "./ours.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    workload: { type: "string" },
    backend: { type: "string", default: "tensorflow" },
    reps: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    "steps-per-rep": { type: "string" },
    "eval-batch": { type: "string", default: "1000" },
    "eval-samples": { type: "string", default: "10000" },
  },
});
const spec = REFERENCE_WORKLOADS[values.workload ?? ""];
if (!spec) throw new Error(`--workload: one of ${Object.keys(REFERENCE_WORKLOADS).join(", ")}`);
// Two compute threads, like torch.set_num_threads(2); TensorFlow reads this when its context is created.
// Inter-op threads keep TensorFlow's default, as training does (see tasks/bench_reference.ts).
Deno.env.set("TF_NUM_INTRAOP_THREADS", "2");
const backend = values.backend as "tensorflow" | "cpu" | "wasm";
await selectBackend(backend, { needsConvTraining: spec.model !== "mlp" && spec.kind === "train" });
const r = await timeWorkload(spec, {
  reps: Number(values.reps),
  warmup: Number(values.warmup),
  stepsPerRep: Number(values["steps-per-rep"] ?? spec.stepsPerRep),
  evalBatch: Number(values["eval-batch"]),
  evalSamples: Number(values["eval-samples"]),
});
const out: WorkloadResult & { backend: string; leaked_tensors: number } = {
  workload: values.workload!,
  backend,
  step_seconds: r.seconds,
  images_per_second: r.imagesPerSecond,
  peak_rss_bytes: peakRssBytes(),
  params: r.params,
  leaked_tensors: r.leakedTensors,
};
console.log(JSON.stringify(out));
