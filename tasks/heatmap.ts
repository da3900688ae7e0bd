/**
 * `deno task heatmap`: the width × training-length figures of the runs,
 * averaged over seeds: |Acc_CE − Acc_loss| per loss, each loss's accuracy,
 * the variance over seeds and losses, and test accuracy against epochs.
 * Runs missing from the grid are listed here and drawn as empty cells.
 *
 *   deno task heatmap --runs runs/ --dataset cifar100 --out my-figures/
 */
import { defineFlags, runTask } from "../src/cli.ts";
import { heatmapFigures, selectRuns } from "../src/plot/mod.ts";
import { RENDER_FLAGS, RUN_FLAGS, runFilter, runSources, writeFigureFiles } from "./plot.ts";
import { leaveOutOffGridRuns } from "./_sweep_runs.ts";

const FLAGS = defineFlags([
  ...RUN_FLAGS,
  { name: "out", type: "path", expect: "folder", default: "runs/figures", help: "output folder" },
  ...RENDER_FLAGS,
]);

if (import.meta.main) {
  await runTask("deno task heatmap [flags]", FLAGS, async (values) => {
    const runs = await leaveOutOffGridRuns(
      await selectRuns(runSources(values), runFilter(values)),
      values.run,
    );
    const { figures, missing } = heatmapFigures(runs);
    const paths = await writeFigureFiles(figures, runs.length, values);
    for (const p of paths) console.log(`  ${p}`);
    if (missing.length) {
      console.log(`${missing.length} runs missing from the grid (empty cells; * = fewer seeds than expected):`);
      for (const m of missing) {
        console.log(
          `  ${m.dataset} ${m.model} width ${m.width} epochs ${m.epochs} ${m.loss} seed ${m.seed}: ${m.reason}`,
        );
      }
    }
  });
}
