/**
 * The translation of a figure specification ({@linkcode LineFigure},
 * {@linkcode HeatmapFigure}) into Observable Plot options: which marks, scales
 * and axes draw it. Both renderers use it: {@linkcode renderSvg} on a linkedom
 * document (the `.svg` and `.png` files) and the dashboard of `deno task serve`
 * in the browser, so a figure is described once.
 *
 * The module imports nothing at run time: the caller passes Plot itself (the
 * npm module here, the `Plot` global of Plot's UMD build in the browser), and
 * the browser loads this file with its types stripped.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * const options = plotOptions(Plot, figure, { width: 640, height: 400, fontSize: 13 });
 * const svg = Plot.plot({ ...options, document });
 * ```
 *
 * @module
 */
import type * as PlotApi from "@observablehq/plot";
import type { FigureSpec, HeatmapFigure, LegendBlock, LineFigure } from "./types.ts";

/** The Observable Plot namespace, as the npm module or the browser's `Plot` global provides it. */
export type PlotNamespace = typeof PlotApi;

/** The frame a chart is drawn on. */
export interface PlotFrame {
  /** Chart width and height in CSS pixels (without the title and legend the caller draws). */
  width: number;
  height: number;
  /** Base font size in pixels. */
  fontSize: number;
  /** Font stack of the axes. */
  fontFamily?: string;
  /** Pointer tooltips on the data (the browser; files have none). */
  tooltips?: boolean;
}

/** The thinned indices of `n` points at which markers are drawn (~8 per line, phase-shifted per series). */
function markerIndices(n: number, seriesIndex: number, seriesCount: number): Set<number> {
  const step = Math.max(1, Math.ceil(n / 8));
  const phase = step > 1 ? Math.floor((seriesIndex * step) / Math.max(1, seriesCount)) : 0;
  const out = new Set<number>();
  for (let i = phase; i < n; i += step) out.add(i);
  if (n > 0 && step > 1) out.add(n - 1);
  return out;
}

/**
 * The legend blocks of a line figure: its own, or one entry per series; empty
 * blocks dropped.
 *
 * @example
 * ```ts
 * lineLegend(figure)[0].entries.map((e) => e.label); // ["CE", "LS (α = 0.05)"]
 * ```
 */
export function lineLegend(spec: LineFigure): LegendBlock[] {
  return (spec.legend ??
    [{ entries: spec.series.map((s) => ({ label: s.label, color: s.color, marker: s.marker, dash: s.dash })) }])
    .filter((b) => b.entries.length > 0);
}

function frameOptions(frame: PlotFrame): PlotApi.PlotOptions {
  const fs = frame.fontSize;
  return {
    width: frame.width,
    height: frame.height,
    className: "nc-plot",
    marginLeft: Math.round(fs * 5.2),
    marginBottom: Math.round(fs * 3.2),
    // Room above the top tick for its label and for markers sitting on the domain's edge.
    marginTop: Math.round(fs * 1.2),
    marginRight: Math.round(fs * 1.5),
    style: {
      fontSize: `${fs}px`,
      ...(frame.fontFamily ? { fontFamily: frame.fontFamily } : {}),
      background: "white",
      color: "black",
    },
  };
}

function axis(label: string, extra: PlotApi.ScaleOptions = {}): PlotApi.ScaleOptions {
  return { label, labelAnchor: "center", labelArrow: "none", ...extra };
}

/** An empty framed chart that says "no data", for a figure with nothing to draw. */
function noDataOptions(Plot: PlotNamespace, base: PlotApi.PlotOptions): PlotApi.PlotOptions {
  const marks = [Plot.frame({ stroke: "#bbbbbb" }), Plot.text(["no data"], { frameAnchor: "middle", fontSize: 18 })];
  return { ...base, x: { axis: null }, y: { axis: null }, marks };
}

/** A number as a tooltip shows it: four significant digits. */
function tipNumber(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/**
 * Tick labels of a log axis: plain decimals from 0.001 to 99 999, otherwise
 * short exponent form (`1e-6`), which keeps labels narrow enough for the margin.
 */
export function logTick(d: number): string {
  const a = Math.abs(d);
  if (d !== 0 && (a < 1e-3 || a >= 1e5)) return d.toExponential().replace("e+", "e");
  return String(Number(d.toPrecision(6)));
}

function lineOptions(Plot: PlotNamespace, spec: LineFigure, frame: PlotFrame): PlotApi.PlotOptions {
  const base = frameOptions(frame);
  const log = spec.yScale === "log";
  // A log axis cannot show zero or negative values: they become gaps (counted in the subtitle).
  const clean = (v: number | null | undefined): number | null =>
    v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0) ? null : v;
  const marks: PlotApi.Markish[] = [];
  const hasData = spec.series.some((s) => s.points.some((p) => clean(p.y) !== null));
  if (!hasData) return noDataOptions(Plot, base);
  const tipRows: { x: number; y: number; label: string; color: string }[] = [];
  spec.series.forEach((s, si) => {
    const rows = s.points.map((p) => ({ x: p.x, y: clean(p.y), lo: clean(p.lo), hi: clean(p.hi) }));
    const band = rows.filter((r) => r.lo !== null && r.hi !== null);
    if (band.length > 1) {
      marks.push(Plot.areaY(band, { x: "x", y1: "lo", y2: "hi", fill: s.color, fillOpacity: 0.15 }));
    }
    marks.push(Plot.lineY(rows, { x: "x", y: "y", stroke: s.color, strokeWidth: 2, strokeDasharray: s.dash }));
    const keep = markerIndices(rows.length, si, spec.series.length);
    const dots = rows.filter((r, i) => keep.has(i) && r.y !== null);
    marks.push(Plot.dot(dots, {
      x: "x",
      y: "y",
      symbol: s.marker,
      fill: s.color,
      stroke: "white",
      strokeWidth: 0.8,
      r: Math.max(3, frame.fontSize * 0.33),
    }));
    for (const r of rows) if (r.y !== null) tipRows.push({ x: r.x, y: r.y, label: s.label, color: s.color });
  });
  if (frame.tooltips) {
    marks.push(Plot.tip(
      tipRows,
      Plot.pointer({
        x: "x",
        y: "y",
        stroke: "color",
        title: (r: { x: number; y: number; label: string }) =>
          `${r.label}\n${spec.xLabel} ${r.x}: ${spec.yLabel} ${tipNumber(r.y)}`,
      }),
    ));
  }
  const labels = spec.xTickLabels;
  const tickText = (d: number): string => labels?.[spec.xTicks?.indexOf(d) ?? -1] ?? String(d);
  const x: PlotApi.ScaleOptions = spec.xScale === "log2"
    ? axis(spec.xLabel, { type: "log", base: 2, ticks: spec.xTicks, tickFormat: tickText })
    : axis(spec.xLabel, spec.xTicks ? { ticks: spec.xTicks, ...(labels ? { tickFormat: tickText } : {}) } : {});
  if (spec.xScale === "linear" && labels && spec.xTicks?.length) {
    // Labelled positions (layers): pad by a third of a step so the end markers are whole.
    x.domain = [Math.min(...spec.xTicks) - 1 / 3, Math.max(...spec.xTicks) + 1 / 3];
  }
  const y: PlotApi.ScaleOptions = log
    ? axis(spec.yLabel, { type: "log", grid: true, nice: true, tickFormat: logTick })
    : axis(spec.yLabel, { grid: true, nice: true });
  if (spec.xScale === "log2" && spec.xTicks?.length) {
    // Pad the log axis by a quarter octave so end markers are not cut in half.
    x.domain = [Math.min(...spec.xTicks) / 2 ** 0.25, Math.max(...spec.xTicks) * 2 ** 0.25];
  }
  return { ...base, x, y, marks };
}

/** Relative luminance of a CSS colour as Plot's scales print it (`#rrggbb` or `rgb(r, g, b)`). */
function luminance(color: string): number {
  let rgb: number[] | null = null;
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) rgb = [0, 2, 4].map((i) => parseInt(hex[1].slice(i, i + 2), 16));
  const fn = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
  if (fn) rgb = [fn[1], fn[2], fn[3]].map(Number);
  if (!rgb) return 1;
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * The value range of a heatmap's colour ramp, or `null` when no cell has a
 * value; a constant map gets a unit-wide range so the ramp is not empty.
 */
export function heatmapColorDomain(spec: HeatmapFigure): [number, number] | null {
  const values = spec.cells.map((c) => c.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return null;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/**
 * The colour scale of a heatmap (Plot's `color` option), or `null` when no cell has a value;
 * its legend and its cells use the same one.
 */
export function heatmapColorScale(spec: HeatmapFigure): PlotApi.ScaleOptions | null {
  const domain = heatmapColorDomain(spec);
  return domain ? { type: "linear", scheme: spec.scheme as PlotApi.ColorScheme, domain, label: spec.colorLabel } : null;
}

function heatmapOptions(Plot: PlotNamespace, spec: HeatmapFigure, frame: PlotFrame): PlotApi.PlotOptions {
  const base = frameOptions(frame);
  const colorScale = heatmapColorScale(spec);
  if (!colorScale) return noDataOptions(Plot, base);
  const color = Plot.scale({ color: colorScale });
  const filled = spec.cells.filter((c) => c.value !== null);
  const empty = spec.cells.filter((c) => c.value === null);
  const textColor = (c: { value: number | null }): string =>
    c.value === null ? "#777777" : luminance(String(color.apply(c.value))) > 0.35 ? "black" : "white";
  const tip = frame.tooltips
    ? {
      tip: true,
      title: (c: { x: string; y: string; text: string }) =>
        `${spec.xLabel} ${c.x}, ${spec.yLabel} ${c.y}\n${spec.colorLabel}: ${c.text.replace("\n", " ")}`,
    }
    : {};
  return {
    ...base,
    x: axis(spec.xLabel, { type: "band", domain: spec.xDomain }),
    y: axis(spec.yLabel, { type: "band", domain: spec.yDomain }),
    color: colorScale,
    marks: [
      Plot.cell(filled, { x: "x", y: "y", fill: "value", inset: 1, ...tip }),
      Plot.cell(empty, { x: "x", y: "y", fill: "#f4f4f4", stroke: "#aaaaaa", strokeDasharray: "4,3", inset: 1 }),
      Plot.text(spec.cells, {
        x: "x",
        y: "y",
        text: "text",
        fill: textColor,
        fontSize: Math.round(frame.fontSize * 1.1),
      }),
    ],
  };
}

/**
 * The Observable Plot options that draw the chart of `spec` (marks, scales,
 * axes) on `frame`; the title and the legend are the caller's. Pass the
 * result, with a `document` where there is no browser, to `Plot.plot`.
 *
 * @example
 * ```ts
 * const chart = Plot.plot(plotOptions(Plot, spec, { width: 640, height: 360, fontSize: 13, tooltips: true }));
 * ```
 */
export function plotOptions(Plot: PlotNamespace, spec: FigureSpec, frame: PlotFrame): PlotApi.PlotOptions {
  return spec.kind === "line" ? lineOptions(Plot, spec, frame) : heatmapOptions(Plot, spec, frame);
}
