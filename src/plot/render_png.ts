/**
 * PNG output: resvg (a Rust SVG renderer, loaded as a Node-API addon, hence
 * `--allow-ffi`) rasterises the SVG that {@linkcode renderSvg} wrote.
 *
 * resvg draws no text without a font: it loads the system's fonts and prefers
 * DejaVu Sans (Debian: `apt-get install fonts-dejavu-core`).
 *
 * @module
 */

// Loaded on first use, so that code which only draws SVG (and its tasks)
// needs no FFI permission.
let resvgModule: Promise<typeof import("@resvg/resvg-js")> | undefined;

/**
 * Rasterises an SVG document to PNG bytes at `scale` × its own size.
 *
 * @example
 * ```ts
 * await Deno.writeFile("figures/nc1.png", await renderPng(renderSvg(spec), 2));
 * ```
 */
export async function renderPng(svg: string, scale = 2): Promise<Uint8Array> {
  resvgModule ??= import("@resvg/resvg-js");
  const { Resvg } = await resvgModule;
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
