/**
 * `ufmLineFigure`: a UFM figure (plain `{x, y, series}` points, as stored in
 * `ufm.json`) as the line-figure specification that `src/plot/` renders.
 */
import type { LineFigure, LineSeries, MarkerName } from "../plot/mod.ts";
// Straight from the file rather than `../plot/mod.ts`: the plot module's index also loads the PNG renderer's native
// addon, which would make every importer of `src/ufm/` need --allow-ffi just to solve a UFM.
import { LOSS_ORDER, lossStyle } from "../plot/loss_style.ts";
import type { UfmFigure } from "./ufm_figures.ts";

/** Colours and markers of series that are not one of the paper's losses (norms, NC metrics). */
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const MARKERS: MarkerName[] = ["circle", "triangle", "square", "diamond", "star", "cross"];

/** A series label's base (`focal_loss (reduction)` → `focal_loss`) and whether it is the reduction's line. */
function splitLabel(label: string): { base: string; suffix: string; reduction: boolean } {
  const m = / *\((reduction|L-BFGS)\)$/.exec(label);
  return { base: m ? label.slice(0, m.index) : label, suffix: m ? m[0] : "", reduction: m?.[1] === "reduction" };
}

/**
 * Returns `fig` as a {@linkcode LineFigure}: one series per distinct `series`
 * tag in order of appearance; the paper's losses get their package-wide
 * colour, marker and short name (`cross_entropy` → `CE`), other series a
 * colour per base name; series ending in `(reduction)` are dashed.
 *
 * @example
 * ```ts
 * const fig = ufmLineFigure(dynamicsUfmFigures([solveUfm({ loss: "focal_loss" })])[0]);
 * renderSvg(fig); // from src/plot/mod.ts
 * ```
 */
export function ufmLineFigure(fig: UfmFigure): LineFigure {
  const bySeries = new Map<string, { x: number; y: number }[]>();
  for (const p of fig.data) {
    const list = bySeries.get(p.series) ?? [];
    list.push({ x: p.x, y: p.y });
    bySeries.set(p.series, list);
  }
  const bases: string[] = [];
  const series: LineSeries[] = [...bySeries].map(([label, points]) => {
    const { base, suffix, reduction } = splitLabel(label);
    if (!bases.includes(base)) bases.push(base);
    const i = bases.indexOf(base);
    const known = LOSS_ORDER.includes(base) ? lossStyle({ loss: base }) : null;
    return {
      label: known ? `${known.short}${suffix}` : label,
      color: known?.color ?? PALETTE[i % PALETTE.length],
      marker: known?.marker ?? MARKERS[i % MARKERS.length],
      dash: reduction ? "5,4" : undefined,
      points,
      runs: 1,
    };
  });
  const { data: _data, ...axes } = fig;
  return { kind: "line", ...axes, series };
}
