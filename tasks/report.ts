/**
 * `deno task report`: one self-contained HTML page (figures inline as SVG)
 * and its Markdown twin (figures as SVG files beside it) for the runs under
 * `--runs`: final metrics per run, training dynamics, the width × epochs grid,
 * and the runs' configuration.
 *
 *   deno task report --runs runs/                 # runs/report/report.html and report.md
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import {
  buildReport,
  LOG_NC1_FLAGS,
  renderOptions,
  RUN_SELECTION_FLAGS,
  runFilter,
  runSources,
  selectRuns,
  SIZE_FLAGS,
  writeReport,
} from "../src/plot/mod.ts";
import { warnSkippedRun } from "./_progress.ts";
import { leaveOutOffGridRuns } from "./_sweep_runs.ts";

const FLAGS = defineFlags([
  ...RUN_SELECTION_FLAGS,
  {
    name: "out",
    type: "path",
    expect: "folder",
    default: "runs/report",
    help: "output folder (report.html, report.md, figures/)",
  },
  { name: "title", type: "string", help: "page title" },
  ...LOG_NC1_FLAGS,
  {
    name: "dynamics",
    type: "choice",
    choices: ["largest", "all"],
    default: "largest",
    help: "dynamics figures for the widest, longest setting per dataset and model, or for every setting",
  },
  ...SIZE_FLAGS,
]);

/** Writes the report of the runs the flags select. */
async function main(values: FlagValues<typeof FLAGS>): Promise<void> {
  const runs = await leaveOutOffGridRuns(
    await selectRuns(runSources(values, warnSkippedRun), runFilter(values)),
    values.run,
  );
  const report = buildReport(runs, [], {
    title: values.title,
    render: renderOptions(values),
    logNc1: values["log-nc1"],
    dynamics: values.dynamics,
  });
  const paths = await writeReport(values.out, report);
  console.log(`${runs.length} runs → ${paths.html} and ${paths.markdown} (${report.figures.length} figures)`);
  if (report.missing.length) {
    console.log(`${report.missing.length} runs missing from the grid (listed in the report)`);
  }
}

if (import.meta.main) {
  await runTask("deno task report [flags]", FLAGS, main);
}
