/**
 * Figure specifications of the UFM experiments as plain data: each figure is
 * a list of `{x, y, series}` points plus axis labels and scales, so it can be
 * stored in `ufm.json`, tested, and handed to whatever renders figures
 * (`src/plot/`) without this module knowing how.
 */
import type { UfmSweepPoint } from "./sweep_ufm.ts";
import type { UfmResult } from "./solve_ufm.ts";

/** One point of one line. */
export interface UfmFigurePoint {
  x: number;
  y: number;
  /** The line it belongs to (a loss name, or e.g. `‖W‖_F (L-BFGS)`). */
  series: string;
}

/** A line figure as plain data. */
export interface UfmFigure {
  /** File stem, e.g. `ufm-dynamics-nc1`. */
  name: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xScale: "linear" | "log2";
  yScale: "linear" | "log";
  /** Where x ticks go (the swept values); the renderer picks them when absent. */
  xTicks?: number[];
  /** A line under the title saying how to read the figure. */
  subtitle?: string;
  data: UfmFigurePoint[];
}

const NC_KEYS = ["nc1", "nc2", "nc3"] as const;

/**
 * NC1, NC2, NC3 and the optimality gap f − f* against L-BFGS iteration, one
 * series per loss (the UFM counterpart of the paper's Figure 2 dynamics).
 *
 * @example
 * ```ts
 * const figs = dynamicsUfmFigures([solveUfm({ loss: "cross_entropy" })]);
 * ```
 */
export function dynamicsUfmFigures(results: readonly UfmResult[]): UfmFigure[] {
  const figs: UfmFigure[] = NC_KEYS.map((key) => ({
    name: `ufm-dynamics-${key}`,
    title: `UFM: ${key.toUpperCase()} against L-BFGS iteration`,
    xLabel: "iteration",
    yLabel: key.toUpperCase(),
    xScale: "linear",
    yScale: "log",
    data: results.flatMap((r) => r.history.map((h) => ({ x: h.iter, y: h[key], series: r.options.loss }))),
  }));
  figs.push({
    name: "ufm-dynamics-gap",
    title: "UFM: objective minus the reduced problem's global optimum",
    xLabel: "iteration",
    yLabel: "f − f*",
    xScale: "linear",
    yScale: "log",
    data: results.flatMap((r) =>
      r.history.map((h) => ({ x: h.iter, y: h.objective - r.reference.objective, series: r.options.loss }))
    ),
  });
  return figs;
}

/**
 * For a sweep over one loss parameter (FL γ or LS α): NC1–NC3 against the
 * parameter (the optimum stays a simplex ETF), and ‖W‖_F, ‖H‖_F from L-BFGS
 * beside the reduction's values (the norms move with the parameter).
 *
 * @example
 * ```ts
 * const figs = parameterSweepFigures(sweepUfm({}, "gamma", [0, 1, 3], ["focal_loss"]), "FL γ");
 * ```
 */
export function parameterSweepFigures(points: readonly UfmSweepPoint[], label: string): UfmFigure[] {
  if (points.length === 0) return [];
  const param = points[0].parameter;
  const stem = `ufm-sweep-${points[0].loss}-${param}`;
  return [
    {
      name: `${stem}-nc`,
      title: `UFM optimum against ${label}: NC metrics`,
      xLabel: label,
      yLabel: "NC metric",
      xScale: "linear",
      yScale: "log",
      xTicks: points.map((p) => p.value),
      subtitle: "NC2, NC3 ≈ 0: the optimum stays a simplex ETF for every value",
      data: NC_KEYS.flatMap((key) => points.map((p) => ({ x: p.value, y: p[key], series: key.toUpperCase() }))),
    },
    {
      name: `${stem}-norms`,
      title: `UFM optimum against ${label}: norms`,
      xLabel: label,
      yLabel: "Frobenius norm",
      xScale: "linear",
      yScale: "linear",
      xTicks: points.map((p) => p.value),
      subtitle: "solid: L-BFGS from a random start; dashed: reduction to the ETF scale (λ_W = λ_H makes ‖W‖ = ‖H‖)",
      data: points.flatMap((p) => [
        { x: p.value, y: p.normW, series: "‖W‖_F (L-BFGS)" },
        { x: p.value, y: p.referenceNormW, series: "‖W‖_F (reduction)" },
        { x: p.value, y: p.normH, series: "‖H‖_F (L-BFGS)" },
        { x: p.value, y: p.referenceNormH, series: "‖H‖_F (reduction)" },
      ]),
    },
  ];
}

/**
 * For a sweep over λ = λ_W = λ_H = λ_b across losses: NC2 and NC3 against λ
 * (one series per loss), and ‖W‖_F from L-BFGS and from the reduction.
 *
 * @example
 * ```ts
 * const figs = lambdaSweepFigures(sweepUfm({}, "lambda", [1e-4, 1e-3], ["cross_entropy"]));
 * ```
 */
export function lambdaSweepFigures(points: readonly UfmSweepPoint[]): UfmFigure[] {
  const figs: UfmFigure[] = (["nc1", "nc2", "nc3"] as const).map((key) => ({
    name: `ufm-sweep-lambda-${key}`,
    title: `UFM optimum against weight decay λ: ${key.toUpperCase()}`,
    xLabel: "λ = λ_W = λ_H = λ_b",
    yLabel: key.toUpperCase(),
    xScale: "log2",
    yScale: "log",
    xTicks: [...new Set(points.map((p) => p.value))],
    data: points.map((p) => ({ x: p.value, y: p[key], series: p.loss })),
  }));
  for (const [key, ref, sym] of [["normW", "referenceNormW", "W"], ["normH", "referenceNormH", "H"]] as const) {
    figs.push({
      name: `ufm-sweep-lambda-norm${sym.toLowerCase()}`,
      title: `UFM optimum against weight decay λ: ‖${sym}‖_F`,
      xLabel: "λ = λ_W = λ_H = λ_b",
      yLabel: `‖${sym}‖_F`,
      xScale: "log2",
      yScale: "linear",
      xTicks: [...new Set(points.map((p) => p.value))],
      subtitle: "solid: L-BFGS from a random start; dashed: reduction to the ETF scale",
      data: points.flatMap((p) => [
        { x: p.value, y: p[key], series: p.loss },
        { x: p.value, y: p[ref], series: `${p.loss} (reduction)` },
      ]),
    });
  }
  return figs;
}
