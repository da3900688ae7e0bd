/**
 * PNG output: resvg (a Rust SVG renderer, loaded as a Node-API addon, hence
 * `--allow-ffi`) rasterises the SVG that {@linkcode renderSvg} wrote.
 *
 * resvg draws no text without a font: it loads the system's fonts and prefers
 * DejaVu Sans (Debian: `apt-get install fonts-dejavu-core`).
 *
 * @module
 */
import { Resvg } from "@resvg/resvg-js";

/**
 * Rasterises an SVG document to PNG bytes at `scale` × its own size.
 *
 * @example
 * ```ts
 * await Deno.writeFile("figures/nc1.png", renderPng(renderSvg(spec), 2));
 * ```
 */
export function renderPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  return new Uint8Array(resvg.render().asPng());
}
