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
import { UserError } from "../src/errors.ts";
import {
  depthFigures,
  dynamicsFigures,
  epochRanges,
  layerDataEpochs,
  LOG_NC1_FLAGS,
  RENDER_FLAGS,
  renderOptions,
  RUN_SELECTION_FLAGS,
  runFilter,
  type RunRecord,
  runSources,
  selectRuns,
  writeFigures,
} from "../src/plot/mod.ts";
import { warnSkippedRun } from "./_progress.ts";
import { leaveOutOffGridRuns } from "./_sweep_runs.ts";

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

/**
 * Throws {@linkcode UserError} when `--layer-epochs` would draw nothing: no
 * run has layer data, or none has it at any epoch asked for (the message
 * says which epochs have it).
 */
function checkLayerEpochs(asked: readonly number[], runs: readonly RunRecord[]): void {
  const measured = layerDataEpochs(runs);
  const flag = `--layer-epochs ${asked.join(",")}`;
  if (measured.length === 0) {
    throw new UserError(
      `${flag}: none of the ${runs.length} runs has layer data; evaluate them with 'deno task evaluate --layers'`,
    );
  }
  if (!asked.some((e) => measured.includes(e))) {
    throw new UserError(
      `${flag}: no run has layer data there; the runs have layer data at epochs ${epochRanges(measured)}`,
    );
  }
}

/** Draws the dynamics (and depth) figures of the runs the flags select. */
async function main(values: FlagValues<typeof FLAGS>): Promise<void> {
  const runs = await leaveOutOffGridRuns(
    await selectRuns(runSources(values, warnSkippedRun), runFilter(values)),
    values.run,
  );
  const layerEpochs = values["layer-epochs"];
  if (layerEpochs) checkLayerEpochs(layerEpochs, runs);
  const figures = [
    ...dynamicsFigures(runs, { logNc1: values["log-nc1"] }),
    ...depthFigures(runs, {
      epochs: layerEpochs,
      onMissing: (setting, missing, measured) =>
        console.error(
          `warning: --layer-epochs: ${setting} has no layer data at epoch${missing.length > 1 ? "s" : ""} ` +
            `${missing.join(", ")}, left out of its figure (it has layer data at epochs ${epochRanges(measured)})`,
        ),
    }),
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
