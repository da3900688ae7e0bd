/**
 * The experiment report: one self-contained HTML page (every figure inline as
 * SVG, styles in the page, nothing fetched) and a Markdown twin whose figures
 * are SVG files in a `figures/` folder beside it.
 *
 * It holds a table of final metrics per run, the training-dynamics figures,
 * the grid figures (with the runs missing from the grid), the configuration of
 * the runs, and any extra sections other parts of the package pass in (the
 * UFM experiments, the reproduction checks).
 *
 * @module
 */
import { joinPath, pathInside, writeFileAtomic } from "../io.ts";
import { markdownToHtml } from "./_markdown.ts";
import { escapeMarkdown } from "./escape_markdown.ts";
import { escapeXml } from "./_svg.ts";
import { dynamicsFigures } from "./dynamics_figures.ts";
import { heatmapFigures, type MissingRun } from "./heatmap_figures.ts";
import { lossStyle } from "./loss_style.ts";
import { renderSvg } from "./render_svg.ts";
import { figureFileName } from "./write_figures.ts";
import { metricInfo } from "../metrics/table.ts";
import { runName } from "../run/naming.ts";
import { settingsRecord } from "../run/config.ts";
import type { FigureSpec, RenderOptions, RunRecord } from "./types.ts";

/**
 * A section another part of the package adds to the report.
 *
 * @example
 * ```ts
 * const ufm: ReportSection = {
 *   title: "Unconstrained feature model",
 *   markdown: "All four losses reach NC1 < 1e-6 from 5 random starts.",
 *   figures: [ufmFigure],
 * };
 * ```
 */
export interface ReportSection {
  title: string;
  /** Body in Markdown: as is in `report.md`, converted for `report.html`. */
  markdown?: string;
  /** Figures drawn after the text (names must be unique across the report: they become file names). */
  figures?: FigureSpec[];
}

/** Options of {@linkcode buildReport}. */
export interface ReportOptions {
  /** Page title (default "Are all losses created equal? Experiment report"). */
  title?: string;
  /** Figure size and font. */
  render?: RenderOptions;
  /** Log scale for NC1 (default true). */
  logNc1?: boolean;
  /**
   * Which settings get training-dynamics figures: `largest` (default) draws the widest, longest
   * setting of each dataset and model, as the paper does; `all` draws every setting.
   */
  dynamics?: "largest" | "all";
  /** Timestamp printed under the title (default now); fixed in tests. */
  generated?: string;
}

/** What {@linkcode buildReport} returns: both documents and the figures the Markdown refers to. */
export interface ReportOutput {
  html: string;
  markdown: string;
  /** `figures/<name>.svg` paths relative to the report, with their SVG text. */
  figures: { path: string; svg: string }[];
  /** Grid points without a usable run (also listed in the report). */
  missing: MissingRun[];
}

/** The metrics of the final-metrics table, in order; headers and digits come from the metric table. */
const FINAL_COLUMNS = (["nc1", "nc2", "nc3", "nc4_bias", "nc4_ncc", "train_top1", "test_top1"] as const).map((key) => {
  const { label, digits } = metricInfo(key);
  return { header: label, key, digits };
});

function fmt(v: number | null | undefined, digits: number): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  // Small NC values lose everything in fixed notation.
  return Math.abs(v) !== 0 && Math.abs(v) < 10 ** -(digits - 1) ? v.toExponential(2) : v.toFixed(digits);
}

function sortRuns(runs: readonly RunRecord[]): RunRecord[] {
  return [...runs].sort((a, b) => {
    const x = a.info.run;
    const y = b.info.run;
    return x.dataset.localeCompare(y.dataset) || x.model.localeCompare(y.model) || x.width - y.width ||
      x.epochs - y.epochs || lossStyle(x).order - lossStyle(y).order || x.loss.localeCompare(y.loss) ||
      x.seed - y.seed;
  });
}

/** Rows of the final-metrics table: header row first; cells are plain text. */
function finalMetricsRows(runs: readonly RunRecord[]): string[][] {
  const header = [
    "run",
    "dataset",
    "loss",
    "width",
    "epochs",
    "seed",
    "last epoch",
    ...FINAL_COLUMNS.map((c) => c.header),
    "best epoch",
    "best-val test top-1 (%)",
  ];
  const rows = sortRuns(runs).map(({ info }) => {
    const last = info.epochs.length - 1;
    return [
      runName(info.run),
      info.run.dataset,
      lossStyle(info.run).label,
      String(info.run.width),
      String(info.run.epochs),
      String(info.run.seed),
      last >= 0 ? String(info.epochs[last]) : "–",
      ...FINAL_COLUMNS.map((c) => fmt(last >= 0 ? info.metrics[c.key]?.[last] : null, c.digits)),
      info.best ? String(info.best.epoch) : "–",
      fmt(info.best?.test_top1, 2),
    ];
  });
  return [header, ...rows];
}

/**
 * The training settings of each run: `config.json`'s (runtime settings and the
 * environment left out) when present, else the `run` block of `info.json`.
 */
function configOf(r: RunRecord): Record<string, unknown> {
  if (r.config) {
    const { save_path: _, dataset_root: __, backend: ___, download: ____, ...settings } = settingsRecord(r.config);
    return settings;
  }
  const { loss_params, ...rest } = r.info.run;
  return { ...rest, ...(loss_params ?? {}) };
}

/**
 * Where each run was made (`config.json`'s environment, flattened to dotted
 * keys): the backend, the TensorFlow, tfjs and Deno versions, the CPU model,
 * the thread counts, the package version and commit. Runs reproduce bit for
 * bit only where these agree. The dataset summary and start time are left out.
 */
function environmentOf(r: RunRecord): Record<string, unknown> {
  const { dataset_summary: _, started: __, ...env } = r.config?.environment ?? {};
  const flat: Record<string, unknown> = {};
  const walk = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else flat[prefix] = v;
  };
  walk("", env);
  return flat;
}

/** Values equal across all runs, and the table of values that differ (header row first). */
function configTables(
  runs: readonly RunRecord[],
  recordOf: (r: RunRecord) => Record<string, unknown> = configOf,
): { common: string[][]; varying: string[][] } {
  const sorted = sortRuns(runs);
  const configs = sorted.map(recordOf);
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].sort();
  const show = (v: unknown): string => v === undefined ? "–" : typeof v === "string" ? v : JSON.stringify(v);
  const common: string[][] = [["setting", "value"]];
  const varyingKeys: string[] = [];
  for (const k of keys) {
    const values = new Set(configs.map((c) => show(c[k])));
    if (values.size === 1) common.push([k, [...values][0]]);
    else varyingKeys.push(k);
  }
  const varying: string[][] = [["run", ...varyingKeys]];
  sorted.forEach((r, i) => varying.push([runName(r.info.run), ...varyingKeys.map((k) => show(configs[i][k]))]));
  return { common, varying: varyingKeys.length ? varying : [] };
}

function mdTable(rows: string[][]): string {
  if (rows.length === 0) return "";
  const [head, ...body] = rows;
  return [
    `| ${head.map(escapeMarkdown).join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...body.map((r) => `| ${r.map(escapeMarkdown).join(" | ")} |`),
  ].join("\n");
}

function htmlTable(rows: string[][]): string {
  if (rows.length === 0) return "";
  const [head, ...body] = rows;
  return `<div class="table"><table><thead><tr>${head.map((c) => `<th>${escapeXml(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`).join("")}</tbody>` +
    `</table></div>`;
}

/** The widest, longest setting of each dataset and model (the paper's dynamics figures use width 2, 800 epochs). */
function largestSettings(runs: readonly RunRecord[]): RunRecord[] {
  const best = new Map<string, { width: number; epochs: number }>();
  for (const { info: { run } } of runs) {
    const k = `${run.dataset}|${run.model}`;
    const b = best.get(k);
    if (!b || run.width > b.width || (run.width === b.width && run.epochs > b.epochs)) {
      best.set(k, { width: run.width, epochs: run.epochs });
    }
  }
  return runs.filter(({ info: { run } }) => {
    const b = best.get(`${run.dataset}|${run.model}`)!;
    return run.width === b.width && run.epochs === b.epochs;
  });
}

/** One piece of a block's body: a paragraph of plain text, a table (header row first), or Markdown. */
type Part = { text: string } | { table: string[][] } | { markdown: string };

/**
 * One section of the report, described once: `report.md` and `report.html`
 * are both rendered from it ({@linkcode blockMarkdown}, {@linkcode blockHtml}).
 */
interface Block {
  title: string;
  parts: Part[];
  figures: FigureSpec[];
}

function blockMarkdown(b: Block): string {
  return b.parts.map((p) => "text" in p ? escapeMarkdown(p.text) : "table" in p ? mdTable(p.table) : p.markdown)
    .filter((t) => t !== "").join("\n\n");
}

function blockHtml(b: Block): string {
  return b.parts.map((p) =>
    "text" in p ? `<p>${escapeXml(p.text)}</p>` : "table" in p ? htmlTable(p.table) : markdownToHtml(p.markdown)
  ).join("");
}

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px;
  padding: 0 1em; color: #111; line-height: 1.45; }
h1 { font-size: 1.7em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
.table { overflow-x: auto; } table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; white-space: nowrap; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 0.5em; }
code, pre { background: #f6f6f6; } pre { padding: 0.6em; overflow-x: auto; }
.meta { color: #555; }
`;

/**
 * Builds the report for `runs`, with `sections` appended after the package's own.
 * Nothing is written; see {@linkcode writeReport}.
 *
 * @example
 * ```ts
 * const report = buildReport(await selectRuns({ roots: ["runs"] }), [ufmSection]);
 * await writeReport("report", report);
 * ```
 */
export function buildReport(
  runs: readonly RunRecord[],
  sections: readonly ReportSection[] = [],
  options: ReportOptions = {},
): ReportOutput {
  const title = options.title ?? "Are all losses created equal? Experiment report";
  const generated = options.generated ?? new Date().toISOString();
  const blocks: Block[] = [finalMetricsBlock(runs)];
  if (runs.length) blocks.push(dynamicsBlock(runs, options));
  const { figures: gridFigures, missing } = heatmapFigures(runs);
  const cells = new Set(runs.map((r) => `${r.info.run.width}|${r.info.run.epochs}`));
  if (cells.size > 1) blocks.push(gridBlock(gridFigures, missing));
  if (runs.length) blocks.push(...configurationBlocks(runs));
  for (const s of sections) {
    blocks.push({ title: s.title, parts: [{ markdown: s.markdown ?? "" }], figures: s.figures ?? [] });
  }
  return { ...renderBlocks(blocks, title, generated, options.render), missing };
}

/** The final metrics of every run, with a sentence on what the table shows. */
function finalMetricsBlock(runs: readonly RunRecord[]): Block {
  const datasets = [...new Set(runs.map((r) => r.info.run.dataset))].join(", ");
  const losses = [...new Map(runs.map((r) => [lossStyle(r.info.run).label, lossStyle(r.info.run).order]))]
    .sort((a, b) => a[1] - b[1]).map(([label]) => label).join(", ");
  const summary = runs.length === 0
    ? "No runs were found."
    : `${runs.length} runs on ${datasets}; losses ${losses}. Accuracies are top-1 in percent; NC metrics and ` +
      `accuracies are taken at the last checkpoint, “best-val test top-1” is the test accuracy of the checkpoint ` +
      `with the highest validation accuracy.`;
  return {
    title: "Final metrics per run",
    parts: runs.length ? [{ text: summary }, { table: finalMetricsRows(runs) }] : [{ text: summary }],
    figures: [],
  };
}

/** The training dynamics of the largest setting per dataset and model (or of every setting). */
function dynamicsBlock(runs: readonly RunRecord[], options: ReportOptions): Block {
  const dynRuns = options.dynamics === "all" ? [...runs] : largestSettings(runs);
  const note = options.dynamics === "all"
    ? "One set of figures per setting."
    : "The widest network trained longest for each dataset and model, as in the paper.";
  return {
    title: "Training dynamics",
    parts: [{ text: note }],
    figures: dynamicsFigures(dynRuns, { logNc1: options.logNc1 ?? true }),
  };
}

/** The width × training-length figures, with the grid's missing runs listed. */
function gridBlock(figures: FigureSpec[], missing: readonly MissingRun[]): Block {
  const missingText = missing.length === 0
    ? "Every width × epochs × loss × seed combination of the grid has a run."
    : `${missing.length} runs of the grid are missing (empty cells; a * marks cells averaged over fewer seeds):`;
  const missingRows = [
    ["dataset", "model", "width", "epochs", "loss", "seed", "reason"],
    ...missing.map((m) => [m.dataset, m.model, String(m.width), String(m.epochs), m.loss, String(m.seed), m.reason]),
  ];
  return {
    title: "Width × training length",
    parts: missing.length ? [{ text: missingText }, { table: missingRows }] : [{ text: missingText }],
    figures,
  };
}

/** The runs' settings (shared, then differing) and, when recorded, where they were made. */
function configurationBlocks(runs: readonly RunRecord[]): Block[] {
  const blocks: Block[] = [];
  const { common, varying } = configTables(runs);
  const parts: Part[] = [{ text: "Settings shared by all runs:" }, { table: common }];
  if (varying.length) parts.push({ text: "Settings that differ between runs:" }, { table: varying });
  blocks.push({ title: "Configuration", parts, figures: [] });
  const env = configTables(runs.filter((r) => r.config), environmentOf);
  if (env.common.length > 1 || env.varying.length) {
    const envParts: Part[] = [{
      text: "Where the runs were made. Numbers reproduce bit for bit on the same CPU model with the same thread " +
        "counts and versions; the paper's claims hold across machines.",
    }, { table: env.common }];
    if (env.varying.length) envParts.push({ text: "What differs between runs:" }, { table: env.varying });
    blocks.push({ title: "Environment", parts: envParts, figures: [] });
  }
  return blocks;
}

/** The blocks as one HTML page (figures inline) and its Markdown twin (figures as files under `figures/`). */
function renderBlocks(
  blocks: readonly Block[],
  title: string,
  generated: string,
  render: ReportOptions["render"],
): Omit<ReportOutput, "missing"> {
  const figures: { path: string; svg: string }[] = [];
  const usedNames = new Set<string>();
  const mdParts = [`# ${escapeMarkdown(title)}`, "", `_Generated ${escapeMarkdown(generated)}._`, ""];
  const htmlParts: string[] = [];
  const toc: string[] = [];
  blocks.forEach((b, bi) => {
    const anchor = `s${bi + 1}`;
    toc.push(`<li><a href="#${anchor}">${escapeXml(b.title)}</a></li>`);
    mdParts.push(`## ${escapeMarkdown(b.title)}`, "", blockMarkdown(b), "");
    const figHtml: string[] = [];
    for (const spec of b.figures) {
      // Two sections may reuse a name; files must not overwrite each other, nor leave figures/.
      const name = figureFileName(spec.name, usedNames);
      const svg = renderSvg({ ...spec, name }, render);
      const path = `figures/${name}.svg`;
      figures.push({ path, svg });
      mdParts.push(`![${escapeMarkdown(spec.title)}](${path})`, "");
      figHtml.push(`<figure>${svg.trim()}</figure>`);
    }
    htmlParts.push(
      `<section id="${anchor}"><h2>${escapeXml(b.title)}</h2>\n${blockHtml(b)}\n` +
        (figHtml.length ? `<div class="grid">${figHtml.join("\n")}</div>` : "") + `</section>`,
    );
  });
  const html = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>\n` +
    `<h1>${escapeXml(title)}</h1><p class="meta">Generated ${escapeXml(generated)}.</p>` +
    `<nav><ol>${toc.join("")}</ol></nav>\n${htmlParts.join("\n")}\n</body></html>\n`;
  return { html, markdown: mdParts.join("\n"), figures };
}

/**
 * Writes `report.html`, `report.md` and `figures/*.svg` under `outDir`;
 * returns the paths of the two documents.
 */
export async function writeReport(outDir: string, report: ReportOutput): Promise<{ html: string; markdown: string }> {
  await Deno.mkdir(joinPath(outDir, "figures"), { recursive: true });
  for (const f of report.figures) await writeFileAtomic(pathInside(outDir, f.path), f.svg);
  const html = joinPath(outDir, "report.html");
  const markdown = joinPath(outDir, "report.md");
  await writeFileAtomic(html, report.html);
  await writeFileAtomic(markdown, report.markdown);
  return { html, markdown };
}
