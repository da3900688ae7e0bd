/// <reference lib="dom" />
/**
 * The dashboard page: loads the run table, keeps it current from the
 * server's event stream, and draws the figures of the selected runs and the
 * grid figures of the evaluated ones (browser module, served with its types
 * stripped; Observable Plot is the `Plot` global of its UMD build).
 *
 * @module
 */
import type { PlotNamespace } from "../../plot/plot_options.ts";
import type { MissingRun } from "../../plot/heatmap_figures.ts";
import type { FigureSpec } from "../../plot/types.ts";
import type { RunRow } from "../run_index.ts";
import { element, formatValue } from "./format.ts";
import { drawFigure } from "./figures.ts";
import { RunTable } from "./table.ts";

const Plot = (globalThis as unknown as { Plot: PlotNamespace }).Plot;

interface RunsResponse {
  root: string;
  reports: string[];
  infoVersion: number;
  runs: RunRow[];
}

interface RunsEvent {
  changed: RunRow[];
  removed: string[];
  reports: string[];
  infoVersion: number;
}

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let selected: string[] = [];
let infoVersion = -1;
let figureTimer: ReturnType<typeof setTimeout> | undefined;
let heatmapTimer: ReturnType<typeof setTimeout> | undefined;

const table = new RunTable(byId<HTMLTableElement>("runs"), byId("filters"), {
  onSelect(id, toggle) {
    if (toggle) selected = selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id];
    else selected = [id];
    table.setSelected(selected);
    void showSelection();
  },
});

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).trim()}`);
  return await res.json() as T;
}

function showReports(reports: string[]): void {
  const nav = byId("reports");
  nav.textContent = "";
  for (const path of reports) {
    const a = element("a", path);
    a.href = `/files/${path.split("/").map(encodeURIComponent).join("/")}`;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    nav.append(a);
  }
}

/** The width figures get: two per row on a wide screen, one on a narrow one. */
function figureWidth(container: HTMLElement): number {
  const w = container.clientWidth || 900;
  const columns = w >= 1400 ? 3 : w >= 900 ? 2 : 1;
  return Math.floor((w - 16 * (columns - 1)) / columns) - 18;
}

function drawFigures(container: HTMLElement, figures: FigureSpec[]): void {
  const width = figureWidth(container);
  const nodes = figures.map((f) => drawFigure(Plot, f, width));
  container.replaceChildren(...nodes);
}

async function showDetails(id: string): Promise<void> {
  const details = byId("details");
  const { row, config } = await getJson<{ row: RunRow; config: Record<string, unknown> | null }>(
    `/api/run?id=${encodeURIComponent(id)}`,
  );
  details.textContent = "";
  details.append(element("h2", row.id));
  if (row.reason) details.append(element("p", `failed in ${row.failedStage ?? "?"}: ${row.reason}`, "reason"));
  const dl = element("dl");
  const settings: [string, unknown][] = [["state", row.state], ...Object.entries(config ?? {})];
  for (const [k, v] of settings) dl.append(element("dt", k), element("dd", formatValue(v)));
  details.append(dl);
}

async function showSelection(): Promise<void> {
  const container = byId("figures");
  const title = byId("figures-title");
  if (selected.length === 0) {
    title.textContent = "Select a run in the table (tick several to overlay them)";
    container.textContent = "";
    byId("details").textContent = "";
    return;
  }
  title.textContent = selected.length === 1 ? `Figures of ${selected[0]}` : `Figures of ${selected.length} runs`;
  const query = selected.map((id) => `id=${encodeURIComponent(id)}`).join("&");
  try {
    const { figures } = await getJson<{ figures: FigureSpec[] }>(`/api/figures?${query}`);
    drawFigures(container, figures);
    await showDetails(selected[0]);
  } catch (e) {
    container.replaceChildren(element("p", (e as Error).message, "error"));
  }
}

async function showHeatmaps(): Promise<void> {
  const { figures, missing } = await getJson<{ figures: FigureSpec[]; missing: MissingRun[] }>("/api/heatmaps");
  const section = byId("grid");
  section.hidden = figures.length === 0;
  drawFigures(byId("heatmaps"), figures);
  const list = byId("missing");
  list.textContent = "";
  for (const m of missing) {
    list.append(
      element(
        "li",
        `${m.dataset} ${m.model} width ${m.width}, ${m.epochs} epochs, ${m.loss}, seed ${m.seed}: ${m.reason}`,
      ),
    );
  }
  byId("missing-count").textContent = `${missing.length} grid points without a result`;
}

function scheduleFigures(): void {
  clearTimeout(figureTimer);
  figureTimer = setTimeout(() => void showSelection(), 250);
}

function scheduleHeatmaps(version: number): void {
  if (version === infoVersion) return;
  infoVersion = version;
  clearTimeout(heatmapTimer);
  heatmapTimer = setTimeout(() => void showHeatmaps().catch(showError), 500);
}

function showError(e: unknown): void {
  byId("status").textContent = `error: ${(e as Error).message}`;
}

async function loadAll(): Promise<void> {
  const data = await getJson<RunsResponse>("/api/runs");
  byId("root").textContent = data.root;
  showReports(data.reports);
  table.setAll(data.runs);
  selected = selected.filter((id) => table.row(id));
  table.setSelected(selected);
  scheduleHeatmaps(data.infoVersion);
  if (selected.length) scheduleFigures();
}

function listen(): void {
  const status = byId("status");
  const events = new EventSource("/api/events");
  let lost = false;
  events.addEventListener("hello", () => {
    status.textContent = "live";
    status.className = "live";
    // After a lost connection, events may have been missed: read everything again.
    if (lost) void loadAll().catch(showError);
    lost = false;
  });
  events.addEventListener("runs", (e) => {
    const data = JSON.parse((e as MessageEvent).data) as RunsEvent;
    table.update(data.changed, data.removed);
    showReports(data.reports);
    scheduleHeatmaps(data.infoVersion);
    if (data.changed.some((r) => selected.includes(r.id)) || data.removed.some((id) => selected.includes(id))) {
      selected = selected.filter((id) => table.row(id));
      scheduleFigures();
    }
    byId("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  });
  events.onerror = () => {
    lost = true;
    status.textContent = "reconnecting…";
    status.className = "lost";
  };
}

loadAll().then(listen, showError);
