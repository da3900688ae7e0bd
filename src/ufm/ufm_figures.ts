/**
 * Figure specifications of the UFM experiments: the same plain-data
 * {@linkcode LineFigure}s as every other figure of the package, stored in
 * `ufm.json` and drawn by `src/plot/`'s renderer.
 */
import type { LineFigure, LineSeries, MarkerName } from "../plot/types.ts";
// Straight from the file rather than `../plot/mod.ts`: the plot module's index also loads the PNG renderer's native
// addon, which would make every importer of `src/ufm/` need --allow-ffi just to solve a UFM.
import { lossStyle } from "../plot/loss_style.ts";
import { lossInfo } from "../losses/names.ts";
import type { UfmSweepPoint } from "./sweep_ufm.ts";
import type { UfmResult } from "./solve_ufm.ts";

/** One line before styling: a loss name or a quantity (`‖W‖_F`), its points, and what kind of line it is. */
interface Line {
  base: string;
  points: { x: number; y: number }[];
  /** `reduction`: the reduced problem's prediction (dashed); `lbfgs`: the solver's value beside it. */
  kind?: "reduction" | "lbfgs";
}

/** Colours and markers of lines that are not one of the paper's losses (norms, NC metrics). */
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const MARKERS: MarkerName[] = ["circle", "triangle", "square", "diamond", "star", "cross"];
const SUFFIX = { reduction: " (reduction)", lbfgs: " (L-BFGS)" } as const;

/**
 * Styles `lines` as series: a loss gets its package-wide colour, marker and
 * short name (`focal_loss` → `FL`), any other base a colour of its own; a
 * reduction line is dashed and shares its base's colour.
 */
function styleLines(lines: readonly Line[]): LineSeries[] {
  const bases = [...new Set(lines.map((l) => l.base))];
  return lines.map((l) => {
    const i = bases.indexOf(l.base);
    const known = lossInfo(l.base) ? lossStyle({ loss: l.base }) : null;
    return {
      label: (known?.short ?? l.base) + (l.kind ? SUFFIX[l.kind] : ""),
      color: known?.color ?? PALETTE[i % PALETTE.length],
      marker: known?.marker ?? MARKERS[i % MARKERS.length],
      ...(l.kind === "reduction" ? { dash: "5,4" } : {}),
      points: l.points,
      runs: 1,
    };
  });
}

/** Groups `items` into lines by `base` (and `kind`), in order of first appearance. */
function linesOf<T>(items: readonly T[], line: (t: T) => Line[]): Line[] {
  const out = new Map<string, Line>();
  for (const item of items) {
    for (const l of line(item)) {
      const key = `${l.base}\u0000${l.kind ?? ""}`;
      const have = out.get(key);
      if (have) have.points.push(...l.points);
      else out.set(key, { ...l, points: [...l.points] });
    }
  }
  return [...out.values()];
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
export function dynamicsUfmFigures(results: readonly UfmResult[]): LineFigure[] {
  const figs: LineFigure[] = NC_KEYS.map((key) => ({
    kind: "line",
    name: `ufm-dynamics-${key}`,
    title: `UFM: ${key.toUpperCase()} against L-BFGS iteration`,
    xLabel: "iteration",
    yLabel: key.toUpperCase(),
    xScale: "linear",
    yScale: "log",
    series: styleLines(
      linesOf(results, (r) => [{ base: r.options.loss, points: r.history.map((h) => ({ x: h.iter, y: h[key] })) }]),
    ),
  }));
  figs.push({
    kind: "line",
    name: "ufm-dynamics-gap",
    title: "UFM: objective minus the reduced problem's global optimum",
    xLabel: "iteration",
    yLabel: "f − f*",
    xScale: "linear",
    yScale: "log",
    series: styleLines(linesOf(results, (r) => [{
      base: r.options.loss,
      points: r.history.map((h) => ({ x: h.iter, y: h.objective - r.reference.objective })),
    }])),
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
export function parameterSweepFigures(points: readonly UfmSweepPoint[], label: string): LineFigure[] {
  if (points.length === 0) return [];
  const param = points[0].parameter;
  const stem = `ufm-sweep-${points[0].loss}-${param}`;
  return [
    {
      kind: "line",
      name: `${stem}-nc`,
      title: `UFM optimum against ${label}: NC metrics`,
      xLabel: label,
      yLabel: "NC metric",
      xScale: "linear",
      yScale: "log",
      xTicks: points.map((p) => p.value),
      subtitle: "NC2, NC3 ≈ 0: the optimum stays a simplex ETF for every value",
      series: styleLines(
        NC_KEYS.map((key) => ({ base: key.toUpperCase(), points: points.map((p) => ({ x: p.value, y: p[key] })) })),
      ),
    },
    {
      kind: "line",
      name: `${stem}-norms`,
      title: `UFM optimum against ${label}: norms`,
      xLabel: label,
      yLabel: "Frobenius norm",
      xScale: "linear",
      yScale: "linear",
      xTicks: points.map((p) => p.value),
      subtitle: "solid: L-BFGS from a random start; dashed: reduction to the ETF scale (λ_W = λ_H makes ‖W‖ = ‖H‖)",
      series: styleLines(linesOf(points, (p) => [
        { base: "‖W‖_F", kind: "lbfgs", points: [{ x: p.value, y: p.normW }] },
        { base: "‖W‖_F", kind: "reduction", points: [{ x: p.value, y: p.referenceNormW }] },
        { base: "‖H‖_F", kind: "lbfgs", points: [{ x: p.value, y: p.normH }] },
        { base: "‖H‖_F", kind: "reduction", points: [{ x: p.value, y: p.referenceNormH }] },
      ])),
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
export function lambdaSweepFigures(points: readonly UfmSweepPoint[]): LineFigure[] {
  const figs: LineFigure[] = NC_KEYS.map((key) => ({
    kind: "line",
    name: `ufm-sweep-lambda-${key}`,
    title: `UFM optimum against weight decay λ: ${key.toUpperCase()}`,
    xLabel: "λ = λ_W = λ_H = λ_b",
    yLabel: key.toUpperCase(),
    xScale: "log2",
    yScale: "log",
    xTicks: [...new Set(points.map((p) => p.value))],
    series: styleLines(linesOf(points, (p) => [{ base: p.loss, points: [{ x: p.value, y: p[key] }] }])),
  }));
  for (const [key, ref, sym] of [["normW", "referenceNormW", "W"], ["normH", "referenceNormH", "H"]] as const) {
    figs.push({
      kind: "line",
      name: `ufm-sweep-lambda-norm${sym.toLowerCase()}`,
      title: `UFM optimum against weight decay λ: ‖${sym}‖_F`,
      xLabel: "λ = λ_W = λ_H = λ_b",
      yLabel: `‖${sym}‖_F`,
      xScale: "log2",
      yScale: "linear",
      xTicks: [...new Set(points.map((p) => p.value))],
      subtitle: "solid: L-BFGS from a random start; dashed: reduction to the ETF scale",
      series: styleLines(linesOf(points, (p) => [
        { base: p.loss, points: [{ x: p.value, y: p[key] }] },
        { base: p.loss, kind: "reduction", points: [{ x: p.value, y: p[ref] }] },
      ])),
    });
  }
  return figs;
}
