/**
 * The pure part of `deno task bench-reference`: reads the JSON that
 * `bench/reference/reference_bench.py` prints, takes medians and ratios,
 * checks that the metric values agree, and lays the results out as a table.
 * Nothing here runs Python or TensorFlow.js, so it is tested on stored samples.
 *
 * @example
 * ```ts
 * const ref = parseReferenceOutput(stdout);
 * const rows = [trainingRow("tensorflow", 0.25, 30, ref.train![0])];
 * console.log(formatTable(rows));
 * ```
 *
 * @module
 */
import { UserError } from "../../src/errors.ts";

/** The metrics both sides report and compare (seed-spec.md's NC1–NC4). */
export const COMPARED_METRICS = ["nc1", "nc2", "nc3", "nc4_bias"] as const;
/** One of {@linkcode COMPARED_METRICS}. */
export type ComparedMetric = typeof COMPARED_METRICS[number];
/** Relative agreement required of every compared metric. */
export const AGREEMENT_TOLERANCE = 1e-4;
/** Our native-backend training throughput must reach this fraction of PyTorch's (issue #13: every model). */
export const TRAIN_TARGET = 1;
/** Our evaluation forward passes must reach this fraction of PyTorch's inference images/s. */
export const EVAL_TARGET = 1;
/** Peak resident memory of our WideResNet steps may be at most this multiple of PyTorch's. */
export const MEMORY_LIMIT = 1.25;

/** A workload both sides run, each in a process of its own (so that peak resident memory is the workload's). */
export interface WorkloadSpec {
  /** What the table calls it. */
  label: string;
  /** `createModel`'s name. */
  model: "mlp" | "resnet18" | "wide_resnet50";
  width: number;
  /** `train`: SGD steps; `eval`: evaluation passes over `evalSamples` inputs. */
  kind: "train" | "eval";
  /** Our sample shape (NHWC images, or vectors). */
  sampleShape: number[];
  /** Steps (or evaluation passes) timed together per repetition: the MLP's take milliseconds. */
  stepsPerRep: number;
}

/**
 * The workloads of `deno task bench-reference`, by the id that both
 * `ours_worker.ts` and `reference_bench.py --workload` take. Training: batch
 * 100, K = 10, cross entropy, SGD lr 0.1 momentum 0.9 weight decay 5e-4, clip
 * 2. Evaluation: what `deno task evaluate` does per batch of the MLP.
 */
export const REFERENCE_WORKLOADS: Readonly<Record<string, WorkloadSpec>> = {
  "mlp": {
    label: "train MLP 784-3×256-10",
    model: "mlp",
    width: 1,
    kind: "train",
    sampleShape: [784],
    stepsPerRep: 300, // about 1 s a repetition: 50 steps (0.15 s) let one hiccup move the median
  },
  "mlp-eval": {
    label: "evaluate MLP 784-3×256-10",
    model: "mlp",
    width: 1,
    kind: "eval",
    sampleShape: [784],
    // About 1 s a repetition: single 40 ms passes let one hiccup of the machine move the median by half.
    stepsPerRep: 25,
  },
  "resnet18-0.25": {
    label: "train ResNet-18 w=0.25",
    model: "resnet18",
    width: 0.25,
    kind: "train",
    sampleShape: [32, 32, 3],
    stepsPerRep: 1,
  },
  "resnet18-1": {
    label: "train ResNet-18 w=1",
    model: "resnet18",
    width: 1,
    kind: "train",
    sampleShape: [32, 32, 3],
    stepsPerRep: 1,
  },
  "wrn50-0.25": {
    label: "train WRN-50 w=0.25",
    model: "wide_resnet50",
    width: 0.25,
    kind: "train",
    sampleShape: [32, 32, 3],
    stepsPerRep: 1,
  },
  "wrn50-1": {
    label: "train WRN-50 w=1",
    model: "wide_resnet50",
    width: 1,
    kind: "train",
    sampleShape: [32, 32, 3],
    stepsPerRep: 1,
  },
};

/** One workload's timing and memory from one process (either side). */
export interface WorkloadResult {
  workload: string;
  /** Seconds per step (training) or per evaluation pass, one per repetition. */
  step_seconds: number[];
  images_per_second: number;
  /** The process's peak resident set (getrusage maxRSS), bytes; null where unknown. */
  peak_rss_bytes: number | null;
  params: number;
}
/** Our metric computation must be this many times faster than the reference's method. */
export const METRICS_TARGET = 20;

/** One width's training timing from the Python script. */
export interface ReferenceTraining {
  width: number;
  batch: number;
  params: number;
  params_expected: number | null;
  step_seconds: number[];
  median_step_seconds: number;
  images_per_second: number;
}

/** The reference-method metric timing from the Python script. */
export interface ReferenceMetrics {
  n: number;
  d: number;
  k: number;
  timed_samples: number;
  /** True when the per-sample loops ran on a prefix and were scaled to N. */
  extrapolated: boolean;
  note: string;
  seconds_runs: number[];
  median_seconds: number;
  parts: Record<string, number>;
  /** Values from the vectorised float64 equivalent on all N samples. */
  metrics: Record<ComparedMetric, number>;
}

/** Everything `reference_bench.py` prints (one JSON object). */
export interface ReferenceOutput {
  versions: Record<string, string>;
  threads: number;
  mkldnn: boolean;
  cuda: boolean;
  train?: ReferenceTraining[];
  nc?: ReferenceMetrics;
  params?: { width: number; params: number; params_expected: number | null }[];
  /** With `--workload`: that workload's result. */
  workload?: WorkloadResult & { params_expected: number | null };
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * Parses and checks the Python script's stdout: the last non-empty line must
 * be its JSON object (anything printed before it, e.g. warnings, is skipped).
 * Throws {@linkcode UserError} naming what is missing.
 */
export function parseReferenceOutput(stdout: string): ReferenceOutput {
  const lines = stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const last = lines.at(-1);
  if (last === undefined) throw new UserError("reference_bench.py printed nothing");
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch {
    throw new UserError(`reference_bench.py: last line is not JSON: ${last.slice(0, 200)}`);
  }
  const out = value as ReferenceOutput;
  if (typeof out !== "object" || out === null || typeof out.versions?.torch !== "string") {
    throw new UserError("reference_bench.py: output lacks versions.torch");
  }
  for (const t of out.train ?? []) {
    if (!isFiniteNumber(t.width) || !isFiniteNumber(t.images_per_second) || !Array.isArray(t.step_seconds)) {
      throw new UserError(`reference_bench.py: malformed training entry ${JSON.stringify(t).slice(0, 200)}`);
    }
  }
  const w = out.workload;
  if (w && (typeof w.workload !== "string" || !isFiniteNumber(w.images_per_second) || !Array.isArray(w.step_seconds))) {
    throw new UserError(`reference_bench.py: malformed workload entry ${JSON.stringify(w).slice(0, 200)}`);
  }
  if (out.nc) {
    if (!isFiniteNumber(out.nc.median_seconds)) throw new UserError("reference_bench.py: nc.median_seconds missing");
    for (const m of COMPARED_METRICS) {
      if (!isFiniteNumber(out.nc.metrics?.[m])) throw new UserError(`reference_bench.py: nc.metrics.${m} missing`);
    }
  }
  return out;
}

/** The median of `values` (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** |ours − reference| / |reference| (absolute difference when the reference is 0). */
export function relativeDifference(ours: number, reference: number): number {
  const diff = Math.abs(ours - reference);
  return reference === 0 ? diff : diff / Math.abs(reference);
}

/** One metric's values on both sides. */
export interface MetricAgreement {
  metric: ComparedMetric;
  ours: number;
  reference: number;
  relative: number;
  pass: boolean;
}

/** Compares every metric of {@linkcode COMPARED_METRICS} to `tolerance` relative. */
export function metricAgreement(
  ours: Record<ComparedMetric, number>,
  reference: Record<ComparedMetric, number>,
  tolerance = AGREEMENT_TOLERANCE,
): MetricAgreement[] {
  return COMPARED_METRICS.map((metric) => {
    const relative = relativeDifference(ours[metric], reference[metric]);
    return { metric, ours: ours[metric], reference: reference[metric], relative, pass: relative <= tolerance };
  });
}

/** One line of the comparison table. */
export interface ComparisonRow {
  /** What was measured, e.g. `train WRN-50 w=0.25`. */
  workload: string;
  /** Who ran it: `tfjs tensorflow`, `tfjs cpu`, `ours`, `pytorch`, `reference method`. */
  side: string;
  value: number;
  unit: "img/s" | "s" | "GB";
  /** Ours relative to the reference, oriented so that > 1 means we are faster; null on the reference's own row. */
  ratio: number | null;
  /** The ratio we aim for, when there is one. */
  target: number | null;
  note: string;
}

/** A training row: images/s and the ratio to PyTorch's images/s (> 1: we are faster). */
export function trainingRow(
  side: string,
  width: number,
  imagesPerSecond: number,
  reference: ReferenceTraining | undefined,
  target: number | null = null,
  note = "",
): ComparisonRow {
  return {
    workload: `train WRN-50 w=${width}`,
    side,
    value: imagesPerSecond,
    unit: "img/s",
    ratio: reference ? imagesPerSecond / reference.images_per_second : null,
    target,
    note,
  };
}

/**
 * Images/s of the two sides over rounds run in turn (ours, theirs, ours,
 * theirs, …): each side's median, and the median of the rounds' ratios
 * (ours / theirs), which a drift in the machine's speed moves less than it
 * moves the ratio of the medians.
 *
 * @example
 * ```ts
 * pairedRounds([100, 50, 90], [100, 40, 100]); // { ours: 90, reference: 100, ratio: 1 }
 * ```
 */
export function pairedRounds(
  ours: readonly number[],
  reference: readonly number[],
): { ours: number; reference: number; ratio: number } {
  if (ours.length === 0 || ours.length !== reference.length) {
    throw new Error(`pairedRounds: ${ours.length} rounds of ours against ${reference.length} of the reference`);
  }
  return { ours: median(ours), reference: median(reference), ratio: median(ours.map((v, i) => v / reference[i])) };
}

/**
 * A throughput row of a {@linkcode REFERENCE_WORKLOADS} entry: images/s, and
 * the ratio to PyTorch's (> 1: we are faster), by default ours over theirs
 * (`ratio` gives it where it was taken otherwise, as {@linkcode pairedRounds}'s).
 */
export function throughputRow(
  side: string,
  id: string,
  imagesPerSecond: number,
  referenceImagesPerSecond: number | null,
  note = "",
  ratio = referenceImagesPerSecond === null ? null : imagesPerSecond / referenceImagesPerSecond,
): ComparisonRow {
  const spec = REFERENCE_WORKLOADS[id];
  return {
    workload: spec?.label ?? id,
    side,
    value: imagesPerSecond,
    unit: "img/s",
    ratio,
    target: referenceImagesPerSecond === null ? null : spec?.kind === "eval" ? EVAL_TARGET : TRAIN_TARGET,
    note,
  };
}

/**
 * A peak-memory row: GB resident, and PyTorch's peak over ours (> 1: we use
 * less). The WideResNets' target, ours ≤ {@linkcode MEMORY_LIMIT}× PyTorch's,
 * is this ratio ≥ 1 / MEMORY_LIMIT.
 */
export function memoryRow(
  side: string,
  id: string,
  bytes: number,
  referenceBytes: number | null,
  note = "",
): ComparisonRow {
  const spec = REFERENCE_WORKLOADS[id];
  return {
    workload: `${spec?.label ?? id}: peak RSS`,
    side,
    value: bytes / 1e9,
    unit: "GB",
    ratio: referenceBytes === null ? null : referenceBytes / bytes,
    target: referenceBytes === null || spec?.model !== "wide_resnet50" ? null : 1 / MEMORY_LIMIT,
    note,
  };
}

/** A metrics row: seconds and the speed-up over the reference method (its seconds / ours). */
export function metricsRow(side: string, seconds: number, referenceSeconds: number | null, note = ""): ComparisonRow {
  return {
    workload: "NC1–NC4 K=100 d=2048 N=50000",
    side,
    value: seconds,
    unit: "s",
    ratio: referenceSeconds === null ? null : referenceSeconds / seconds,
    target: referenceSeconds === null ? null : METRICS_TARGET,
    note,
  };
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** A Markdown table of `rows` (also readable as plain text). */
export function formatTable(rows: readonly ComparisonRow[]): string {
  const head = ["workload", "side", "value", "unit", "× reference", "target", "verdict", "note"];
  const body = rows.map((r) => [
    r.workload,
    r.side,
    formatValue(r.value),
    r.unit,
    r.ratio === null ? "1 (reference)" : `${formatValue(r.ratio)}×`,
    r.target === null ? "" : `≥ ${r.target}×`,
    r.target === null || r.ratio === null ? "" : r.ratio >= r.target ? "met" : "short",
    r.note,
  ]);
  return markdown(head, body);
}

/** A Markdown table of the metric values on both sides with PASS/FAIL; `ours` heads our column. */
export function formatAgreement(
  rows: readonly MetricAgreement[],
  ours = "ours (src/metrics)",
  tolerance = AGREEMENT_TOLERANCE,
): string {
  const head = ["metric", ours, "reference (float64)", "relative difference", `≤ ${tolerance}`];
  const body = rows.map((r) => [
    r.metric,
    r.ours.toPrecision(10),
    r.reference.toPrecision(10),
    r.relative.toExponential(2),
    r.pass ? "PASS" : "FAIL",
  ]);
  return markdown(head, body);
}

function markdown(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
