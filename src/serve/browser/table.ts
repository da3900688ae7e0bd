/// <reference lib="dom" />
/**
 * The run table: one row per run, updated in place as rows arrive, sortable
 * by any column and filtered by loss, width, epochs, seed, state and name.
 * Every cell is set with `textContent` (browser module, served with its types
 * stripped).
 *
 * @module
 */
import type { RunRow } from "../run_index.ts";
import { element, formatDuration, formatPercent } from "./format.ts";

interface Column {
  key: string;
  label: string;
  /** Sort key of a row. */
  value(r: RunRow): string | number | null;
  /** Fills the cell. */
  fill(td: HTMLTableCellElement, r: RunRow): void;
  numeric?: boolean;
}

const setText = (td: HTMLTableCellElement, text: string): void => {
  td.textContent = text;
};

function progressCell(td: HTMLTableCellElement, r: RunRow): void {
  td.textContent = "";
  const bar = element("span", "", "bar");
  const fill = element("span", "", "bar-fill");
  const fraction = r.epochs ? Math.min(1, r.epochDone / r.epochs) : 0;
  fill.style.width = `${(fraction * 100).toFixed(1)}%`;
  bar.append(fill);
  td.append(bar, element("span", `${r.epochDone} / ${r.epochs ?? "?"}`, "epoch-count"));
}

/** The note of a row: why it failed, a file that could not be read, or where it runs. */
function noteOf(r: RunRow): string {
  if (r.reason) return `${r.failedStage ? `${r.failedStage}: ` : ""}${r.reason}`;
  if (r.problem) return r.problem;
  return [r.jobId ? `job ${r.jobId}` : "", r.node ? `on ${r.node}` : ""].filter(Boolean).join(" ");
}

const COLUMNS: Column[] = [
  {
    key: "state",
    label: "state",
    value: (r) => r.state,
    fill: (td, r) => {
      td.textContent = "";
      td.append(element("span", r.state, `state state-${r.state.replace(/[^a-z]/g, "")}`));
    },
  },
  { key: "name", label: "run", value: (r) => r.id, fill: (td, r) => setText(td, r.id) },
  {
    key: "loss",
    label: "loss",
    value: (r) => r.lossLabel ?? r.loss,
    fill: (td, r) => {
      td.textContent = "";
      const dot = element("span", "", "loss-dot");
      if (r.lossColor) dot.style.background = r.lossColor;
      td.append(dot, document.createTextNode(r.lossLabel ?? r.loss ?? "?"));
    },
  },
  {
    key: "width",
    label: "width",
    numeric: true,
    value: (r) => r.width,
    fill: (td, r) => setText(td, `${r.width ?? "–"}`),
  },
  {
    key: "epochs",
    label: "epochs",
    numeric: true,
    value: (r) => r.epochs,
    fill: (td, r) => setText(td, `${r.epochs ?? "–"}`),
  },
  { key: "seed", label: "seed", numeric: true, value: (r) => r.seed, fill: (td, r) => setText(td, `${r.seed ?? "–"}`) },
  {
    key: "progress",
    label: "progress",
    value: (r) => (r.epochs ? r.epochDone / r.epochs : 0),
    fill: progressCell,
  },
  {
    key: "spe",
    label: "s / epoch",
    numeric: true,
    value: (r) => r.secondsPerEpoch,
    fill: (td, r) => setText(td, formatDuration(r.secondsPerEpoch)),
  },
  {
    key: "left",
    label: "time left",
    numeric: true,
    value: (r) => r.secondsLeft,
    fill: (td, r) => setText(td, formatDuration(r.secondsLeft)),
  },
  {
    key: "val",
    label: "val top-1",
    numeric: true,
    value: (r) => r.valTop1,
    fill: (td, r) => setText(td, formatPercent(r.valTop1)),
  },
  {
    key: "test",
    label: "test top-1",
    numeric: true,
    value: (r) => r.testTop1,
    fill: (td, r) => setText(td, formatPercent(r.testTop1)),
  },
  { key: "note", label: "note", value: noteOf, fill: (td, r) => setText(td, noteOf(r)) },
];

/** The filters: a select per field, and a text match on the run's path. */
const FILTERS: { key: keyof RunRow; label: string }[] = [
  { key: "state", label: "state" },
  { key: "loss", label: "loss" },
  { key: "width", label: "width" },
  { key: "epochs", label: "epochs" },
  { key: "seed", label: "seed" },
];

/** What the table reports to the page. */
export interface TableEvents {
  /** A row was clicked (`toggle`: its checkbox, to overlay it with the others). */
  onSelect(id: string, toggle: boolean): void;
}

/** The table element and its rows, keyed by run id. */
export class RunTable {
  #rows = new Map<string, RunRow>();
  #trs = new Map<string, HTMLTableRowElement>();
  #tbody = element("tbody");
  #sortKey = "name";
  #sortDir = 1;
  #selects = new Map<string, HTMLSelectElement>();
  #search = element("input");
  #count = element("span", "", "count");
  #selected = new Set<string>();
  /** The row each table row was last drawn from: unchanged rows are not drawn again. */
  #drawn = new Map<string, RunRow>();
  #events: TableEvents;

  constructor(table: HTMLTableElement, filters: HTMLElement, events: TableEvents) {
    this.#events = events;
    const head = element("thead");
    const tr = element("tr");
    tr.append(element("th", "", "check"));
    for (const c of COLUMNS) {
      const th = element("th", c.label, c.numeric ? "num" : "");
      th.dataset.key = c.key;
      th.title = `sort by ${c.label}`;
      th.addEventListener("click", () => this.#sortBy(c.key));
      tr.append(th);
    }
    head.append(tr);
    table.append(head, this.#tbody);
    this.#search.type = "search";
    this.#search.placeholder = "filter runs by name";
    this.#search.addEventListener("input", () => this.#render());
    filters.append(this.#search);
    for (const f of FILTERS) {
      const select = element("select");
      select.dataset.filter = String(f.key);
      select.title = f.label;
      select.addEventListener("change", () => this.#render());
      this.#selects.set(String(f.key), select);
      const label = element("label", `${f.label} `);
      label.append(select);
      filters.append(label);
    }
    filters.append(this.#count);
  }

  /** Replaces every row. */
  setAll(rows: RunRow[]): void {
    this.#rows = new Map(rows.map((r) => [r.id, r]));
    for (const tr of this.#trs.values()) tr.remove();
    this.#trs.clear();
    this.#drawn.clear();
    this.#render();
  }

  /** Changes and removes rows in place. */
  update(changed: RunRow[], removed: string[]): void {
    for (const id of removed) {
      this.#rows.delete(id);
      this.#trs.get(id)?.remove();
      this.#trs.delete(id);
      this.#drawn.delete(id);
    }
    for (const r of changed) this.#rows.set(r.id, r);
    this.#render();
  }

  /** The row of `id`. */
  row(id: string): RunRow | undefined {
    return this.#rows.get(id);
  }

  /** Marks the selected runs. */
  setSelected(ids: readonly string[]): void {
    this.#selected = new Set(ids);
    for (const [id, tr] of this.#trs) {
      tr.classList.toggle("selected", this.#selected.has(id));
      (tr.firstElementChild?.firstElementChild as HTMLInputElement | null)!.checked = this.#selected.has(id);
    }
  }

  #sortBy(key: string): void {
    this.#sortDir = this.#sortKey === key ? -this.#sortDir : 1;
    this.#sortKey = key;
    this.#render();
  }

  #refreshFilters(): void {
    for (const [key, select] of this.#selects) {
      const values = [...new Set([...this.#rows.values()].map((r) => r[key as keyof RunRow]))]
        .filter((v) => v !== null && v !== undefined)
        .sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))));
      const current = select.value;
      const wanted = ["", ...values.map(String)];
      const have = [...select.options].map((o) => o.value);
      if (have.join("\u0000") === wanted.join("\u0000")) continue;
      select.textContent = "";
      for (const v of wanted) {
        const option = element("option", v === "" ? "all" : v);
        option.value = v;
        select.append(option);
      }
      select.value = wanted.includes(current) ? current : "";
    }
  }

  #visible(r: RunRow): boolean {
    const text = this.#search.value.trim().toLowerCase();
    if (text && !r.id.toLowerCase().includes(text)) return false;
    for (const [key, select] of this.#selects) {
      if (select.value !== "" && String(r[key as keyof RunRow]) !== select.value) return false;
    }
    return true;
  }

  #tr(r: RunRow): HTMLTableRowElement {
    let tr = this.#trs.get(r.id);
    if (!tr) {
      tr = element("tr");
      tr.dataset.id = r.id;
      const check = element("td", "", "check");
      const box = element("input");
      box.type = "checkbox";
      box.title = "overlay this run on the figures";
      box.addEventListener("click", (e) => {
        e.stopPropagation();
        this.#events.onSelect(r.id, true);
      });
      check.append(box);
      tr.append(check);
      for (const c of COLUMNS) {
        const td = element("td", "", c.numeric ? "num" : "");
        td.dataset.col = c.key;
        tr.append(td);
      }
      tr.addEventListener("click", () => this.#events.onSelect(r.id, false));
      this.#trs.set(r.id, tr);
    }
    const row = this.#rows.get(r.id)!;
    if (this.#drawn.get(r.id) !== row) {
      COLUMNS.forEach((c, i) => c.fill(tr!.children[i + 1] as HTMLTableCellElement, row));
      this.#drawn.set(r.id, row);
    }
    tr.classList.toggle("selected", this.#selected.has(r.id));
    return tr;
  }

  #render(): void {
    this.#refreshFilters();
    const column = COLUMNS.find((c) => c.key === this.#sortKey)!;
    const rows = [...this.#rows.values()].filter((r) => this.#visible(r));
    rows.sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      if (x === y) return a.id < b.id ? -1 : 1;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * this.#sortDir;
    });
    const visible = new Set(rows.map((r) => r.id));
    for (const [id, tr] of this.#trs) if (!visible.has(id)) tr.remove();
    // Appending an element already in the body moves it: the body ends in sorted order.
    for (const r of rows) this.#tbody.append(this.#tr(r));
    for (const th of this.#tbody.parentElement?.querySelectorAll("th") ?? []) {
      const key = (th as HTMLElement).dataset.key;
      th.classList.toggle("sorted", key === this.#sortKey);
      th.classList.toggle("descending", key === this.#sortKey && this.#sortDir < 0);
    }
    const counts = new Map<string, number>();
    for (const r of this.#rows.values()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    this.#count.textContent = `${rows.length} of ${this.#rows.size} runs · ` +
      [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
  }
}
