/**
 * What the dashboard knows about a runs folder, kept current by polling: every
 * run folder under it (a folder holding `config.json`, `log.jsonl` or
 * `info.json`), every sweep manifest (and the runs it lists that have no
 * folder yet), and every `report.html`, each as a {@linkcode RunRow} for the
 * table.
 *
 * Polling rather than file-system events, because on a cluster the runs are
 * written by other nodes onto a shared file system, whose changes never
 * reach this node's inotify. A refresh costs one `stat` per folder: writers
 * rename every file into place, which changes the folder's modification time,
 * so a folder whose time is unchanged is not read again. Logs are read only
 * at their end ({@linkcode readLogEnd}), so a refresh costs the same however
 * long the runs train.
 *
 * It only reads: it never opens a file for writing and never takes a lock.
 * Symbolic links are not followed (a link cannot lead the listing out of the
 * folder), nor are folders whose names start with a dot.
 *
 * @module
 */
import { joinPath } from "../io.ts";
import { lossStyle } from "../plot/loss_style.ts";
import { RUN_FILES, SWEEP_FILES } from "../run/files.ts";
import { parseRunInfo, type RunInfo } from "../run/info.ts";
import type { RunRecord } from "../run/load.ts";
import type { ManifestRun } from "../sweep/manifest.ts";
import type { EpochRecord } from "../run/epoch_log.ts";
import { readLogEnd } from "./log_tail.ts";

/** The report file a folder may hold (`deno task report`, `deno task reproduce`). */
export const REPORT_FILE = "report.html";

/** How deep under the runs folder run folders are looked for (a reproduction's runs sit at depth 2). */
const MAX_DEPTH = 4;

/** Records of the log's end that time an epoch. */
const RECENT_EPOCHS = 5;

/** One run as the table shows it; every string in it comes from the runs folder and is data, never markup. */
export interface RunRow {
  /** The run folder relative to the runs folder, `/`-separated: the run's identity in every endpoint. */
  id: string;
  /** The folder's name. */
  name: string;
  /** The folder holding the manifest that lists the run (relative, `""` for the runs folder), or `null`. */
  sweep: string | null;
  /** The manifest's state, or for a run no manifest lists: `evaluated`, `trained`, `training` or `pending`. */
  state: string;
  failedStage?: string;
  reason?: string;
  exitCode?: number;
  dataset: string | null;
  model: string | null;
  loss: string | null;
  /** Legend label with the loss's parameter (`FL (γ = 3)`) and the figures' colour of the loss. */
  lossLabel: string | null;
  lossColor: string | null;
  width: number | null;
  epochs: number | null;
  seed: number | null;
  /** The last epoch in `log.jsonl` (0 without one). */
  epochDone: number;
  /** Mean seconds of the last few epochs, or `null` before the first. */
  secondsPerEpoch: number | null;
  /** Estimated seconds of training left (remaining epochs × `secondsPerEpoch`), `null` when not training. */
  secondsLeft: number | null;
  /** When `log.jsonl` last changed (ms since 1970), or `null`. */
  logUpdated: number | null;
  trainTop1: number | null;
  valTop1: number | null;
  /** Test top-1 of the best-validation checkpoint (`info.json`). */
  testTop1: number | null;
  /** Checkpoints measured in `info.json`. */
  evaluatedCheckpoints: number;
  /** Under Slurm: the array task and node. */
  jobId?: string;
  node?: string;
  /** A file that could not be read, and why (the run is still listed). */
  problem?: string;
}

/** A run folder's state on disk and what was read from it. */
interface RunEntry {
  abs: string;
  dirMtime: number;
  logTail: EpochRecord[];
  logUpdated: number | null;
  config: Record<string, unknown> | null;
  info: RunInfo | null;
  problem?: string;
}

interface SweepEntry {
  /** The manifest's modification time and size when read. */
  stamp: string;
  runs: Record<string, ManifestRun>;
  dataset: string | null;
  model: string | null;
}

interface DirEntry {
  mtime: number;
  dirs: string[];
  files: Set<string>;
}

/** What one refresh changed. */
export interface IndexChanges {
  /** Rows that are new or differ from before. */
  changed: RunRow[];
  /** Ids of rows that are gone. */
  removed: string[];
  /** Whether the set of reports changed. */
  reportsChanged: boolean;
}

const isRunFile = (name: string): boolean =>
  name === RUN_FILES.config || name === RUN_FILES.log || name === RUN_FILES.info;

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Modification times have millisecond resolution here: two changes within one millisecond, the second after a
 * read, would look like none. A folder changed in the last two seconds is therefore read again whatever its time.
 */
const recent = (mtime: number): boolean => Date.now() - mtime < 2000;

const num = (v: unknown): number | null => typeof v === "number" && Number.isFinite(v) ? v : null;
const str = (v: unknown): string | null => typeof v === "string" ? v : null;

/**
 * The runs of a runs folder, refreshed on demand.
 *
 * @example
 * ```ts
 * const index = new RunIndex("/abs/runs");
 * await index.refresh();
 * index.rows().map((r) => `${r.id}: ${r.state} ${r.epochDone}/${r.epochs}`);
 * ```
 */
export class RunIndex {
  #dirs = new Map<string, DirEntry>();
  #runs = new Map<string, RunEntry>();
  #sweeps = new Map<string, SweepEntry>();
  #rows = new Map<string, RunRow>();
  #rowJson = new Map<string, string>();
  #reports: string[] = [];
  /** Counts changes to the set of `info.json` files read; the grid figures are redrawn when it moves. */
  infoVersion = 0;

  /** `root`: the runs folder, absolute. */
  constructor(readonly root: string) {}

  /** Every row, sorted by id. */
  rows(): RunRow[] {
    return [...this.#rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The row of `id`, or `undefined`. */
  row(id: string): RunRow | undefined {
    return this.#rows.get(id);
  }

  /** The absolute folder of a run that has one on disk, or `undefined` (never built from `id` itself). */
  folderOf(id: string): string | undefined {
    return this.#runs.get(id)?.abs;
  }

  /** The `config.json` of a run as written (only its plain values), or `null`. */
  config(id: string): Record<string, unknown> | null {
    return this.#runs.get(id)?.config ?? null;
  }

  /** Relative paths of the `report.html` files, sorted. */
  reports(): string[] {
    return this.#reports;
  }

  /** The evaluated runs (those with a readable `info.json`), as the figure functions take them; `ids` narrows. */
  records(ids?: readonly string[]): RunRecord[] {
    const keep = ids ? new Set(ids) : null;
    const out: RunRecord[] = [];
    for (const [id, e] of this.#runs) {
      if (e.info && (!keep || keep.has(id))) out.push({ dir: e.abs, info: e.info });
    }
    return out.sort((a, b) => (a.dir < b.dir ? -1 : 1));
  }

  /** Reads what changed since the last refresh and returns the rows that differ. */
  async refresh(): Promise<IndexChanges> {
    const runDirs: string[] = [];
    const sweepDirs: string[] = [];
    const reports: string[] = [];
    const seenDirs = new Set<string>();
    const walk = async (rel: string, depth: number): Promise<void> => {
      seenDirs.add(rel);
      const entry = await this.#readDir(rel);
      if (!entry) return;
      if (entry.files.has(REPORT_FILE)) reports.push(rel === "" ? REPORT_FILE : `${rel}/${REPORT_FILE}`);
      if (entry.files.has(SWEEP_FILES.manifest)) sweepDirs.push(rel);
      if (rel !== "" && [...entry.files].some(isRunFile)) {
        runDirs.push(rel);
        return;
      }
      if (depth >= MAX_DEPTH) return;
      await Promise.all(entry.dirs.map((d) => walk(rel === "" ? d : `${rel}/${d}`, depth + 1)));
    };
    await walk("", 0);
    for (const d of this.#dirs.keys()) if (!seenDirs.has(d)) this.#dirs.delete(d);

    await forEachLimited(sweepDirs, 8, (rel) => this.#readSweep(rel));
    for (const s of this.#sweeps.keys()) if (!sweepDirs.includes(s)) this.#sweeps.delete(s);
    await forEachLimited(runDirs, 32, (rel) => this.#readRun(rel));
    const runSet = new Set(runDirs);
    for (const [r, e] of this.#runs) {
      if (runSet.has(r)) continue;
      if (e.info) this.infoVersion++;
      this.#runs.delete(r);
    }

    const next = new Map<string, RunRow>();
    for (const [rel, run] of this.#runs) next.set(rel, this.#row(rel, run));
    for (const [sweepRel, sweep] of this.#sweeps) {
      for (const [name, entry] of Object.entries(sweep.runs)) {
        const id = sweepRel === "" ? name : `${sweepRel}/${name}`;
        if (!next.has(id) && /^[^/\\]+$/.test(name) && name !== "." && name !== "..") {
          next.set(id, this.#row(id, null));
        }
        void entry;
      }
    }
    const changed: RunRow[] = [];
    for (const [id, row] of next) {
      const json = JSON.stringify(row);
      if (this.#rowJson.get(id) !== json) {
        changed.push(row);
        this.#rowJson.set(id, json);
      }
    }
    const removed = [...this.#rows.keys()].filter((id) => !next.has(id));
    for (const id of removed) this.#rowJson.delete(id);
    this.#rows = next;
    reports.sort();
    const reportsChanged = reports.join("\n") !== this.#reports.join("\n");
    this.#reports = reports;
    return { changed, removed, reportsChanged };
  }

  /** A folder's listing, read again only when its modification time changed; `null` when it is gone. */
  async #readDir(rel: string): Promise<DirEntry | null> {
    const abs = rel === "" ? this.root : joinPath(this.root, rel);
    const st = await statOrNull(abs);
    if (!st || !st.isDirectory) {
      this.#dirs.delete(rel);
      return null;
    }
    const mtime = st.mtime?.getTime() ?? 0;
    const cached = this.#dirs.get(rel);
    if (cached && cached.mtime === mtime && !recent(mtime)) return cached;
    const entry: DirEntry = { mtime, dirs: [], files: new Set() };
    try {
      for await (const e of Deno.readDir(abs)) {
        // readDir reports a symbolic link as a link, never as what it points to: links are not followed.
        if (e.isFile) entry.files.add(e.name);
        else if (e.isDirectory && !e.name.startsWith(".")) entry.dirs.push(e.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    entry.dirs.sort();
    this.#dirs.set(rel, entry);
    return entry;
  }

  async #readSweep(rel: string): Promise<void> {
    const path = joinPath(rel === "" ? this.root : joinPath(this.root, rel), SWEEP_FILES.manifest);
    const st = await statOrNull(path);
    if (!st) return void this.#sweeps.delete(rel);
    const stamp = `${st.mtime?.getTime()}|${st.size}|${st.ino}`;
    if (this.#sweeps.get(rel)?.stamp === stamp) return;
    try {
      const m = JSON.parse(await Deno.readTextFile(path));
      const runs = typeof m?.runs === "object" && m.runs !== null && !Array.isArray(m.runs) ? m.runs : {};
      this.#sweeps.set(rel, { stamp, runs, dataset: str(m?.config?.dataset), model: str(m?.config?.model) });
    } catch {
      // A manifest is renamed into place, so a parse error means a foreign or broken file: keep the last good one.
      if (!this.#sweeps.has(rel)) this.#sweeps.set(rel, { stamp, runs: {}, dataset: null, model: null });
    }
  }

  async #readRun(rel: string): Promise<void> {
    const dir = this.#dirs.get(rel)!;
    const cached = this.#runs.get(rel);
    // An in-place append to the log leaves the folder's time alone: a run still training checks its log too.
    const logStat = cached && cached.dirMtime === dir.mtime && this.#stillTraining(cached)
      ? await statOrNull(joinPath(cached.abs, RUN_FILES.log))
      : null;
    const unchanged = cached && cached.dirMtime === dir.mtime && !recent(dir.mtime);
    if (unchanged && (logStat === null || logStat.mtime?.getTime() === cached.logUpdated)) return;
    const abs = joinPath(this.root, rel);
    const entry: RunEntry = { abs, dirMtime: dir.mtime, logTail: [], logUpdated: null, config: null, info: null };
    const problems: string[] = [];
    if (dir.files.has(RUN_FILES.config)) {
      try {
        const raw = JSON.parse(await Deno.readTextFile(joinPath(abs, RUN_FILES.config)));
        if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) entry.config = plainValues(raw);
      } catch (e) {
        problems.push(`${RUN_FILES.config}: ${(e as Error).message}`);
      }
    }
    if (dir.files.has(RUN_FILES.log)) {
      const logPath = joinPath(abs, RUN_FILES.log);
      const st = await statOrNull(logPath);
      entry.logUpdated = st?.mtime?.getTime() ?? null;
      entry.logTail = (await readLogEnd(logPath)).slice(-RECENT_EPOCHS);
    }
    if (dir.files.has(RUN_FILES.info)) {
      const path = joinPath(abs, RUN_FILES.info);
      try {
        entry.info = parseRunInfo(await Deno.readTextFile(path), `${rel}/${RUN_FILES.info}`);
        this.infoVersion++;
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    if (cached?.info && !entry.info) this.infoVersion++;
    if (problems.length) entry.problem = problems.join("; ");
    this.#runs.set(rel, entry);
  }

  #stillTraining(run: RunEntry): boolean {
    if (run.info) return false;
    const last = run.logTail.at(-1)?.epoch ?? 0;
    const epochs = num(run.config?.epochs);
    return epochs === null || last < epochs;
  }

  /** The manifest entry of a run, and the sweep that lists it. */
  #manifestEntry(id: string): { sweep: string; sweepEntry: SweepEntry; run: ManifestRun } | null {
    const cut = id.lastIndexOf("/");
    const sweep = cut < 0 ? "" : id.slice(0, cut);
    const name = cut < 0 ? id : id.slice(cut + 1);
    const s = this.#sweeps.get(sweep);
    const run = s && Object.hasOwn(s.runs, name) ? s.runs[name] : undefined;
    return s && run && typeof run === "object" ? { sweep, sweepEntry: s, run } : null;
  }

  #row(id: string, run: RunEntry | null): RunRow {
    const m = this.#manifestEntry(id);
    const info = run?.info?.run;
    const cfg = run?.config ?? {};
    const tail = run?.logTail ?? [];
    const last = tail.at(-1);
    const loss = str(info?.loss) ?? str(cfg.loss) ?? str(m?.run.loss);
    const epochs = num(info?.epochs) ?? num(cfg.epochs) ?? num(m?.run.epochs);
    const epochDone = last?.epoch ?? 0;
    let state: string;
    if (m) state = str(m.run.state) ?? "pending";
    else if (run?.info) state = "evaluated";
    else if (last && epochs !== null && epochDone >= epochs) state = "trained";
    else if (last) state = "training";
    else state = "pending";
    const seconds = tail.map((r) => num(r.seconds)).filter((s): s is number => s !== null);
    const secondsPerEpoch = seconds.length ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null;
    const style = loss ? lossStyle({ loss, loss_params: info?.loss_params ?? lossParams(cfg) }) : null;
    const row: RunRow = {
      id,
      name: id.slice(id.lastIndexOf("/") + 1),
      sweep: m ? m.sweep : null,
      state,
      dataset: str(info?.dataset) ?? str(cfg.dataset) ?? m?.sweepEntry.dataset ?? null,
      model: str(info?.model) ?? str(cfg.model) ?? m?.sweepEntry.model ?? null,
      loss,
      lossLabel: style?.label ?? null,
      lossColor: style?.color ?? null,
      width: num(info?.width) ?? num(cfg.width) ?? num(m?.run.width),
      epochs,
      seed: num(info?.seed) ?? num(cfg.seed) ?? num(m?.run.seed),
      epochDone,
      secondsPerEpoch,
      secondsLeft: state === "training" && secondsPerEpoch !== null && epochs !== null
        ? Math.max(0, epochs - epochDone) * secondsPerEpoch
        : null,
      logUpdated: run?.logUpdated ?? null,
      trainTop1: num(last?.train_top1),
      valTop1: num(last?.val_top1),
      testTop1: num(run?.info?.best?.test_top1),
      evaluatedCheckpoints: run?.info?.epochs.length ?? 0,
    };
    if (m) {
      const r = m.run;
      if (str(r.failedStage)) row.failedStage = r.failedStage;
      if (str(r.reason)) row.reason = r.reason;
      if (num(r.exitCode) !== null) row.exitCode = r.exitCode;
      if (str(r.jobId)) row.jobId = r.jobId;
      if (str(r.node)) row.node = r.node;
    }
    if (run?.problem) row.problem = run.problem;
    return row;
  }
}

/** The loss parameters of a flat `config.json` (`smoothing`, `gamma`, `rescale`). */
function lossParams(cfg: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of ["smoothing", "gamma", "rescale"]) {
    const v = num(cfg[key]);
    if (v !== null) out[key] = v;
  }
  return out;
}

/** The string, number and boolean values of an object (strings cut at 500 characters). */
function plainValues(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === "number" || typeof v === "boolean") out[k] = v;
    else if (typeof v === "string") out[k] = v.slice(0, 500);
  }
  return out;
}
