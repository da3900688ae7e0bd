/**
 * The dashboard's HTTP server: one page, a few read-only JSON endpoints, and
 * a stream of server-sent events that pushes changed table rows as the runs
 * folder changes. Figures travel as the package's figure specifications
 * (the same functions as `deno task plot` and `deno task heatmap`); the page
 * draws them with Observable Plot through `src/plot/plot_options.ts`.
 *
 * | path | answer |
 * | --- | --- |
 * | `/`, `/static/…`, `/js/…`, `/vendor/…` | the page and its scripts (package files only) |
 * | `/api/runs` | every run's table row, the reports |
 * | `/api/run?id=ID` | one run: row, `config.json`, the whole training log |
 * | `/api/figures?id=ID[&id=ID…]` | training-log and NC figures of up to 12 runs, overlaid |
 * | `/api/heatmaps` | the grid figures of the evaluated runs, and the grid points missing |
 * | `/api/events` | server-sent events: `runs` (changed rows, removed ids) |
 * | `/files/PATH` | a report (`.html`, `.md`, `.svg`, `.png`) inside the runs folder, sandboxed |
 *
 * Only `GET` and `HEAD` are answered. A request whose `Host` header is not the
 * server's own is refused (403) before anything else, so a rebound DNS name
 * cannot read the runs through a browser.
 *
 * @module
 */
import { dynamicsFigures } from "../plot/dynamics_figures.ts";
import { heatmapFigures } from "../plot/heatmap_figures.ts";
import { logFigures } from "../plot/log_figures.ts";
import type { FigureSpec } from "../plot/types.ts";
import { RUN_FILES } from "../run/files.ts";
import { joinPath } from "../io.ts";
import { type Asset, loadAssets } from "./assets.ts";
import { LogTail } from "./log_tail.ts";
import { type IndexChanges, RunIndex } from "./run_index.ts";
import { allowedHosts, FILE_CSP, resolveInside, securityHeaders } from "./security.ts";

/** Options of {@linkcode startDashboard}. */
export interface DashboardOptions {
  /** The runs folder, absolute. */
  runsDir: string;
  /** Address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /** Milliseconds between two looks at the runs folder (default 1000). */
  pollMs?: number;
  /** Called with an error of a refresh (the server carries on). */
  onError?(error: unknown): void;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/`. */
  url: string;
  hostname: string;
  port: number;
  index: RunIndex;
  /** Stops polling, ends the event streams and closes the server. */
  close(): Promise<void>;
  /** Settles when the server has closed. */
  finished: Promise<void>;
}

/** Runs one figures request may overlay. */
export const MAX_FIGURE_RUNS = 12;
/** Event streams open at once; more are refused with 503. */
export const MAX_EVENT_STREAMS = 32;
/** Training logs kept in memory for the figures (least recently used dropped first). */
const LOG_CACHE_SIZE = 32;
/** Longest run id accepted. */
const MAX_ID_LENGTH = 1024;
/** Extensions served from the runs folder under `/files/`. */
const FILE_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

/** The request handler and its state, apart from the listening socket (the tests call it directly too). */
export class DashboardHandler {
  #assets: Map<string, Asset>;
  #rootReal: string;
  #hosts: Set<string>;
  #logs = new Map<string, LogTail>();
  #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #heatmaps: { version: number; body: string } | null = null;
  #encoder = new TextEncoder();

  constructor(readonly index: RunIndex, assets: Map<string, Asset>, rootReal: string, hosts: Set<string>) {
    this.#assets = assets;
    this.#rootReal = rootReal;
    this.#hosts = hosts;
  }

  /** Answers one request. */
  async handle(req: Request): Promise<Response> {
    const host = req.headers.get("host")?.toLowerCase() ?? "";
    if (!this.#hosts.has(host)) return text(403, "forbidden: unknown Host header\n");
    if (req.method !== "GET" && req.method !== "HEAD") {
      const res = text(405, "method not allowed: the dashboard only reads\n");
      res.headers.set("allow", "GET, HEAD");
      return res;
    }
    const url = new URL(req.url);
    const res = await this.#route(url);
    return req.method === "HEAD" ? new Response(null, { status: res.status, headers: res.headers }) : res;
  }

  /** Sends `changes` to every open event stream. */
  broadcast(changes: IndexChanges): void {
    if (!changes.changed.length && !changes.removed.length && !changes.reportsChanged) return;
    const data = JSON.stringify({
      changed: changes.changed,
      removed: changes.removed,
      reports: this.index.reports(),
      infoVersion: this.index.infoVersion,
    });
    this.#send(`event: runs\ndata: ${data}\n\n`);
  }

  /** A comment line on every stream, so that proxies and tunnels keep idle streams open. */
  keepAlive(): void {
    this.#send(": keep-alive\n\n");
  }

  /** Ends every event stream. */
  closeStreams(): void {
    for (const c of this.#streams) {
      try {
        c.close();
      } catch { /* already closed by the client */ }
    }
    this.#streams.clear();
  }

  #send(message: string): void {
    const bytes = this.#encoder.encode(message);
    for (const c of this.#streams) {
      try {
        c.enqueue(bytes);
      } catch {
        this.#streams.delete(c);
      }
    }
  }

  async #route(url: URL): Promise<Response> {
    const path = url.pathname;
    const asset = this.#assets.get(path);
    if (asset) return new Response(asset.body, { headers: securityHeaders(asset.contentType) });
    if (path.startsWith("/files/")) return await this.#file(path.slice("/files/".length));
    switch (path) {
      case "/api/runs":
        return json({
          root: this.index.root,
          reports: this.index.reports(),
          infoVersion: this.index.infoVersion,
          runs: this.index.rows(),
        });
      case "/api/run":
        return await this.#run(url.searchParams);
      case "/api/figures":
        return await this.#figures(url.searchParams);
      case "/api/heatmaps":
        return this.#heatmapResponse();
      case "/api/events":
        return this.#events();
    }
    return text(404, "not found\n");
  }

  /** The ids of `params`, each checked against the index; a `Response` for bad input. */
  #ids(params: URLSearchParams, max: number): string[] | Response {
    const ids = params.getAll("id");
    if (ids.length === 0) return text(400, "bad request: give a run with ?id=\n");
    if (ids.length > max) return text(400, `bad request: at most ${max} runs at once\n`);
    for (const id of ids) {
      if (id.length > MAX_ID_LENGTH || !this.index.row(id)) return text(404, "no such run\n");
    }
    return [...new Set(ids)];
  }

  async #run(params: URLSearchParams): Promise<Response> {
    const ids = this.#ids(params, 1);
    if (ids instanceof Response) return ids;
    const id = ids[0];
    return json({ row: this.index.row(id), config: this.index.config(id), log: await this.#log(id) });
  }

  /** The whole training log of a run, read from where the previous request stopped. */
  async #log(id: string): Promise<readonly import("../run/epoch_log.ts").EpochRecord[]> {
    const dir = this.index.folderOf(id);
    if (!dir) return [];
    let tail = this.#logs.get(id);
    if (tail) this.#logs.delete(id);
    else tail = new LogTail(joinPath(dir, RUN_FILES.log));
    this.#logs.set(id, tail);
    if (this.#logs.size > LOG_CACHE_SIZE) this.#logs.delete(this.#logs.keys().next().value!);
    await tail.read();
    return tail.records;
  }

  async #figures(params: URLSearchParams): Promise<Response> {
    const ids = this.#ids(params, MAX_FIGURE_RUNS);
    if (ids instanceof Response) return ids;
    const logs = [];
    for (const id of ids) {
      const row = this.index.row(id)!;
      logs.push({ name: row.name, loss: row.loss ?? "", records: await this.#log(id) });
    }
    const figures: FigureSpec[] = [...logFigures(logs), ...dynamicsFigures(this.index.records(ids))];
    return json({ figures });
  }

  #heatmapResponse(): Response {
    const version = this.index.infoVersion;
    if (this.#heatmaps?.version !== version) {
      const { figures, missing } = heatmapFigures(this.index.records());
      this.#heatmaps = { version, body: JSON.stringify({ figures, missing }) };
    }
    return new Response(this.#heatmaps.body, { headers: securityHeaders("application/json; charset=utf-8") });
  }

  #events(): Response {
    if (this.#streams.size >= MAX_EVENT_STREAMS) return text(503, "too many open event streams\n");
    let self: ReadableStreamDefaultController<Uint8Array> | null = null;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#streams.add(controller);
        controller.enqueue(this.#encoder.encode(`retry: 2000\nevent: hello\ndata: {}\n\n`));
      },
      cancel: () => {
        if (self) this.#streams.delete(self);
      },
    });
    return new Response(body, { headers: securityHeaders("text/event-stream; charset=utf-8") });
  }

  async #file(rawPath: string): Promise<Response> {
    const ext = rawPath.slice(rawPath.lastIndexOf(".") + 1).toLowerCase();
    const type = FILE_TYPES[ext];
    if (!type) return text(404, "not found\n");
    const path = await resolveInside(this.#rootReal, rawPath);
    if (!path) return text(404, "not found\n");
    try {
      return new Response(await Deno.readFile(path), { headers: securityHeaders(type, FILE_CSP) });
    } catch {
      return text(404, "not found\n");
    }
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: securityHeaders("text/plain; charset=utf-8") });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), { headers: securityHeaders("application/json; charset=utf-8") });
}

/**
 * Serves the dashboard of `options.runsDir` until {@linkcode Dashboard.close}:
 * reads the folder once, listens, then looks at the folder every `pollMs` and
 * pushes what changed to the open pages.
 *
 * @example
 * ```ts
 * const dashboard = await startDashboard({ runsDir: "/abs/runs", port: 0 });
 * console.log(`open ${dashboard.url}`);
 * await dashboard.close();
 * ```
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const hostname = options.hostname ?? "127.0.0.1";
  const pollMs = options.pollMs ?? 1000;
  const rootReal = await Deno.realPath(options.runsDir);
  const index = new RunIndex(rootReal);
  await index.refresh();
  const assets = await loadAssets();
  let handler: DashboardHandler | null = null;
  const server = Deno.serve(
    { hostname, port: options.port ?? 8000, onListen: () => {} },
    (req) => handler ? handler.handle(req) : text(503, "starting\n"),
  );
  const port = server.addr.port;
  handler = new DashboardHandler(index, assets, rootReal, allowedHosts(hostname, port));
  const h = handler;

  let closed = false;
  let wake: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = (async () => {
    let sinceKeepAlive = 0;
    while (!closed) {
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, pollMs);
      });
      if (closed) break;
      try {
        h.broadcast(await index.refresh());
      } catch (e) {
        options.onError?.(e);
      }
      sinceKeepAlive += pollMs;
      if (sinceKeepAlive >= 15000) {
        h.keepAlive();
        sinceKeepAlive = 0;
      }
    }
  })();
  const name = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${name}:${port}/`,
    hostname,
    port,
    index,
    finished: server.finished,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      (wake as (() => void) | null)?.();
      await poll;
      h.closeStreams();
      await server.shutdown();
    },
  };
}
