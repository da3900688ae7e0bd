/**
 * Writing rendered figures to a folder, one file per figure named after the
 * specification (`<name>.svg` or `<name>.png`), each written atomically.
 *
 * @module
 */
import { joinPath, writeFileAtomic } from "../io.ts";
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
  for (const spec of figures) {
    const svg = renderSvg(spec, options);
    const path = joinPath(outDir, `${spec.name}.${format}`);
    await writeFileAtomic(path, format === "svg" ? svg : await renderPng(svg));
    paths.push(path);
  }
  return paths;
}
