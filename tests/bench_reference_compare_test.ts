import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import {
  AGREEMENT_TOLERANCE,
  formatAgreement,
  formatTable,
  median,
  MEMORY_LIMIT,
  memoryRow,
  metricAgreement,
  metricsRow,
  pairedRounds,
  parseReferenceOutput,
  REFERENCE_WORKLOADS,
  relativeDifference,
  throughputRow,
  trainingRow,
} from "../bench/reference/compare.ts";
import { UserError } from "../src/errors.ts";

// What reference_bench.py printed on the 2-core machine (trimmed to one width), preceded by a
// warning line as torch sometimes prints one.
const SAMPLE = `UserWarning: something torch said
{"versions": {"torch": "2.5.1+cu124", "numpy": "2.4.6", "scipy": "1.17.1", "python": "3.11.7"}, "threads": 2,
 "mkldnn": true, "cuda": false,
 "train": [{"width": 0.25, "batch": 100, "classes": 10, "params": 5880074, "params_expected": 5880074,
   "step_seconds": [1.2, 1.0, 1.1], "median_step_seconds": 1.1, "images_per_second": 90.9090909090909}],
 "nc": {"n": 50000, "d": 2048, "k": 100, "timed_samples": 2000, "extrapolated": true,
   "note": "per-sample loops timed on 2000 of 50000 samples and scaled linearly to 50000",
   "seconds_runs": [400.0], "median_seconds": 400.0, "parts": {"sigma_w_per_sample": 380.0, "pinv": 20.0},
   "metrics": {"nc1": 12.5, "nc2": 0.3, "nc3": 0.4, "nc4_bias": 51.0}}}`.replace(/\n /g, " ");

Deno.test("parseReferenceOutput reads the last line and keeps every field", () => {
  const out = parseReferenceOutput(SAMPLE);
  assertEquals(out.versions.torch, "2.5.1+cu124");
  assertEquals(out.train![0].params, 5880074);
  assertEquals(out.nc!.extrapolated, true);
  assertEquals(out.nc!.metrics.nc4_bias, 51);
});

Deno.test("parseReferenceOutput rejects empty, non-JSON and incomplete output", () => {
  assertThrows(() => parseReferenceOutput("\n\n"), UserError, "printed nothing");
  assertThrows(() => parseReferenceOutput("Traceback (most recent call last)"), UserError, "not JSON");
  assertThrows(() => parseReferenceOutput('{"threads": 2}'), UserError, "versions.torch");
  const noNc1 = JSON.parse(SAMPLE.split("\n").at(-1)!);
  delete noNc1.nc.metrics.nc1;
  assertThrows(() => parseReferenceOutput(JSON.stringify(noNc1)), UserError, "nc.metrics.nc1");
});

Deno.test("median of odd and even counts", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assert(Number.isNaN(median([])));
});

Deno.test("ratios are oriented so that > 1 means we are faster", () => {
  const ref = parseReferenceOutput(SAMPLE);
  const train = trainingRow("tfjs tensorflow", 0.25, 45.45454545, ref.train![0], 0.8);
  assertClose(train.ratio!, 0.5, { abs: 1e-9 });
  const metrics = metricsRow("ours", 4, ref.nc!.median_seconds);
  assertEquals(metrics.ratio, 100);
  assertEquals(metrics.target, 20);
  assertEquals(metricsRow("reference method", 400, null).ratio, null);
});

Deno.test("metricAgreement passes within 1e-4 relative and fails beyond", () => {
  const ref = { nc1: 12.5, nc2: 0.3, nc3: 0.4, nc4_bias: 0 };
  const rows = metricAgreement({ nc1: 12.5 * (1 + 5e-5), nc2: 0.3, nc3: 0.4 * (1 + 3e-4), nc4_bias: 1e-6 }, ref);
  assertEquals(rows.map((r) => r.pass), [true, true, false, true]);
  assertClose(relativeDifference(1.0001, 1), 1e-4, { abs: 1e-12 });
  assertEquals(AGREEMENT_TOLERANCE, 1e-4);
});

Deno.test("formatTable and formatAgreement lay out aligned Markdown with verdicts", () => {
  const ref = parseReferenceOutput(SAMPLE);
  const table = formatTable([
    trainingRow("tfjs tensorflow", 0.25, 100, ref.train![0], 0.8, "median of 3"),
    trainingRow("tfjs cpu", 0.25, 9.09090909, ref.train![0], null, "1 timed step"),
    trainingRow("pytorch", 0.25, 90.909, undefined),
    metricsRow("ours", 10, 400),
  ]);
  const lines = table.split("\n");
  assertEquals(lines.length, 6);
  assert(lines.every((l) => l.length === lines[0].length), "columns are padded to one width");
  assert(lines[2].includes("1.10×") && lines[2].includes("≥ 0.8×") && lines[2].includes("met"));
  assert(lines[3].includes("0.100×") && !lines[3].includes("met"));
  assert(lines[4].includes("1 (reference)"));
  assert(lines[5].includes("40.00×") && lines[5].includes("≥ 20×") && lines[5].includes("met"));
  const agree = formatAgreement(metricAgreement(ref.nc!.metrics, ref.nc!.metrics));
  assertEquals(agree.split("\n").filter((l) => l.includes("PASS")).length, 4);
});

Deno.test("workload rows: throughput > 1 when we are faster; memory > 1 when we use less; WRN memory target", () => {
  const line = JSON.stringify({
    versions: { torch: "2.5.1" },
    threads: 2,
    mkldnn: true,
    cuda: false,
    workload: {
      workload: "mlp",
      step_seconds: [0.003, 0.0025],
      images_per_second: 40000,
      peak_rss_bytes: 3e8,
      params: 335882,
      params_expected: null,
    },
  });
  const ref = parseReferenceOutput(line).workload!;
  assertEquals(ref.workload, "mlp");
  const fast = throughputRow("tfjs tensorflow", "mlp", 20000, ref.images_per_second);
  assertEquals(fast.ratio, 0.5);
  assertEquals(fast.target, 1);
  assertEquals(fast.workload, REFERENCE_WORKLOADS.mlp.label);
  assertEquals(throughputRow("tfjs tensorflow", "mlp-eval", 1, 1).target, 1);
  assertEquals(throughputRow("pytorch", "mlp", 1, null).ratio, null);
  const mem = memoryRow("tfjs tensorflow", "wrn50-1", 4e9, 3e9);
  assertEquals(mem.ratio, 0.75);
  assertEquals(mem.value, 4);
  assertClose(mem.target!, 1 / MEMORY_LIMIT, { abs: 1e-12 });
  assert(formatTable([mem]).includes("short"), "4 GB against 3 GB is more than 1.25×");
  assertEquals(memoryRow("tfjs tensorflow", "mlp", 4e8, 3e8).target, null, "no memory target for the MLP");
  const bad = JSON.parse(line);
  delete bad.workload.images_per_second;
  assertThrows(() => parseReferenceOutput(JSON.stringify(bad)), UserError, "malformed workload");
  for (const [id, spec] of Object.entries(REFERENCE_WORKLOADS)) {
    assert(spec.stepsPerRep >= 1 && spec.width > 0, id);
  }
});

Deno.test("pairedRounds: each side's median, and the median of the rounds' ratios", () => {
  // Round 2 ran while the machine was slow for both sides: its ratio (1.25) is sound, its speeds are not.
  const p = pairedRounds([100, 50, 90], [100, 40, 100]);
  assertEquals(p, { ours: 90, reference: 100, ratio: 1 });
  // The ratio of the medians would be 0.9; the rounds' own ratios are 1, 1.25 and 0.9.
  assertEquals(pairedRounds([3], [2]).ratio, 1.5);
  assertThrows(() => pairedRounds([1, 2], [1]), Error, "2 rounds of ours against 1");
  assertThrows(() => pairedRounds([], []), Error, "0 rounds");
  const row = throughputRow("tfjs tensorflow", "mlp-eval", p.ours, p.reference, "", p.ratio);
  assertEquals(row.ratio, 1, "the paired ratio, not 90 / 100");
});
