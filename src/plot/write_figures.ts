/**
 * Writing rendered figures to a folder, one file per figure named after the
 * specification (`<name>.svg` or `<name>.png`), each written atomically.
 * Figure names carry values read from run folders (dataset, model), so the
 * file name is {@linkcode figureFileName}'s: made safe, unique, and checked
 * to stay inside the output folder.
 *
 * @module
 */
import { pathInside, safeFileName, writeFileAtomic } from "../io.ts";
import { renderPng } from "./render_png.ts";
import { renderSvg } from "./render_svg.ts";
import type { FigureSpec, RenderOptions } from "./types.ts";

/** Output formats of the figure tasks. */
export const FIGURE_FORMATS = ["svg", "png"] as const;
/** One of {@linkcode FIGURE_FORMATS}. */
export type FigureFormat = typeof FIGURE_FORMATS[number];

/**
 * Renders every figure and writes it under `outDir` (created if needed);
 * returns the written paths in the order of `figures`.
 *
 * @example
 * ```ts
 * const paths = await writeFigures(dynamicsFigures(runs), "figures", "svg");
 * ```
 */
export async function writeFigures(
  figures: readonly FigureSpec[],
  outDir: string,
  format: FigureFormat,
  options: RenderOptions = {},
): Promise<string[]> {
  await Deno.mkdir(outDir, { recursive: true });
  const paths: string[] = [];
  const used = new Set<string>();
  for (const spec of figures) {
    const svg = renderSvg(spec, options);
    const path = pathInside(outDir, `${figureFileName(spec.name, used)}.${format}`);
    await writeFileAtomic(path, format === "svg" ? svg : await renderPng(svg));
    paths.push(path);
  }
  return paths;
}

/**
 * The file name (without extension) of the figure named `name`: the name made
 * safe ({@linkcode safeFileName}: a run's `info.json` may say its dataset is
 * `../../x`), with `-2`, `-3`, … appended when an earlier figure in `used`
 * took it; the result is added to `used`.
 *
 * @example
 * ```ts
 * const used = new Set<string>();
 * figureFileName("cifar10-mlp-w1-e8-nc1", used); // "cifar10-mlp-w1-e8-nc1"
 * figureFileName("cifar10-mlp-w1-e8-nc1", used); // "cifar10-mlp-w1-e8-nc1-2"
 * figureFileName("../../x-nc1", used); // "_x-nc1"
 * ```
 */
export function figureFileName(name: string, used: Set<string>): string {
  const safe = safeFileName(name);
  let unique = safe;
  for (let k = 2; used.has(unique); k++) unique = `${safe}-${k}`;
  used.add(unique);
  return unique;
}
