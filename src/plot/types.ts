/**
 * The shapes the figure code works with: the run records of `src/run/`
 * (re-exported), and the figure specifications that
 * `src/plot/` builds from runs and {@linkcode renderSvg} draws.
 *
 * Specifications are plain data (no DOM, no Plot objects), so they can be
 * built, tested and passed between parts of the package without rendering.
 *
 * @module
 */
export type { BestCheckpoint, RunInfo, RunSummary } from "../run/info.ts";
export type { RunRecord } from "../run/load.ts";

/** Point markers; Observable Plot symbol names, chosen so that each loss is told apart without colour. */
export type MarkerName = "circle" | "square" | "triangle" | "diamond" | "star" | "cross" | "wye" | "times";

/** One point of a line series: the value and, when it aggregates several seeds, their min–max. */
export interface SeriesPoint {
  x: number;
  /** Mean over seeds; `null` draws a gap. */
  y: number | null;
  /** Smallest value over seeds (only when more than one seed contributes). */
  lo?: number | null;
  /** Largest value over seeds. */
  hi?: number | null;
}

/** One line of a line figure. */
export interface LineSeries {
  /** Legend text, e.g. `FL (γ = 3)`. */
  label: string;
  /** CSS colour. */
  color: string;
  marker: MarkerName;
  /** SVG `stroke-dasharray`; absent for a solid line. */
  dash?: string;
  points: SeriesPoint[];
  /** How many runs (seeds) the line averages. */
  runs: number;
}

/** One entry of a legend block. */
export interface LegendEntry {
  label: string;
  color: string;
  marker?: MarkerName;
  dash?: string;
}

/** A titled group of legend entries. */
export interface LegendBlock {
  title?: string;
  entries: LegendEntry[];
}

/** A line chart: one or more series against a numeric x. */
export interface LineFigure {
  kind: "line";
  /** File stem, e.g. `cifar100-wide_resnet50-w2-e800-nc1`. */
  name: string;
  /** Visible title and the SVG `<title>`. */
  title: string;
  xLabel: string;
  yLabel: string;
  xScale: "linear" | "log2";
  yScale: "linear" | "log";
  /** Tick positions for x (e.g. the grid's epochs on a log₂ axis); Plot picks them when absent. */
  xTicks?: number[];
  /** Text of each tick of `xTicks` (e.g. layer names at indices 1 … L); the numbers when absent. */
  xTickLabels?: string[];
  series: LineSeries[];
  /** Legend blocks; built from the series (one entry each) when absent. */
  legend?: LegendBlock[];
  /** A line under the title, e.g. "mean of 2 seeds, band = min–max". */
  subtitle?: string;
}

/** One cell of a heatmap. */
export interface HeatmapCell {
  /** Column category (e.g. epochs). */
  x: string;
  /** Row category (e.g. width). */
  y: string;
  /** `null` draws an empty (missing) cell. */
  value: number | null;
  /** Text drawn in the cell; empty cells read "–". */
  text: string;
}

/** A heatmap over two categorical axes, with each cell's number written in it. */
export interface HeatmapFigure {
  kind: "heatmap";
  name: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** Column order. */
  xDomain: string[];
  /** Row order, top to bottom. */
  yDomain: string[];
  cells: HeatmapCell[];
  /** Label of the colour ramp, e.g. "|Acc_CE − Acc_FL| (%)". */
  colorLabel: string;
  /** A sequential Observable Plot colour scheme, e.g. `blues`, `viridis`. */
  scheme: string;
  subtitle?: string;
}

/** Anything {@linkcode renderSvg} can draw. */
export type FigureSpec = LineFigure | HeatmapFigure;

/** Size and text options of a rendered figure. */
export interface RenderOptions {
  /** Total width in CSS pixels (default 720). */
  widthPx?: number;
  /** Total height in CSS pixels (default 440). */
  heightPx?: number;
  /** Base font size in pixels (default 13). */
  fontSize?: number;
}
