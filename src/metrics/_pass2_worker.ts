/**
 * Worker of `_parallel_pass2.ts`: runs pass 2 ({@linkcode Pass2Accumulator})
 * over one block of rows and writes the sums into shared memory.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { Pass2State } from "./class_means.ts";
import { Pass2Accumulator } from "./pass2_accumulator.ts";
import { DONE, FAILED, IDLE, type Pass2Job, RUNNING, writeSums } from "./_parallel_pass2.ts";

/** The last pass-2 state received; later blocks of the same measurement come without it. */
let held: { id: number; state: Pass2State } | null = null;

self.onmessage = (e: MessageEvent<Pass2Job>) => {
  const job = e.data;
  if (job.state !== null) held = { id: job.stateId, state: job.state };
  const flag = new Int32Array(job.flag);
  // The calling thread may have given up waiting and taken the block back.
  if (Atomics.compareExchange(flag, 0, IDLE, RUNNING) !== IDLE) return;
  let outcome = FAILED;
  try {
    if (held === null || held.id !== job.stateId) throw new Error("pass-2 state missing");
    const acc = new Pass2Accumulator(held.state);
    acc.add(job.features, job.labels);
    writeSums(acc.sums(), new Float64Array(job.sums));
    outcome = DONE;
  } catch {
    // The calling thread runs the block itself and reports any error there.
  } finally {
    Atomics.store(flag, 0, outcome);
    Atomics.notify(flag, 0);
  }
};
