/** Rendering specifications: well-formed standalone SVG with title, viewBox, axis labels, legend; PNG with text. */
import { assert, assertEquals, assertMatch, assertNotEquals } from "./_assert.ts";
import {
  dynamicsFigures,
  type HeatmapFigure,
  heatmapFigures,
  type LineFigure,
  parseRunInfo,
  renderPng,
  renderSvg,
  type RunRecord,
  writeFigures,
} from "../src/plot/mod.ts";
import { grid, syntheticInfo } from "./fixtures/plot/synthetic_runs.ts";
import { all, assertWellFormedXml, parseSvg, type SvgElement } from "./fixtures/plot/xml.ts";

const runs: RunRecord[] = grid([0.5, 2], [100, 200], [1, 2], undefined, 8)
  .filter((s) => !(s.width === 0.5 && s.epochs === 200 && s.loss === "focal_loss"))
  .map((s) => ({ dir: "x", info: parseRunInfo(JSON.stringify(syntheticInfo(s)), "x") }));

function texts(root: SvgElement): string[] {
  return all(root, "text").map((t) => (t.textContent ?? "").trim());
}

/** Checks what every figure must have; returns the parsed root. */
function checkStandalone(svg: string, title: string): SvgElement {
  assertWellFormedXml(svg);
  const root = parseSvg(svg);
  assertEquals(root.tagName.toLowerCase(), "svg");
  assertEquals(root.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  assertMatch(root.getAttribute("viewBox") ?? "", /^0 0 \d+ \d+$/);
  assertEquals(root.querySelector("title")?.textContent, title);
  assert(texts(root).includes(title), "visible title");
  return root;
}

Deno.test("line figure: axis labels, one path per series, legend entries with markers", () => {
  const fig = dynamicsFigures(runs).find((f) => f.name === "cifar100-wide_resnet50-w2-e200-nc2")!;
  const svg = renderSvg(fig, { widthPx: 800, heightPx: 500, fontSize: 15 });
  const root = checkStandalone(svg, fig.title);
  assertEquals(root.getAttribute("viewBox"), "0 0 800 500");
  const t = texts(root);
  assert(t.includes("epoch"), "x label");
  assert(t.includes(fig.yLabel), "y label");
  const linePaths = all(root, 'g[aria-label="line"] path');
  assertEquals(linePaths.length, 4);
  assert(linePaths.every((p) => (p.getAttribute("d") ?? "").split("L").length >= 8), "lines span the checkpoints");
  assertEquals(all(root, 'g[aria-label="area"] path').length, 4, "min–max bands for 2 seeds");
  const entries = all(root, "g.legend-entry");
  assertEquals(entries.map((e) => e.querySelector("text")?.textContent), [
    "CE",
    "LS (α = 0.05)",
    "FL (γ = 3)",
    "MSE (scale 15)",
  ]);
  assert(entries.every((e) => e.querySelector("line") && (e.querySelector("circle") || e.querySelector("path"))));
  assertEquals(root.getAttribute("font-size"), "15");
});

Deno.test("log NC1 axis and the log₂ epochs axis render", () => {
  const nc1 = dynamicsFigures(runs)[0];
  assertEquals(nc1.yScale, "log");
  checkStandalone(renderSvg(nc1), nc1.title);
  const lines = heatmapFigures(runs).figures.find((f) => f.name.endsWith("accuracy-vs-epochs")) as LineFigure;
  const root = checkStandalone(renderSvg(lines), lines.title);
  assertEquals(all(root, 'g[aria-label="line"] path').length, lines.series.length);
  const legendTitles = all(root, "g.legend > text").map((e) => e.textContent);
  assertEquals(legendTitles, ["width", "loss"]);
  // Non-CE lines are dashed in the plot and in the legend.
  assert(all(root, 'g[aria-label="line"]').some((g) => g.getAttribute("stroke-dasharray")));
});

Deno.test("heatmap: one text per cell with its number, empty cells drawn, colour ramp", () => {
  const { figures } = heatmapFigures(runs);
  const fig = figures.find((f) => f.name.endsWith("heatmap-acc-fl")) as HeatmapFigure;
  const root = checkStandalone(renderSvg(fig), fig.title);
  const cellTexts = all(root, 'g[aria-label="text"] text').map((e) => e.textContent);
  // A cell with an interval has it on a second line (a second <tspan>); textContent joins the lines.
  assertEquals(cellTexts, fig.cells.map((c) => c.text.replace("\n", "")));
  const twoLines = fig.cells.findIndex((c) => c.text.includes("\n"));
  assert(twoLines >= 0, "some cell averages several seeds");
  assertEquals([...all(root, 'g[aria-label="text"] text')[twoLines].querySelectorAll("tspan")].length, 2);
  assert(cellTexts.includes("–"), "the missing FL cell is drawn empty");
  assertEquals(all(root, 'g[aria-label="cell"] rect').length, 4, "3 filled + 1 empty");
  const t = texts(root);
  assert(t.includes("training epochs") && t.includes("width multiplier"));
  assert(t.includes(fig.colorLabel), "ramp legend label");
  assert(root.querySelector("linearGradient"), "ramp gradient");
});

Deno.test("empty figures say 'no data'", () => {
  const empty: LineFigure = {
    kind: "line",
    name: "e",
    title: "Empty",
    xLabel: "epoch",
    yLabel: "y",
    xScale: "linear",
    yScale: "log",
    series: [],
  };
  assert(texts(checkStandalone(renderSvg(empty), "Empty")).includes("no data"));
  const blank: HeatmapFigure = {
    kind: "heatmap",
    name: "h",
    title: "Blank",
    xLabel: "x",
    yLabel: "y",
    xDomain: ["1"],
    yDomain: ["1"],
    cells: [{ x: "1", y: "1", value: null, text: "–" }],
    colorLabel: "c",
    scheme: "viridis",
  };
  assert(texts(checkStandalone(renderSvg(blank), "Blank")).includes("no data"));
});

Deno.test("text is escaped", () => {
  const fig: LineFigure = {
    kind: "line",
    name: "esc",
    title: 'a < b & "c"',
    xLabel: "x<1>",
    yLabel: "y&",
    xScale: "linear",
    yScale: "linear",
    series: [{
      label: "<CE> & co",
      color: "#1f77b4",
      marker: "circle",
      runs: 1,
      points: [{ x: 1, y: 1 }, { x: 2, y: 2 }],
    }],
  };
  const root = checkStandalone(renderSvg(fig), 'a < b & "c"');
  assert(texts(root).includes("<CE> & co"));
});

Deno.test("PNG: resvg loads under Deno and draws the text", async () => {
  const fig = dynamicsFigures(runs)[5];
  const png = await renderPng(renderSvg(fig), 1);
  assertEquals([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  // Through renderPng itself: without a usable font the text draws nothing and both PNGs are the same bytes.
  const svg = (text: string) =>
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="5" y="28" font-size="24" ' +
    `font-family="DejaVu Sans, sans-serif">${text}</text></svg>`;
  const [withText, blank] = [await renderPng(svg("NC1"), 1), await renderPng(svg(""), 1)];
  assertNotEquals(withText, blank, "no glyphs drawn: install fonts-dejavu-core");

  const dir = await Deno.makeTempDir({ prefix: "plot_render_" });
  try {
    const paths = await writeFigures([fig], dir, "png", { widthPx: 400, heightPx: 300 });
    assertEquals(paths, [`${dir}/${fig.name}.png`]);
    const bytes = await Deno.readFile(paths[0]);
    // PNG width/height at zoom 2 sit in the IHDR chunk.
    const view = new DataView(bytes.buffer);
    assertEquals(view.getUint32(16), 800);
    assertEquals(view.getUint32(20), 600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
