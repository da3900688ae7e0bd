/**
 * The figures and the report of a sweep's evaluated runs, as the dependent
 * Slurm job (or anyone, after a sweep) draws them: the dynamics and
 * width × epochs figures as SVG in `<root>/figures/`, the report in
 * `<root>/report/report.html` and `report.md`. A grid with several seeds
 * gets the claims of its configuration (`claims.ts`: the manifest's, or the
 * defaults of the grid's corners) as a section of the report.
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
import { claimsSection, hasClaimGrid } from "./claims.ts";
import { claimsOf, defaultClaims } from "./grid.ts";
import type { ClaimCheck } from "./reproduction_checks.ts";

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
  /** The claims checked (empty when the runs are no grid with several seeds). */
  checks: ClaimCheck[];
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
  const manifest = await readManifest(root);
  const { kept: runs, refused } = manifest && settings
    ? sweepRunsOnly(found, root, manifest.config, settings)
    : { kept: found, refused: [] };
  const grid = heatmapFigures(runs);
  const figures = await writeFigures([...dynamicsFigures(runs), ...grid.figures], joinPath(root, "figures"), "svg");
  let checks: ClaimCheck[] = [];
  const all = [...sections];
  if (hasClaimGrid(runs)) {
    const config = manifest?.config;
    const claims = config
      ? claimsOf(config)
      : defaultClaims(runs.map((r) => r.info.run.width), runs.map((r) => r.info.run.epochs));
    const section = claimsSection(
      runs,
      claims,
      "The paper's main claim decided on this grid by its pre-registered claims (docs/statistics.md): the gap " +
        "between losses shrinks along the width and the length axes (one-sided seed-bootstrap tests of the " +
        "noise-corrected gap Ĝ, Holm-corrected over the two), and every loss is equivalent to CE in the " +
        "widest-longest cell (TOST), for the best-validation checkpoint and the last epoch.",
    );
    checks = section.checks;
    all.unshift({ title: "Claims", markdown: section.markdown });
  }
  const report = buildReport(runs, all, { title });
  const written = await writeReport(joinPath(root, "report"), report);
  return { runs, figures, ...written, missing: grid.missing.length, refused, checks };
}
