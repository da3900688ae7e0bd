/**
 * The live dashboard of `deno task serve`: a read-only HTTP server for a runs
 * folder, with the run table, the figures of selected runs and the grid's
 * heatmaps, updated by server-sent events as runs train and evaluate.
 *
 * ```ts
 * import { startDashboard } from "./src/serve/mod.ts";
 *
 * const dashboard = await startDashboard({ runsDir: "/abs/runs", port: 8000 });
 * console.log(`open ${dashboard.url}`);
 * ```
 *
 * @module
 */
export { type Dashboard, DashboardHandler, type DashboardOptions, startDashboard } from "./server.ts";
export { type IndexChanges, REPORT_FILE, RunIndex, type RunRow } from "./run_index.ts";
export { LogTail, parseLogLine, readLogEnd } from "./log_tail.ts";
export { allowedHosts, isInside, resolveInside } from "./security.ts";
