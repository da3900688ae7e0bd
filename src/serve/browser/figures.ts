/// <reference lib="dom" />
/**
 * Drawing figure specifications in the page: the chart through the same
 * `plotOptions` as the SVG files (with pointer tooltips), the title, the
 * subtitle and the legend as HTML built with `textContent` (browser module,
 * served with its types stripped).
 *
 * @module
 */
import { heatmapColorScale, lineLegend, type PlotNamespace, plotOptions } from "../../plot/plot_options.ts";
import type { FigureSpec, LegendEntry } from "../../plot/types.ts";
import { element } from "./format.ts";

const SVG = "http://www.w3.org/2000/svg";

/** A legend swatch: a short line in the entry's colour and dash, with its marker. */
function swatch(entry: LegendEntry): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", "30");
  svg.setAttribute("height", "12");
  const line = document.createElementNS(SVG, "line");
  for (const [k, v] of [["x1", "1"], ["x2", "29"], ["y1", "6"], ["y2", "6"], ["stroke-width", "2"]]) {
    line.setAttribute(k, v);
  }
  line.setAttribute("stroke", entry.color);
  if (entry.dash) line.setAttribute("stroke-dasharray", entry.dash);
  svg.append(line);
  if (entry.marker) {
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", "15");
    dot.setAttribute("cy", "6");
    dot.setAttribute("r", "3.5");
    dot.setAttribute("fill", entry.color);
    svg.append(dot);
  }
  return svg;
}

/**
 * The element of one figure: a `<figure>` with its title, subtitle, legend and
 * chart, `width` pixels wide.
 */
export function drawFigure(Plot: PlotNamespace, spec: FigureSpec, width: number): HTMLElement {
  const figure = element("figure", "", "figure");
  figure.dataset.figure = spec.name;
  figure.append(element("h3", spec.title));
  if (spec.subtitle) figure.append(element("p", spec.subtitle, "subtitle"));
  const legend = element("div", "", "legend");
  if (spec.kind === "line") {
    for (const block of lineLegend(spec)) {
      if (block.title) legend.append(element("span", block.title, "legend-title"));
      for (const entry of block.entries) {
        const item = element("span", "", "legend-entry");
        item.append(swatch(entry), document.createTextNode(entry.label));
        legend.append(item);
      }
    }
  } else {
    const color = heatmapColorScale(spec);
    if (color) legend.append(Plot.legend({ color, width: Math.min(260, width - 20) }) as unknown as Node);
  }
  figure.append(legend);
  const height = spec.kind === "heatmap" ? Math.max(220, 60 + 48 * spec.yDomain.length) : 280;
  const chart = Plot.plot(plotOptions(Plot, spec, { width, height, fontSize: 12, tooltips: true }));
  figure.append(chart as unknown as Node);
  return figure;
}
