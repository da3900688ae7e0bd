/**
 * The files of the dashboard page, all from the package and read once at
 * start: the HTML and CSS of `src/serve/static/`, the browser's TypeScript
 * modules served as JavaScript with their types stripped (Node's
 * `stripTypeScriptTypes`, built into Deno: no bundler, no download), and
 * Observable Plot with d3 from the package's own `node_modules` (no CDN: the
 * page works offline).
 *
 * Every URL maps to one entry of a fixed table; nothing is looked up on disk
 * by a request's path.
 *
 * @module
 */
import { stripTypeScriptTypes } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One file of the page. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

const SRC = fileURLToPath(new URL("../", import.meta.url));
const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The browser's modules, as paths under `src/`; each is served at `/js/<path>`,
 * so the relative imports between them resolve in the browser as they do here.
 */
export const BROWSER_MODULES: readonly string[] = [
  "serve/browser/app.ts",
  "serve/browser/figures.ts",
  "serve/browser/table.ts",
  "serve/browser/format.ts",
  "plot/plot_options.ts",
];

const STATIC_FILES: Record<string, string> = {
  "/": "index.html",
  "/static/style.css": "style.css",
};

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

/** The d3 and Plot UMD builds: Plot's package lists d3 as its dependency, installed beside it. */
async function vendorFiles(): Promise<Record<string, string>> {
  const plot = await Deno.realPath(join(PACKAGE, "node_modules", "@observablehq", "plot"));
  return {
    "/vendor/d3.min.js": join(dirname(dirname(plot)), "d3", "dist", "d3.min.js"),
    "/vendor/plot.umd.min.js": join(plot, "dist", "plot.umd.min.js"),
  };
}

/**
 * Reads every file of the page into memory, keyed by URL path. Throws when a
 * file is missing (an incomplete `deno install`), naming it.
 *
 * @example
 * ```ts
 * const assets = await loadAssets();
 * assets.get("/")?.contentType; // "text/html; charset=utf-8"
 * ```
 */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const encoder = new TextEncoder();
  for (const [url, file] of Object.entries(STATIC_FILES)) {
    const ext = file.slice(file.lastIndexOf(".") + 1);
    assets.set(url, { body: await Deno.readFile(join(SRC, "serve", "static", file)), contentType: TYPES[ext] });
  }
  for (const module of BROWSER_MODULES) {
    const source = await Deno.readTextFile(join(SRC, module));
    assets.set(`/js/${module}`, { body: encoder.encode(stripTypeScriptTypes(source)), contentType: TYPES.js });
  }
  for (const [url, path] of Object.entries(await vendorFiles())) {
    try {
      assets.set(url, { body: await Deno.readFile(path), contentType: TYPES.js });
    } catch (e) {
      throw new Error(`${path}: cannot read (${(e as Error).message}); run 'deno install' in ${PACKAGE}`);
    }
  }
  return assets;
}
