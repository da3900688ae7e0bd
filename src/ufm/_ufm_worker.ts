/**
 * The worker behind {@linkcode ufmExperimentInWorker}: runs `ufmExperiment` on
 * the configuration it is sent and posts the record back (or the error's
 * message).
 */
/// <reference lib="deno.worker" />
import { ufmExperiment, type UfmExperimentConfig } from "./ufm_experiment.ts";

self.onmessage = (e: MessageEvent<UfmExperimentConfig>) => {
  try {
    self.postMessage({ ok: true, record: ufmExperiment(e.data) });
  } catch (err) {
    self.postMessage({ ok: false, message: (err as Error).message });
  }
};
