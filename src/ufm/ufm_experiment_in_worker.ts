/**
 * `ufmExperimentInWorker`: {@linkcode ufmExperiment} on a worker thread, so
 * that a task can solve the UFM while its own event loop keeps running other
 * work (`deno task reproduce` solves it while the sweep trains: about 15
 * CPU-seconds that otherwise ran alone after the sweep, on one of two cores).
 * The record is the same as in-process (tested): the solves are deterministic
 * JavaScript.
 */
import { ufmExperiment, type UfmExperimentConfig, type UfmExperimentRecord } from "./ufm_experiment.ts";

/**
 * Starts `ufmExperiment(config)` on a worker and resolves with its record;
 * where workers cannot start, runs it in this thread when awaited.
 *
 * @example
 * ```ts
 * const pending = ufmExperimentInWorker({ base: { K: 4, d: 8, n: 5 }, losses: ["cross_entropy"], gammas: [], smoothings: [], lambdas: [] });
 * // … other work …
 * const rec = await pending;
 * ```
 */
export function ufmExperimentInWorker(config: UfmExperimentConfig): Promise<UfmExperimentRecord> {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./_ufm_worker.ts", import.meta.url).href, { type: "module" });
  } catch {
    return Promise.resolve().then(() => ufmExperiment(config));
  }
  return new Promise<UfmExperimentRecord>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ok: boolean; record?: UfmExperimentRecord; message?: string }>) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.record!);
      else reject(new Error(`UFM solve failed: ${e.data.message}`));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      reject(new Error(`UFM worker failed: ${e.message}`));
    };
    worker.postMessage(config);
  });
}
