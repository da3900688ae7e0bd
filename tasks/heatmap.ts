/**
 * `deno task heatmap`: the width × training-length figures of the runs,
 * averaged over seeds: |Acc_CE − Acc_loss| per loss, each loss's accuracy,
 * the variance over seeds and losses, and test accuracy against epochs.
 * Runs missing from the grid are listed here and drawn as empty cells.
 *
 *   deno task heatmap --runs runs/ --dataset cifar100 --out my-figures/
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import {
  heatmapFigures,
  RENDER_FLAGS,
  renderOptions,
  RUN_SELECTION_FLAGS,
  runFilter,
  runSources,
  selectRuns,
  writeFigures,
} from "../src/plot/mod.ts";
import { warnSkippedRun } from "./_progress.ts";
import { leaveOutOffGridRuns } from "./_sweep_runs.ts";

const FLAGS = defineFlags([
  ...RUN_SELECTION_FLAGS,
  { name: "out", type: "path", expect: "folder", default: "runs/figures", help: "output folder" },
  ...RENDER_FLAGS,
]);

/** Draws the width × training-length figures of the runs the flags select, and lists the grid's missing runs. */
async function main(values: FlagValues<typeof FLAGS>): Promise<void> {
  const runs = await leaveOutOffGridRuns(
    await selectRuns(runSources(values, warnSkippedRun), runFilter(values)),
    values.run,
  );
  const { figures, missing } = heatmapFigures(runs);
  const paths = await writeFigures(figures, values.out, values.format, renderOptions(values));
  console.log(`${runs.length} runs → ${paths.length} figures:`);
  for (const p of paths) console.log(`  ${p}`);
  if (missing.length) {
    console.log(`${missing.length} runs missing from the grid (empty cells; * = fewer seeds than expected):`);
    for (const m of missing) {
      console.log(
        `  ${m.dataset} ${m.model} width ${m.width} epochs ${m.epochs} ${m.loss} seed ${m.seed}: ${m.reason}`,
      );
    }
  }
}

if (import.meta.main) {
  await runTask("deno task heatmap [flags]", FLAGS, main);
}
