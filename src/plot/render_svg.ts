/**
 * The one place that draws figure specifications to files: Observable Plot
 * (with the options of `plot_options.ts`, which the dashboard shares) on a
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
import { heatmapColorDomain, heatmapColorScale, lineLegend, plotOptions } from "./plot_options.ts";
import type { FigureSpec, HeatmapFigure, LegendBlock, RenderOptions } from "./types.ts";

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

/** The chart of `spec` on a `width` × `height` frame, drawn by Plot into `document`. */
function chartSvg(spec: FigureSpec, width: number, height: number, layout: Layout, document: PlotDocument): string {
  const frame = { width, height, fontSize: layout.fontSize, fontFamily: FONT_FAMILY };
  return (Plot.plot({ ...plotOptions(Plot, spec, frame), document }) as unknown as Rendered).outerHTML;
}

/**
 * A colour-ramp legend: a gradient bar with the label above and three ticks below.
 * Drawn by hand because Plot paints continuous ramps on a canvas, which linkedom lacks.
 */
function rampLegend(spec: HeatmapFigure, layout: Layout, x: number, y: number, width: number): string {
  const domain = heatmapColorDomain(spec);
  const scale = heatmapColorScale(spec);
  if (!domain || !scale) return "";
  const color = Plot.scale({ color: scale });
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
  const chartAt = (plotWidth: number, plotHeight: number) => chartSvg(spec, plotWidth, plotHeight, layout, document);

  let chart: string;
  let legend = "";
  if (spec.kind === "line") {
    const blocks = lineLegend(spec);
    const lw = blocks.length ? legendWidth(blocks, fontSize) : 0;
    if (lw > width * 0.35) {
      // Too narrow for a legend column: the legend goes in rows above the chart.
      const rows = legendRowsSvg(blocks, fontSize, top, textMax, fontSize);
      legend = rows.svg;
      top += Math.round(rows.height);
      chart = place(chartAt(width, Math.max(120, height - top)), 0, top);
    } else {
      const plotWidth = width - lw;
      chart = place(chartAt(plotWidth, height - top), 0, top);
      if (blocks.length) legend = legendSvg(blocks, plotWidth, top + fontSize, fontSize);
    }
  } else {
    const lw = Math.max(180, Math.min(260, Math.round(width * 0.3)));
    if (width < 560) {
      // Narrow: the colour ramp goes above the cells.
      const rampWidth = Math.min(240, textMax);
      legend = rampLegend(spec, layout, fontSize, top, rampWidth);
      if (legend) top += Math.round(fontSize * 4.6);
      chart = place(chartAt(width, Math.max(120, height - top)), 0, top);
    } else {
      const plotWidth = width - lw;
      chart = place(chartAt(plotWidth, height - top), 0, top);
      legend = rampLegend(spec, layout, plotWidth, top + fontSize, lw - 2 * fontSize);
    }
  }

  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" ` +
    `height="${height}" font-family="${FONT_FAMILY}" font-size="${fontSize}" data-figure="${escapeXml(spec.name)}">` +
    `<title>${escapeXml(spec.title)}</title>` +
    `<rect width="${width}" height="${height}" fill="white"/>` +
    heading.join("") + chart + legend + `</svg>\n`;
}
