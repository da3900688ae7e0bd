/**
 * The figures and the report of a sweep's evaluated runs, as the dependent
 * Slurm job (or anyone, after a sweep) draws them: the dynamics and
 * width × epochs figures as SVG in `<root>/figures/`, the report in
 * `<root>/report/report.html` and `report.md`.
 *
 * @module
 */
import { joinPath } from "../io.ts";
import { readManifest } from "./manifest.ts";
import { type RunSettings, type SettingDifference, sweepRunsOnly } from "./run_settings.ts";
import {
  buildReport,
  dynamicsFigures,
  heatmapFigures,
  type ReportSection,
  type RunRecord,
  selectRuns,
  writeFigures,
  writeReport,
} from "../plot/mod.ts";

/** What {@linkcode drawSweepReport} wrote. */
export interface SweepReportPaths {
  runs: RunRecord[];
  figures: string[];
  html: string;
  markdown: string;
  /** Runs missing from the width × epochs grid. */
  missing: number;
  /** Grid points left out because their folder was trained with other settings than the sweep's. */
  refused: SettingDifference[];
}

/**
 * Draws the figures and the report of the evaluated runs under `root`
 * (see the module doc), with `sections` added to the report. Given
 * `settings`, a grid point of the sweep's manifest whose folder was trained
 * with other settings is left out and returned in `refused`. Throws
 * {@linkcode UserError} when no run there is evaluated.
 *
 * @example
 * ```ts
 * const { html } = await drawSweepReport("runs/small");
 * ```
 */
export async function drawSweepReport(
  root: string,
  sections: readonly ReportSection[] = [],
  title?: string,
  settings?: RunSettings,
): Promise<SweepReportPaths> {
  const found = await selectRuns({ roots: [root], onSkip: () => {} });
  const manifest = settings ? await readManifest(root) : null;
  const { kept: runs, refused } = manifest && settings
    ? sweepRunsOnly(found, root, manifest.config, settings)
    : { kept: found, refused: [] };
  const grid = heatmapFigures(runs);
  const figures = await writeFigures([...dynamicsFigures(runs), ...grid.figures], joinPath(root, "figures"), "svg");
  const report = buildReport(runs, sections, { title });
  const written = await writeReport(joinPath(root, "report"), report);
  return { runs, figures, ...written, missing: grid.missing.length, refused };
}
