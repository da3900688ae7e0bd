/**
 * Figures of the paper from run records, in two steps: functions that turn
 * runs' `info.json` into figure specifications (plain data), and one renderer
 * that draws a specification to SVG (Observable Plot on linkedom) or PNG (resvg).
 *
 * ```ts
 * import { dynamicsFigures, heatmapFigures, selectRuns, writeFigures } from "./src/plot/mod.ts";
 *
 * const runs = await selectRuns({ roots: ["runs"] }, { width: [2], epochs: [800] });
 * await writeFigures(dynamicsFigures(runs), "figures", "svg");
 * const { figures, missing } = heatmapFigures(await selectRuns({ roots: ["runs"] }));
 * await writeFigures(figures, "figures", "png", { widthPx: 900, fontSize: 14 });
 * ```
 *
 * @module
 */
export * from "./types.ts";
export { epochRanges, findRunDirs, loadRun, loadRuns, parseRunInfo, runName, type RunSources } from "../run/mod.ts";
export { filterRuns, type RunFilter } from "./filter_runs.ts";
export { selectRuns } from "./select_runs.ts";
export { LOSS_ORDER, type LossStyle, lossStyle } from "./loss_style.ts";
export { aggregateSeeds } from "./aggregate_seeds.ts";
export { DYNAMICS_METRICS, dynamicsFigures, type DynamicsOptions, lossSeries } from "./dynamics_figures.ts";
export { logFigures, type RunLog } from "./log_figures.ts";
export { depthFigures, type DepthOptions, layerDataEpochs } from "./depth_figures.ts";
export { heatmapFigures, type HeatmapResult, type MissingRun } from "./heatmap_figures.ts";
export { DEFAULT_RENDER, renderSvg } from "./render_svg.ts";
export { heatmapColorScale, lineLegend, type PlotFrame, plotOptions } from "./plot_options.ts";
export { renderPng } from "./render_png.ts";
export { FIGURE_FORMATS, type FigureFormat, writeFigures } from "./write_figures.ts";
export { escapeMarkdown } from "./escape_markdown.ts";
export { buildReport, type ReportOptions, type ReportOutput, type ReportSection, writeReport } from "./report.ts";
export {
  LOG_NC1_FLAGS,
  RENDER_FLAGS,
  renderOptions,
  RUN_SELECTION_FLAGS,
  runFilter,
  runSources,
  SIZE_FLAGS,
} from "./flags.ts";
