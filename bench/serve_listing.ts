/**
 * What `deno task bench-serve` measures: the dashboard's listing of a large
 * runs folder. A generated sweep of `count` run folders (each with
 * `config.json`, a `log.jsonl` of `epochs` lines, and for most an
 * `info.json`, under one `manifest.json`) is read cold (a new index: every
 * folder listed, every file read), polled again with nothing changed (what
 * the server does every second), and answered as `/api/runs`.
 *
 * @module
 */
import { writeJsonAtomic } from "../src/io.ts";
import { loadAssets } from "../src/serve/assets.ts";
import { RunIndex } from "../src/serve/run_index.ts";
import { DashboardHandler } from "../src/serve/server.ts";
import { allowedHosts } from "../src/serve/security.ts";

const LOSSES = [["cross_entropy", "ce"], ["label_smoothing", "ls"], ["focal_loss", "fl"], [
  "mean_square_error",
  "mse",
]] as const;
const METRICS = ["nc1", "nc2", "nc3", "nc4_bias", "nc4_ncc", "train_top1", "val_top1", "test_top1"];

/** Writes `count` run folders (losses × widths × lengths × seeds) and a manifest under `root`. */
export async function writeLargeSweep(root: string, count: number, epochs: number): Promise<void> {
  const runs: Record<string, unknown> = {};
  const states = ["evaluated", "evaluated", "evaluated", "training", "failed", "pending"];
  for (let i = 0; i < count; i++) {
    const [loss, short] = LOSSES[i % 4];
    const width = [0.25, 0.5, 1, 2, 4][Math.floor(i / 4) % 5];
    const seed = Math.floor(i / 20) + 1;
    const name = `mlp-${width}-${short}-${epochs}-${seed}`;
    const dir = `${root}/${name}`;
    const state = states[i % states.length];
    runs[name] = { name, loss, width, epochs, seed, state, trainSeconds: 10, evaluateSeconds: 2 };
    if (state === "pending") continue;
    await Deno.mkdir(dir, { recursive: true });
    await writeJsonAtomic(`${dir}/config.json`, {
      format: 2,
      dataset: "synthetic",
      model: "mlp",
      width,
      loss,
      epochs,
      seed,
    });
    const done = state === "training" ? Math.floor(epochs / 2) : epochs;
    let log = "";
    for (let e = 1; e <= done; e++) {
      log += JSON.stringify({
        epoch: e,
        lr: 0.1,
        train_loss: 1 / e,
        train_top1: 90,
        train_top5: 99,
        val_loss: 1.1 / e,
        val_top1: 88,
        val_top5: 99,
        best_val_top1: 88,
        seconds: 0.5,
      }) + "\n";
    }
    await Deno.writeTextFile(`${dir}/log.jsonl`, log);
    if (state !== "evaluated") continue;
    const checkpoints = Array.from({ length: 20 }, (_, t) => Math.max(1, Math.round(((t + 1) * epochs) / 20)))
      .filter((e, t, a) => t === 0 || e > a[t - 1]);
    const info: Record<string, unknown> = {
      format: 1,
      run: { model: "mlp", width, loss, epochs, seed, dataset: "synthetic" },
      epochs: checkpoints,
      best: { epoch: epochs, train_top1: 99, val_top1: 90, test_top1: 89 + (i % 7) / 10 },
    };
    for (const m of METRICS) info[m] = checkpoints.map((e) => 1 / e);
    await writeJsonAtomic(`${dir}/info.json`, info);
  }
  const now = new Date().toISOString();
  await writeJsonAtomic(`${root}/manifest.json`, {
    version: 1,
    config: { dataset: "synthetic", model: "mlp", losses: [], widths: [], epochs: [epochs], seeds: [], trainArgs: {} },
    created: now,
    updated: now,
    runs,
  });
}

/** Milliseconds of each step of the listing, and what it listed. */
export interface ListingTimes {
  runs: number;
  coldRefreshMs: number;
  /** A refresh when nothing changed (folders' times unchanged), as the server polls. */
  idleRefreshMs: number;
  /** `/api/runs` answered from the index, JSON included. */
  apiRunsMs: number;
  apiRunsBytes: number;
  /** `/api/heatmaps` the first time (grid figures of every evaluated run). */
  heatmapsMs: number;
  heapMiB: number;
}

/** Lists `root` as the server does, timing each step. */
export async function timeListing(root: string): Promise<ListingTimes> {
  const t0 = performance.now();
  const index = new RunIndex(await Deno.realPath(root));
  await index.refresh();
  const coldRefreshMs = performance.now() - t0;
  // Folders written in the last two seconds are read again on purpose; wait until they count as settled.
  await new Promise((r) => setTimeout(r, 2100));
  await index.refresh();
  const t1 = performance.now();
  await index.refresh();
  const idleRefreshMs = performance.now() - t1;
  const handler = new DashboardHandler(index, await loadAssets(), index.root, allowedHosts("127.0.0.1", 8000));
  const request = (path: string) =>
    new Request(`http://127.0.0.1:8000${path}`, { headers: { host: "127.0.0.1:8000" } });
  const t2 = performance.now();
  const body = await (await handler.handle(request("/api/runs"))).text();
  const apiRunsMs = performance.now() - t2;
  const t3 = performance.now();
  await (await handler.handle(request("/api/heatmaps"))).text();
  const heatmapsMs = performance.now() - t3;
  return {
    runs: index.rows().length,
    coldRefreshMs,
    idleRefreshMs,
    apiRunsMs,
    apiRunsBytes: body.length,
    heatmapsMs,
    heapMiB: Deno.memoryUsage().heapUsed / 2 ** 20,
  };
}
