/**
 * The one place that draws figure specifications: Observable Plot on a
 * linkedom document (no browser), wrapped in a standalone SVG with an
 * `xmlns`, a `<title>`, a `viewBox`, a visible title and a legend.
 *
 * Legends are drawn here rather than by Plot because Plot's swatch legends are
 * HTML, which neither a standalone `.svg` file nor the PNG renderer can hold.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { escapeXml, FONT_FAMILY, markerSvg, textWidth } from "./_svg.ts";
import type { FigureSpec, HeatmapFigure, LegendBlock, LineFigure, RenderOptions } from "./types.ts";

/** Default figure size and font. */
export const DEFAULT_RENDER: Required<RenderOptions> = { widthPx: 720, heightPx: 440, fontSize: 13 };

interface Layout {
  width: number;
  height: number;
  fontSize: number;
}

/** The DOM document Plot draws into; typed through Plot because this project compiles without the DOM library. */
type PlotDocument = NonNullable<Plot.PlotOptions["document"]>;

/** What is read back from a rendered Plot element. */
interface Rendered {
  outerHTML: string;
}

function newDocument(): PlotDocument {
  // linkedom types its result as a browser `Window`; under Deno's libs that type has no `document`.
  const window = parseHTML("<!doctype html><html><body></body></html>") as unknown as { document: unknown };
  return window.document as PlotDocument;
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

function legendWidth(blocks: LegendBlock[], fontSize: number): number {
  let w = 0;
  for (const b of blocks) {
    if (b.title) w = Math.max(w, textWidth(b.title, fontSize));
    for (const e of b.entries) w = Math.max(w, 40 + textWidth(e.label, fontSize));
  }
  return Math.ceil(w + 2 * fontSize);
}

function legendSvg(blocks: LegendBlock[], x: number, y: number, fontSize: number): string {
  const parts: string[] = [`<g class="legend" transform="translate(${x},${y})" font-size="${fontSize}">`];
  const row = fontSize * 1.6;
  let cy = fontSize;
  for (const block of blocks) {
    if (block.title) {
      parts.push(`<text x="0" y="${cy}" font-weight="bold">${escapeXml(block.title)}</text>`);
      cy += row;
    }
    for (const e of block.entries) {
      const mid = cy - fontSize * 0.35;
      const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : "";
      parts.push(
        `<g class="legend-entry"><line x1="0" x2="32" y1="${mid}" y2="${mid}" stroke="${e.color}" stroke-width="2"${dash}/>` +
          (e.marker ? markerSvg(e.marker, 16, mid, fontSize * 0.33, e.color) : "") +
          `<text x="40" y="${cy}">${escapeXml(e.label)}</text></g>`,
      );
      cy += row;
    }
    cy += row * 0.4;
  }
  parts.push("</g>");
  return parts.join("");
}

/** The legend as rows under the title, for figures too narrow for a legend column; returns its height too. */
function legendRowsSvg(
  blocks: LegendBlock[],
  x: number,
  y: number,
  maxWidth: number,
  fontSize: number,
): { svg: string; height: number } {
  const parts: string[] = [`<g class="legend" transform="translate(${x},${y})" font-size="${fontSize}">`];
  const row = fontSize * 1.6;
  let cx = 0;
  let cy = fontSize;
  const gap = fontSize * 1.2;
  for (const block of blocks) {
    if (cx > 0) {
      cx = 0;
      cy += row;
    }
    if (block.title) {
      parts.push(`<text x="0" y="${cy}" font-weight="bold">${escapeXml(block.title)}</text>`);
      cx = textWidth(block.title, fontSize) + gap;
    }
    for (const e of block.entries) {
      const w = 40 + textWidth(e.label, fontSize);
      if (cx > 0 && cx + w > maxWidth) {
        cx = 0;
        cy += row;
      }
      const mid = cy - fontSize * 0.35;
      const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : "";
      parts.push(
        `<g class="legend-entry"><line x1="${cx}" x2="${cx + 32}" y1="${mid}" y2="${mid}" stroke="${e.color}" ` +
          `stroke-width="2"${dash}/>` + (e.marker ? markerSvg(e.marker, cx + 16, mid, fontSize * 0.33, e.color) : "") +
          `<text x="${cx + 40}" y="${cy}">${escapeXml(e.label)}</text></g>`,
      );
      cx += w + gap;
    }
  }
  parts.push("</g>");
  return { svg: parts.join(""), height: cy + fontSize * 0.6 };
}

/** Splits `text` into lines no wider than `maxWidth` (estimated), breaking at spaces. */
function wrapText(text: string, maxWidth: number, fontSize: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, fontSize) > maxWidth) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** An empty framed chart that says "no data", for a figure with nothing to draw. */
function noDataPlot(base: Plot.PlotOptions): Rendered {
  const marks = [Plot.frame({ stroke: "#bbbbbb" }), Plot.text(["no data"], { frameAnchor: "middle", fontSize: 18 })];
  return Plot.plot({ ...base, x: { axis: null }, y: { axis: null }, marks }) as unknown as Rendered;
}

function commonPlotOptions(layout: Layout, width: number, height: number, document: PlotDocument): Plot.PlotOptions {
  return {
    document,
    width,
    height,
    className: "nc-plot",
    marginLeft: Math.round(layout.fontSize * 5.2),
    marginBottom: Math.round(layout.fontSize * 3.2),
    // Room above the top tick for its label and for markers sitting on the domain's edge.
    marginTop: Math.round(layout.fontSize * 1.2),
    marginRight: Math.round(layout.fontSize * 1.5),
    style: { fontSize: `${layout.fontSize}px`, fontFamily: FONT_FAMILY, background: "white", color: "black" },
  };
}

function axis(label: string, extra: Plot.ScaleOptions = {}): Plot.ScaleOptions {
  return { label, labelAnchor: "center", labelArrow: "none", ...extra };
}

/** The chart of the figure on the frame `base` (size, margins, font) that the caller lays out. */
function linePlot(spec: LineFigure, base: Plot.PlotOptions, layout: Layout): Rendered {
  const log = spec.yScale === "log";
  // A log axis cannot show zero or negative values: they become gaps (counted in the subtitle).
  const clean = (v: number | null | undefined): number | null =>
    v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0) ? null : v;
  const marks: Plot.Markish[] = [];
  const hasData = spec.series.some((s) => s.points.some((p) => clean(p.y) !== null));
  if (!hasData) {
    return noDataPlot(base);
  }
  spec.series.forEach((s, si) => {
    const rows = s.points.map((p) => ({ x: p.x, y: clean(p.y), lo: clean(p.lo), hi: clean(p.hi) }));
    const band = rows.filter((r) => r.lo !== null && r.hi !== null);
    if (band.length > 1) {
      marks.push(Plot.areaY(band, { x: "x", y1: "lo", y2: "hi", fill: s.color, fillOpacity: 0.15 }));
    }
    marks.push(Plot.lineY(rows, {
      x: "x",
      y: "y",
      stroke: s.color,
      strokeWidth: 2,
      strokeDasharray: s.dash,
    }));
    const keep = markerIndices(rows.length, si, spec.series.length);
    const dots = rows.filter((r, i) => keep.has(i) && r.y !== null);
    marks.push(Plot.dot(dots, {
      x: "x",
      y: "y",
      symbol: s.marker,
      fill: s.color,
      stroke: "white",
      strokeWidth: 0.8,
      r: Math.max(3, layout.fontSize * 0.33),
    }));
  });
  const labels = spec.xTickLabels;
  const tickText = (d: number): string => labels?.[spec.xTicks?.indexOf(d) ?? -1] ?? String(d);
  const x: Plot.ScaleOptions = spec.xScale === "log2"
    ? axis(spec.xLabel, { type: "log", base: 2, ticks: spec.xTicks, tickFormat: tickText })
    : axis(spec.xLabel, spec.xTicks ? { ticks: spec.xTicks, ...(labels ? { tickFormat: tickText } : {}) } : {});
  if (spec.xScale === "linear" && labels && spec.xTicks?.length) {
    // Labelled positions (layers): pad by a third of a step so the end markers are whole.
    x.domain = [Math.min(...spec.xTicks) - 1 / 3, Math.max(...spec.xTicks) + 1 / 3];
  }
  const y: Plot.ScaleOptions = log
    ? axis(spec.yLabel, { type: "log", grid: true, nice: true, tickFormat: logTick })
    : axis(spec.yLabel, { grid: true, nice: true });
  if (spec.xScale === "log2" && spec.xTicks?.length) {
    // Pad the log axis by a quarter octave so end markers are not cut in half.
    x.domain = [Math.min(...spec.xTicks) / 2 ** 0.25, Math.max(...spec.xTicks) * 2 ** 0.25];
  }
  return Plot.plot({ ...base, x, y, marks }) as unknown as Rendered;
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

function colorDomain(spec: HeatmapFigure): [number, number] | null {
  const values = spec.cells.map((c) => c.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return null;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  // A constant map still needs a non-empty domain for the ramp.
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** The chart of the figure on the frame `base` (size, margins, font) that the caller lays out. */
function heatmapPlot(spec: HeatmapFigure, base: Plot.PlotOptions, layout: Layout): Rendered {
  const domain = colorDomain(spec);
  if (!domain) {
    return noDataPlot(base);
  }
  const color = Plot.scale({ color: { type: "linear", scheme: spec.scheme as Plot.ColorScheme, domain } });
  const filled = spec.cells.filter((c) => c.value !== null);
  const empty = spec.cells.filter((c) => c.value === null);
  const textColor = (c: { value: number | null }): string =>
    c.value === null ? "#777777" : luminance(String(color.apply(c.value))) > 0.35 ? "black" : "white";
  return Plot.plot({
    ...base,
    x: axis(spec.xLabel, { type: "band", domain: spec.xDomain }),
    y: axis(spec.yLabel, { type: "band", domain: spec.yDomain }),
    color: { type: "linear", scheme: spec.scheme as Plot.ColorScheme, domain },
    marks: [
      Plot.cell(filled, { x: "x", y: "y", fill: "value", inset: 1 }),
      Plot.cell(empty, { x: "x", y: "y", fill: "#f4f4f4", stroke: "#aaaaaa", strokeDasharray: "4,3", inset: 1 }),
      Plot.text(spec.cells, {
        x: "x",
        y: "y",
        text: "text",
        fill: textColor,
        fontSize: Math.round(layout.fontSize * 1.1),
      }),
    ],
  }) as unknown as Rendered;
}

/**
 * A colour-ramp legend: a gradient bar with the label above and three ticks below.
 * Drawn by hand because Plot paints continuous ramps on a canvas, which linkedom lacks.
 */
function rampLegend(spec: HeatmapFigure, layout: Layout, x: number, y: number, width: number): string {
  const domain = colorDomain(spec);
  if (!domain) return "";
  const color = Plot.scale({ color: { type: "linear", scheme: spec.scheme as Plot.ColorScheme, domain } });
  const fs = layout.fontSize;
  // Ids share one namespace when several SVGs sit inline in the HTML report, so each carries the figure name.
  const id = `ramp-${spec.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const stops = Array.from({ length: 11 }, (_, i) => {
    const v = domain[0] + ((domain[1] - domain[0]) * i) / 10;
    return `<stop offset="${i * 10}%" stop-color="${color.apply(v)}"/>`;
  }).join("");
  const barY = fs * 1.6;
  const barH = fs;
  // Three ticks (ends and middle): more collide at the legend's width and large font sizes.
  const ticks = Array.from({ length: 3 }, (_, i) => {
    const v = domain[0] + ((domain[1] - domain[0]) * i) / 2;
    const tx = (width * i) / 2;
    const anchor = i === 0 ? "start" : i === 2 ? "end" : "middle";
    return `<line x1="${tx}" x2="${tx}" y1="${barY}" y2="${barY + barH + 4}" stroke="black"/>` +
      `<text x="${tx}" y="${barY + barH + 4 + fs}" text-anchor="${anchor}">${formatTick(v, domain)}</text>`;
  }).join("");
  return `<g class="legend" transform="translate(${x},${y})" font-size="${fs}">` +
    `<defs><linearGradient id="${id}" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>` +
    `<text x="0" y="${fs}" font-weight="bold">${escapeXml(spec.colorLabel)}</text>` +
    `<rect x="0" y="${barY}" width="${width}" height="${barH}" fill="url(#${id})"/>` + ticks + `</g>`;
}

/** Tick text with as few decimals as the domain's span needs. */
function formatTick(v: number, domain: [number, number]): string {
  const span = Math.abs(domain[1] - domain[0]);
  const digits = span >= 20 ? 0 : span >= 2 ? 1 : span >= 0.2 ? 2 : 3;
  return v.toFixed(digits);
}

/** Positions a Plot-generated `<svg>` inside the wrapper and strips what a nested SVG must not carry. */
function place(svg: string, x: number, y: number): string {
  return svg.replace(/^<svg /, `<svg x="${x}" y="${y}" `);
}

/**
 * Draws `spec` as a standalone SVG document (a string): `xmlns`, `viewBox`,
 * `<title>`, a visible title and subtitle, the chart, and its legend.
 *
 * @example
 * ```ts
 * const svg = renderSvg(figures[0], { widthPx: 800, fontSize: 14 });
 * await Deno.writeTextFile("figures/nc1.svg", svg);
 * ```
 */
export function renderSvg(spec: FigureSpec, options: RenderOptions = {}): string {
  const width = options.widthPx ?? DEFAULT_RENDER.widthPx;
  const height = options.heightPx ?? DEFAULT_RENDER.heightPx;
  const fontSize = options.fontSize ?? DEFAULT_RENDER.fontSize;
  const titleSize = Math.round(fontSize * 1.25);
  const textMax = width - 2 * fontSize;

  // Heading: title and subtitle, wrapped so that narrow figures do not clip them.
  const heading: string[] = [];
  let y = 0;
  for (const line of wrapText(spec.title, textMax, titleSize)) {
    y += Math.round(titleSize * 1.3);
    heading.push(
      `<text x="${fontSize}" y="${y}" font-size="${titleSize}" font-weight="bold">${escapeXml(line)}</text>`,
    );
  }
  for (const line of spec.subtitle ? wrapText(spec.subtitle, textMax, fontSize) : []) {
    y += Math.round(fontSize * 1.4);
    heading.push(`<text x="${fontSize}" y="${y}" font-size="${fontSize}" fill="#444444">${escapeXml(line)}</text>`);
  }
  let top = y + Math.round(fontSize * 0.6);
  const layout: Layout = { width, height, fontSize };
  const document = newDocument();
  const frame = (plotWidth: number, plotHeight: number) => commonPlotOptions(layout, plotWidth, plotHeight, document);

  let chart: string;
  let legend = "";
  if (spec.kind === "line") {
    const blocks = (spec.legend ??
      [{ entries: spec.series.map((s) => ({ label: s.label, color: s.color, marker: s.marker, dash: s.dash })) }])
      .filter((b) => b.entries.length > 0);
    const lw = blocks.length ? legendWidth(blocks, fontSize) : 0;
    if (lw > width * 0.35) {
      // Too narrow for a legend column: the legend goes in rows above the chart.
      const rows = legendRowsSvg(blocks, fontSize, top, textMax, fontSize);
      legend = rows.svg;
      top += Math.round(rows.height);
      chart = place(linePlot(spec, frame(width, Math.max(120, height - top)), layout).outerHTML, 0, top);
    } else {
      const plotWidth = width - lw;
      chart = place(linePlot(spec, frame(plotWidth, height - top), layout).outerHTML, 0, top);
      if (blocks.length) legend = legendSvg(blocks, plotWidth, top + fontSize, fontSize);
    }
  } else {
    const lw = Math.max(180, Math.min(260, Math.round(width * 0.3)));
    if (width < 560) {
      // Narrow: the colour ramp goes above the cells.
      const rampWidth = Math.min(240, textMax);
      legend = rampLegend(spec, layout, fontSize, top, rampWidth);
      if (legend) top += Math.round(fontSize * 4.6);
      chart = place(heatmapPlot(spec, frame(width, Math.max(120, height - top)), layout).outerHTML, 0, top);
    } else {
      const plotWidth = width - lw;
      chart = place(heatmapPlot(spec, frame(plotWidth, height - top), layout).outerHTML, 0, top);
      legend = rampLegend(spec, layout, plotWidth, top + fontSize, lw - 2 * fontSize);
    }
  }

  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" ` +
    `height="${height}" font-family="${FONT_FAMILY}" font-size="${fontSize}" data-figure="${escapeXml(spec.name)}">` +
    `<title>${escapeXml(spec.title)}</title>` +
    `<rect width="${width}" height="${height}" fill="white"/>` +
    heading.join("") + chart + legend + `</svg>\n`;
}

/**
 * Tick labels of a log axis: plain decimals from 0.001 to 99 999, otherwise
 * short exponent form (`1e-6`), which keeps labels narrow enough for the margin.
 */
function logTick(d: number): string {
  const a = Math.abs(d);
  if (d !== 0 && (a < 1e-3 || a >= 1e5)) return d.toExponential().replace("e+", "e");
  return String(Number(d.toPrecision(6)));
}
