/**
 * `deno task plot`: the training-dynamics figures (NC1–NC4, train / validation /
 * test top-1 against epoch, one line per loss) of the runs under `--runs` or
 * given by `--run`, one set per dataset × model × width × training length;
 * for runs evaluated with `--layers`, also NC1 against depth (one line per
 * loss and chosen epoch, `--layer-epochs`).
 *
 * This file also holds the flags that the `heatmap` and `report` tasks share
 * with it (run selection and figure rendering).
 *
 *   deno task plot --runs runs/ --width 2 --epochs 800            # into runs/figures/
 *   deno task plot --run runs/a --run runs/b --format png --font-size 16
 *   deno task plot --runs runs/ --layer-epochs 10,200                # NC1 against depth at epochs 10 and 200
 */
import { defineFlags, type FlagValues, repositoryPath, runTask } from "../src/cli.ts";
import { UserError } from "../src/errors.ts";
import {
  DEFAULT_RENDER,
  depthFigures,
  dynamicsFigures,
  epochRanges,
  FIGURE_FORMATS,
  type FigureSpec,
  layerDataEpochs,
  type RenderOptions,
  type RunFilter,
  type RunRecord,
  type RunSources,
  selectRuns,
  writeFigures,
} from "../src/plot/mod.ts";
import { leaveOutOffGridRuns } from "./_sweep_runs.ts";

/** `--runs`, `--run` and the configuration filters. */
export const RUN_FLAGS = defineFlags([
  {
    name: "runs",
    type: "paths",
    expect: "folder",
    help: "folders scanned recursively for info.json (comma list; default: runs, in the repository)",
  },
  { name: "run", type: "paths", expect: "folder", help: "run folders given explicitly (repeatable or comma list)" },
  { name: "width", type: "numbers", help: "keep runs of these width multipliers (comma list)" },
  { name: "epochs", type: "ints", aliases: ["-e"], help: "keep runs of these training lengths (comma list)" },
  { name: "dataset", type: "list", help: "keep runs on these datasets (comma list)" },
  { name: "model", type: "list", help: "keep runs of these models (comma list)" },
]);

/** `--log-nc1` (default on; `--no-log-nc1` for a linear axis), for the figures and the report alike. */
export const LOG_NC1_FLAGS = defineFlags([
  { name: "log-nc1", type: "boolean", default: true, help: "log scale for NC1 (--no-log-nc1 for linear)" },
]);

/** `--width-px`, `--height-px`, `--font-size`. */
export const SIZE_FLAGS = defineFlags([
  {
    name: "width-px",
    type: "int",
    min: 240,
    max: 8000,
    default: DEFAULT_RENDER.widthPx,
    help: "figure width in pixels",
  },
  {
    name: "height-px",
    type: "int",
    min: 160,
    max: 8000,
    default: DEFAULT_RENDER.heightPx,
    help: "figure height in pixels",
  },
  {
    name: "font-size",
    type: "number",
    min: 6,
    max: 48,
    default: DEFAULT_RENDER.fontSize,
    help: "base font size in pixels",
  },
]);

/** `--format` and the size flags. */
export const RENDER_FLAGS = defineFlags([
  { name: "format", type: "choice", choices: FIGURE_FORMATS, default: "svg", help: "figure file format" },
  ...SIZE_FLAGS,
]);

/**
 * The run sources of parsed flags; the repository's `runs/` when neither
 * `--runs` nor `--run` is given (both may be repeated or comma lists). Runs
 * found under `--runs` that cannot be read are skipped with a warning.
 */
export function runSources(values: FlagValues<typeof RUN_FLAGS>): RunSources {
  const roots = values["runs"] ?? [];
  const dirs = values["run"] ?? [];
  // A broken run found by scanning is skipped with a warning; one named by --run stays an error.
  const onSkip = (dir: string, reason: string) => console.error(`warning: skipping ${dir}: ${reason}`);
  if (roots.length === 0 && dirs.length === 0) return { roots: [repositoryPath("runs")], onSkip };
  return { roots, dirs, onSkip };
}

/** The configuration filter of the parsed flags. */
export function runFilter(values: FlagValues<typeof RUN_FLAGS>): RunFilter {
  return {
    width: values.width,
    epochs: values.epochs,
    dataset: values.dataset,
    model: values.model,
  };
}

/** The size and font options of the parsed flags. */
export function renderOptions(values: FlagValues<typeof SIZE_FLAGS>): RenderOptions {
  return {
    widthPx: values["width-px"],
    heightPx: values["height-px"],
    fontSize: values["font-size"],
  };
}

/**
 * Writes the figures made from `runCount` runs to `--out` in `--format` at the flags' size, prints how many
 * runs made how many figures, and returns the files' paths in the figures' order.
 */
export async function writeFigureFiles(
  figures: readonly FigureSpec[],
  runCount: number,
  values: FlagValues<typeof RENDER_FLAGS> & { out: string },
): Promise<string[]> {
  const paths = await writeFigures(figures, values.out, values.format, renderOptions(values));
  console.log(`${runCount} runs → ${paths.length} figures:`);
  return paths;
}

const FLAGS = defineFlags([
  ...RUN_FLAGS,
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

if (import.meta.main) {
  await runTask("deno task plot [flags]", FLAGS, async (values) => {
    const runs = await leaveOutOffGridRuns(
      await selectRuns(runSources(values), runFilter(values)),
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
    const paths = await writeFigureFiles(figures, runs.length, values);
    for (let i = 0; i < paths.length; i++) {
      const f = figures[i];
      const note = f.series.length === 0 ? "  (no data)" : "";
      console.log(`  ${paths[i]}${note}`);
    }
  });
}
