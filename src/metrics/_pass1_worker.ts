/**
 * Worker of `_parallel_pass1.ts`: sums the blocks of pass 1 it receives into
 * one {@linkcode ClassSums}, acknowledges each, and returns the sums at the
 * end. On any error it says so and ignores the rest; the calling thread then
 * runs the pass alone and reports the error with its row.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { ClassSums } from "./class_means.ts";
import { DEFAULT_INPUT_NAMES } from "./types.ts";
import type { Pass1Reply, Pass1Request } from "./_parallel_pass1.ts";

let sums: ClassSums | null = null;
let failed = false;

function reply(message: Pass1Reply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.onmessage = (e: MessageEvent<Pass1Request>) => {
  const m = e.data;
  if (failed) return;
  try {
    if (m.kind === "start") sums = new ClassSums(m.numClasses, m.dim, DEFAULT_INPUT_NAMES);
    else if (sums === null) throw new Error("pass-1 block before start");
    else if (m.kind === "block") {
      sums.add(m.features, m.labels, m.firstRow);
      // The buffers go back for the next block (whole: a view travels with its buffer).
      const features = new (m.features.constructor as Float32ArrayConstructor)(m.features.buffer as ArrayBuffer);
      const labels = new Int32Array(m.labels.buffer as ArrayBuffer);
      reply({ kind: "ack", features, labels }, [features.buffer, labels.buffer]);
    } else {
      const state = sums.state();
      reply({ kind: "sums", state }, [state.counts.buffer as ArrayBuffer, state.sums.buffer as ArrayBuffer]);
      sums = null;
    }
  } catch {
    failed = true;
    reply({ kind: "failed" });
  }
};
