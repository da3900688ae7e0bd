/**
 * The flags that the figure and report tasks (`plot`, `heatmap`, `report`,
 * and the figures of `reproduce`) share: which runs (`--runs`, `--run` and
 * the configuration filters), the NC1 axis, and the figures' size and
 * format; and what parsed flags mean for `selectRuns` and `writeFigures`.
 *
 * @example
 * ```ts
 * import { parseFlags } from "../cli.ts";
 * const values = parseFlags(["--runs", "runs/", "--width", "2"], RUN_SELECTION_FLAGS);
 * const sources = runSources(values, (dir, reason) => console.warn(`skipping ${dir}: ${reason}`));
 * const filter = runFilter(values); // then selectRuns(sources, filter)
 * ```
 *
 * @module
 */
import { defineFlags, type FlagValues, repositoryPath } from "../cli.ts";
import type { RunSources } from "../run/load.ts";
import type { RunFilter } from "./filter_runs.ts";
import { DEFAULT_RENDER } from "./render_svg.ts";
import type { RenderOptions } from "./types.ts";
import { FIGURE_FORMATS } from "./write_figures.ts";

/** `--runs`, `--run` and the configuration filters: which runs a figure or report is made of. */
export const RUN_SELECTION_FLAGS = defineFlags([
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
 * found under `--runs` that cannot be read are skipped and given to `onSkip`
 * (the tasks print a warning); one named by `--run` stays an error.
 */
export function runSources(
  values: FlagValues<typeof RUN_SELECTION_FLAGS>,
  onSkip: (dir: string, reason: string) => void,
): RunSources {
  const roots = values["runs"] ?? [];
  const dirs = values["run"] ?? [];
  if (roots.length === 0 && dirs.length === 0) return { roots: [repositoryPath("runs")], onSkip };
  return { roots, dirs, onSkip };
}

/** The configuration filter of the parsed flags. */
export function runFilter(values: FlagValues<typeof RUN_SELECTION_FLAGS>): RunFilter {
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
