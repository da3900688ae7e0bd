/**
 * `ufmReportSection`: the UFM experiment (`ufm.json`, written by
 * `deno task ufm`) as a section of the experiment report that `src/plot/`'s
 * `buildReport` assembles: a table per loss, one sentence per claim of the
 * paper's theory with the numbers that back it, and the key figures.
 */
import { UserError } from "../errors.ts";
import type { FigureSpec, ReportSection } from "../plot/mod.ts";
// See `ufm_line_figure.ts` for why not `../plot/mod.ts`.
import { lossStyle } from "../plot/loss_style.ts";
import type { UfmExperimentRecord, UfmRunRecord } from "./ufm_experiment.ts";
import type { UfmSweepPoint } from "./sweep_ufm.ts";

/**
 * Below these a solve counts as the Neural-Collapse global optimum. Rounding
 * leaves NC1 ≈ 1e-16 and NC2, NC3 ≈ 1e-8 at ‖∇f‖ ≈ 1e-10 (NC2/NC3 are
 * distances of normalised Gram matrices, so they go as the square root of
 * the objective's rounding); the bounds leave two orders of margin.
 */
const TOL = { nc1: 1e-6, etf: 1e-4, gap: 1e-6, norm: 1e-4 };

/** Figures the section shows, in this order, when the record has them. */
const KEY_FIGURES = [
  "ufm-dynamics-nc1",
  "ufm-dynamics-nc2",
  "ufm-dynamics-gap",
  "ufm-sweep-focal_loss-gamma-nc",
  "ufm-sweep-focal_loss-gamma-norms",
  "ufm-sweep-label_smoothing-smoothing-norms",
  "ufm-sweep-lambda-nc2",
  "ufm-sweep-lambda-normw",
];

const SWEEP_NAMES: Record<keyof UfmExperimentRecord["sweeps"], string> = {
  gamma: "FL γ",
  smoothing: "LS α",
  lambda: "λ = λ_W = λ_H = λ_b",
};

const sci = (v: number): string => v === 0 ? "0" : v.toExponential(1);
const num = (v: number): string => Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toPrecision(6) : sci(v);
const max = (xs: number[]): number => Math.max(...xs);
const relErr = (x: number, ref: number): number => Math.abs(x - ref) / Math.abs(ref);

function lossLabel(r: UfmRunRecord): string {
  return lossStyle({ loss: r.options.loss, loss_params: r.options.lossParams as Record<string, number> }).label;
}

function table(runs: readonly UfmRunRecord[]): string {
  const rows = [
    ["loss", "NC1", "NC2", "NC3", "‖W‖_F (L-BFGS / predicted)", "‖H‖_F", "‖b‖₂", "f − f*"],
    ...runs.map((r) => [
      lossLabel(r),
      sci(r.nc.nc1),
      sci(r.nc.nc2),
      sci(r.nc.nc3),
      `${num(r.normW)} / ${num(r.reference.normW)}`,
      `${num(r.normH)} / ${num(r.reference.normH)}`,
      `${num(r.normB)} / ${num(r.reference.normB)}`,
      sci(r.objective - r.reference.objective),
    ]),
  ];
  return [rows[0], rows[0].map(() => "---"), ...rows.slice(1)].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** Claim 1 (Theorem 3.1): the solves from random starts land on the NC point the reduction predicts. */
function globalMinimiserClaim(runs: readonly UfmRunRecord[]): string {
  const nc1 = max(runs.map((r) => r.nc.nc1));
  const etf = max(runs.flatMap((r) => [r.nc.nc2, r.nc.nc3]));
  const gap = max(runs.map((r) => relErr(r.objective, r.reference.objective)));
  const norm = max(runs.flatMap((r) => [relErr(r.normW, r.reference.normW), relErr(r.normH, r.reference.normH)]));
  const failed = runs.filter((r) =>
    !(r.nc.nc1 < TOL.nc1 && r.nc.nc2 < TOL.etf && r.nc.nc3 < TOL.etf) ||
    !(relErr(r.objective, r.reference.objective) < TOL.gap)
  ).map(lossLabel);
  const losses = runs.map(lossLabel).join(", ");
  const evidence = `max NC1 ${sci(nc1)}, max NC2/NC3 ${sci(etf)}, objective equal to the reduced optimum f* to a ` +
    `relative ${sci(gap)}, ‖W‖_F and ‖H‖_F equal to the predicted ones to a relative ${sci(norm)}`;
  return failed.length === 0
    ? `**NC solutions are the global minimisers for every loss solved (${losses}).** From a random start, L-BFGS ` +
      `reaches the Neural-Collapse point that the reduction to the ETF scale predicts: ${evidence}.`
    : `**Not confirmed for ${failed.join(", ")}:** the solve stopped away from the predicted Neural-Collapse ` +
      `optimum (${evidence}; thresholds NC1 < ${TOL.nc1}, NC2/NC3 < ${TOL.etf}, gap < ${TOL.gap}).`;
}

function sweepSummary(name: string, pts: readonly UfmSweepPoint[]): { text: string; ok: boolean } {
  const values = [...new Set(pts.map((p) => p.value))];
  const etf = max(pts.flatMap((p) => [p.nc2, p.nc3]));
  const norm = max(pts.map((p) => relErr(p.normW, p.referenceNormW)));
  // Per loss, so that a sweep over several losses reports how λ moves the norms, not how the losses differ.
  const ranges = [...new Set(pts.map((p) => p.loss))].map((loss) => {
    const w = pts.filter((p) => p.loss === loss).map((p) => p.normW);
    return { loss, lo: Math.min(...w), hi: max(w) };
  });
  const moves = ranges.length === 1
    ? `‖W‖_F ranges over ${num(ranges[0].lo)}–${num(ranges[0].hi)}`
    : `‖W‖_F changes by a factor of ${Math.min(...ranges.map((r) => r.hi / r.lo)).toFixed(2)}–` +
      `${max(ranges.map((r) => r.hi / r.lo)).toFixed(2)} across the values, depending on the loss`;
  const agree = `L-BFGS = prediction to ${sci(norm)}`;
  return {
    text: `${name} ∈ {${values.join(", ")}}: NC2/NC3 ≤ ${sci(etf)} while ${moves} (${agree})`,
    ok: etf < TOL.etf && norm < TOL.norm,
  };
}

/** Claim 2: the optimum stays a simplex ETF over the swept hyper-parameters; only its scale moves. */
function persistenceClaim(sweeps: UfmExperimentRecord["sweeps"]): string {
  const parts = (Object.keys(SWEEP_NAMES) as (keyof typeof SWEEP_NAMES)[])
    .filter((k) => sweeps[k]?.length)
    .map((k) => sweepSummary(SWEEP_NAMES[k], sweeps[k]));
  if (parts.length === 0) return "No γ, α or λ sweeps were run (`deno task ufm --no-sweep`).";
  const ok = parts.every((p) => p.ok);
  return `**${ok ? "The" : "Not confirmed: the"} ETF structure persists across the sweeps while the norms change.** ` +
    `${parts.map((p) => p.text).join("; ")}.`;
}

/**
 * Returns the report section for a UFM experiment record (the object in
 * `ufm.json`): a Markdown table with, per loss, NC1–NC3, ‖W‖_F, ‖H‖_F, ‖b‖₂
 * from L-BFGS beside the reduction's prediction and the objective gap
 * f − f*; one sentence per claim (NC solutions are the global minimisers;
 * the ETF persists across γ, α, λ while the norms change), each stating the
 * numbers behind it and saying "not confirmed" when they miss the bounds;
 * and the key dynamics and sweep figures as line-figure specifications.
 * Throws {@linkcode UserError} when the record has no runs.
 *
 * @example
 * ```ts
 * const record = JSON.parse(await Deno.readTextFile("runs/ufm/ufm.json"));
 * const report = buildReport(runs, [ufmReportSection(record)]); // buildReport from src/plot/mod.ts
 * ```
 */
export function ufmReportSection(record: Pick<UfmExperimentRecord, "runs" | "sweeps" | "figures">): ReportSection {
  if (!Array.isArray(record?.runs) || record.runs.length === 0) {
    throw new UserError("ufm.json: no UFM runs in the record; write one with `deno task ufm`");
  }
  const o = record.runs[0].options;
  const setup = `The unconstrained feature model with K = ${o.K} classes, d = ${o.d}, n = ${o.n} samples per ` +
    `class, λ_W = ${o.lambdaW}, λ_H = ${o.lambdaH}, λ_b = ${o.lambdaB}, solved in float64 by L-BFGS from a seeded ` +
    `random start (seed ${o.seed}). “Predicted” is the global optimum of the paper's reduction to the ETF scale ` +
    `(closed form for MSE, a 1-D numerical solve otherwise); f* is its objective.`;
  const byName = new Map((record.figures ?? []).map((f) => [f.name, f]));
  const figures: FigureSpec[] = KEY_FIGURES.filter((n) => byName.has(n)).map((n) => byName.get(n)!);
  const sweeps = record.sweeps ?? { gamma: [], smoothing: [], lambda: [] };
  return {
    title: "Unconstrained feature model",
    markdown: [
      setup,
      table(record.runs),
      `- ${globalMinimiserClaim(record.runs)}\n- ${persistenceClaim(sweeps)}`,
    ].join("\n\n"),
    figures,
  };
}
