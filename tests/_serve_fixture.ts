/**
 * Shared by the dashboard tests: a runs folder with a sweep (an evaluated
 * run, a failed one with a reason, a pending one without a folder), single
 * evaluated runs for the grid figures, a report, and the hostile cases (a
 * run folder named like markup, a hidden file, a symbolic link out of the
 * folder); and a raw HTTP request, for request targets and `Host` headers
 * that `fetch` would normalise or refuse to send.
 */
import { writeJsonAtomic } from "../src/io.ts";
import { grid, syntheticInfo, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";

/** The folder name that would run script if a page put it into `innerHTML`. */
export const HOSTILE_NAME = "<img src=x onerror=alert(1)>";
/** A failure reason that would run script as markup, setting `window.pwned`. */
export const HOSTILE_REASON = "diverged <img src=x onerror=window.pwned=1> at epoch 2";

/** What {@linkcode makeRunsFolder} made. */
export interface RunsFolder {
  /** The runs folder. */
  root: string;
  /** A folder beside it holding `secret.html`, which `root/link-out` points to. */
  outside: string;
  /** Ids of the runs in the sweep. */
  evaluated: string;
  failed: string;
  pending: string;
  /** Removes both folders. */
  remove(): Promise<void>;
}

const logText = (epochs: number): string =>
  Array.from({ length: epochs }, (_, i) =>
    JSON.stringify({
      epoch: i + 1,
      lr: 0.1,
      train_loss: 2 / (i + 1),
      train_top1: 50 + 10 * i,
      train_top5: 90,
      val_loss: 2.2 / (i + 1),
      val_top1: 45 + 10 * i,
      val_top5: 90,
      best_val_top1: 45 + 10 * i,
      seconds: 0.5,
    }) + "\n").join("");

/** Writes the fixture into a new temporary folder. */
export async function makeRunsFolder(): Promise<RunsFolder> {
  const base = await Deno.makeTempDir({ prefix: "serve-fixture-" });
  const root = `${base}/runs`;
  const outside = `${base}/outside`;
  await Deno.mkdir(outside, { recursive: true });
  await Deno.writeTextFile(`${outside}/secret.html`, "<p>secret</p>");

  const sweep = `${root}/sweep`;
  const config = (loss: string) => ({
    format: 2,
    dataset: "synthetic",
    model: "mlp",
    width: 1,
    loss,
    epochs: 2,
    seed: 1,
  });
  await Deno.mkdir(`${sweep}/mlp-1-ce-2-1`, { recursive: true });
  await writeJsonAtomic(`${sweep}/mlp-1-ce-2-1/config.json`, config("cross_entropy"));
  await Deno.writeTextFile(`${sweep}/mlp-1-ce-2-1/log.jsonl`, logText(2));
  const info = syntheticInfo({ loss: "cross_entropy", width: 1, epochs: 2, seed: 1, checkpoints: 2 });
  await writeJsonAtomic(`${sweep}/mlp-1-ce-2-1/info.json`, {
    ...info,
    run: { ...(info.run as object), model: "mlp", dataset: "synthetic" },
  });
  await Deno.mkdir(`${sweep}/mlp-1-mse-2-1`, { recursive: true });
  await writeJsonAtomic(`${sweep}/mlp-1-mse-2-1/config.json`, config("mean_square_error"));
  await Deno.writeTextFile(`${sweep}/mlp-1-mse-2-1/log.jsonl`, logText(1));
  const entry = (name: string, loss: string, state: string, extra: Record<string, unknown> = {}) => ({
    name,
    loss,
    width: 1,
    epochs: 2,
    seed: 1,
    state,
    trainSeconds: 1,
    evaluateSeconds: 0,
    ...extra,
  });
  const now = new Date().toISOString();
  await writeJsonAtomic(`${sweep}/manifest.json`, {
    version: 1,
    config: { dataset: "synthetic", model: "mlp", losses: [], widths: [1], epochs: [2], seeds: [1], trainArgs: {} },
    created: now,
    updated: now,
    runs: {
      "mlp-1-ce-2-1": entry("mlp-1-ce-2-1", "cross_entropy", "evaluated"),
      "mlp-1-mse-2-1": entry("mlp-1-mse-2-1", "mean_square_error", "failed", {
        failedStage: "train",
        reason: HOSTILE_REASON,
        exitCode: 3,
      }),
      "mlp-1-ls-2-1": entry("mlp-1-ls-2-1", "label_smoothing", "pending"),
    },
  });

  await writeSyntheticRuns(`${root}/grid`, grid([0.5, 1], [100, 200], [1], ["cross_entropy", "focal_loss"], 5));

  const hostile = `${root}/${HOSTILE_NAME}`;
  await Deno.mkdir(hostile, { recursive: true });
  await writeJsonAtomic(`${hostile}/config.json`, { ...config("cross_entropy"), note: HOSTILE_REASON });
  await Deno.writeTextFile(`${hostile}/log.jsonl`, logText(1));

  await Deno.mkdir(`${root}/report/figures`, { recursive: true });
  await Deno.writeTextFile(`${root}/report/report.html`, "<!doctype html><title>report</title><p>the report</p>");
  await Deno.writeTextFile(`${root}/report/figures/a.svg`, '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await Deno.writeTextFile(`${root}/report/notes.txt`, "not a report file type");
  await Deno.writeTextFile(`${root}/.hidden.html`, "<p>hidden</p>");
  await Deno.symlink(outside, `${root}/link-out`);
  await Deno.symlink(`${outside}/secret.html`, `${root}/report/secret.html`);

  return {
    root,
    outside,
    evaluated: "sweep/mlp-1-ce-2-1",
    failed: "sweep/mlp-1-mse-2-1",
    pending: "sweep/mlp-1-ls-2-1",
    remove: () => Deno.remove(base, { recursive: true }),
  };
}

/** A raw HTTP/1.1 response: status, headers (lower-case names) and body text. */
export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Sends `GET target` (exactly as given) with `host` as the `Host` header, over a new connection. */
export async function rawGet(port: number, target: string, host = `127.0.0.1:${port}`): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const [head, ...rest] = text.split("\r\n\r\n");
    const [statusLine, ...headerLines] = head.split("\r\n");
    const headers = new Map(headerLines.map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as [string, string];
    }));
    return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") };
  } finally {
    conn.close();
  }
}
