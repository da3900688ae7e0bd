/**
 * `deno task plot`: the training-dynamics figures (NC1–NC4, train / validation /
 * test top-1 against epoch, one line per loss) of the runs under `--runs` or
 * given by `--run`, one set per dataset × model × width × training length;
 * for runs evaluated with `--layers`, also NC1 against depth (one line per
 * loss and chosen epoch, `--layer-epochs`).
 *
 *   deno task plot --runs runs/ --width 2 --epochs 800            # into runs/figures/
 *   deno task plot --run runs/a --run runs/b --format png --font-size 16
 *   deno task plot --runs runs/ --layer-epochs 10,200                # NC1 against depth at epochs 10 and 200
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import {
  depthFigures,
  dynamicsFigures,
  LOG_NC1_FLAGS,
  RENDER_FLAGS,
  renderOptions,
  RUN_SELECTION_FLAGS,
  runFilter,
  runSources,
  selectRuns,
  writeFigures,
} from "../src/plot/mod.ts";
import { warnSkippedRun } from "./_progress.ts";

const FLAGS = defineFlags([
  ...RUN_SELECTION_FLAGS,
  { name: "out", type: "path", expect: "folder", default: "runs/figures", help: "output folder" },
  ...LOG_NC1_FLAGS,
  {
    name: "layer-epochs",
    type: "ints",
    help: "epochs of the NC1-against-depth figure (comma list; default: first and last with layer data)",
  },
  ...RENDER_FLAGS,
]);

/** Draws the dynamics (and depth) figures of the runs the flags select. */
async function main(values: FlagValues<typeof FLAGS>): Promise<void> {
  const runs = await selectRuns(runSources(values, warnSkippedRun), runFilter(values));
  const figures = [
    ...dynamicsFigures(runs, { logNc1: values["log-nc1"] }),
    ...depthFigures(runs, { epochs: values["layer-epochs"] }),
  ];
  const paths = await writeFigures(figures, values.out, values.format, renderOptions(values));
  console.log(`${runs.length} runs → ${paths.length} figures:`);
  for (let i = 0; i < paths.length; i++) {
    const f = figures[i];
    const note = f.series.length === 0 ? "  (no data)" : "";
    console.log(`  ${paths[i]}${note}`);
  }
}

if (import.meta.main) {
  await runTask("deno task plot [flags]", FLAGS, main);
}
