/**
 * Pass 2 of {@linkcode NeuralCollapseAccumulator} split over threads: helper
 * workers (`_pass2_worker.ts`) each take a block of rows, the calling thread
 * takes the last block, and their sums are merged.
 *
 * The one-shot `neuralCollapseMetrics` is synchronous, so the calling thread
 * cannot receive messages while it waits: workers write their sums into a
 * SharedArrayBuffer and signal through an Int32 flag that the caller blocks
 * on with `Atomics.wait`. Whatever goes wrong with a worker (Workers missing,
 * no read permission for the worker module, a worker that does not start or
 * fails), the calling thread runs that block itself, so the result never
 * depends on whether threads were available, only the float64 summation order.
 *
 * @module
 */
import type { Pass2State } from "./class_means.ts";
import type { NeuralCollapseAccumulator } from "./neural_collapse_accumulator.ts";
import type { Pass2Sums } from "./pass2_accumulator.ts";
import type { FeatureArray } from "./_validate.ts";

/** Flag values, shared with the worker. */
export const IDLE = 0;
export const RUNNING = 1;
export const DONE = 2;
export const FAILED = 3;
export const CANCELLED = 4;

/**
 * How long the calling thread, done with its own block, waits for a worker
 * that has not started yet before it takes the block back. Workers are
 * spawned before pass 1, so a healthy one has long started by then.
 */
const START_TIMEOUT_MS = 3000;

/** The message that hands a block of rows to a worker. */
export interface Pass2Job {
  /** What pass 2 needs; null when this worker already received the state numbered `stateId`. */
  state: Pass2State | null;
  stateId: number;
  features: FeatureArray;
  labels: Int32Array;
  /** Int32 [1]: the flag. */
  flag: SharedArrayBuffer;
  /** Float64 [sumsLength(K)]: the worker's sums, written before the flag becomes DONE. */
  sums: SharedArrayBuffer;
}

/** A started worker waiting for its rows (a worker serves any number of blocks until stopped). */
export interface Pass2Helper {
  worker: Worker;
  /** The pass-2 state this worker holds, so that it is sent once, not with every block of a stream. */
  stateId?: number;
}

/** One numbered copy of each accumulator's pass-2 state, made on its first parallel block. */
const states = new WeakMap<NeuralCollapseAccumulator, { id: number; state: Pass2State }>();
let nextStateId = 1;

const WORKER_URL = new URL("./_pass2_worker.ts", import.meta.url);

/**
 * Starts up to `count` workers for pass 2 (their modules load while pass 1
 * runs); returns fewer, possibly none, where Workers are unavailable or the
 * worker module may not be read. Terminate them with {@linkcode stopHelpers}.
 */
export function startHelpers(count: number): Pass2Helper[] {
  const helpers: Pass2Helper[] = [];
  try {
    if (count < 1 || typeof Worker === "undefined" || typeof SharedArrayBuffer === "undefined") return helpers;
    // Without read access the worker module fails to load with an uncaught error that ends the process.
    if (
      WORKER_URL.protocol === "file:" &&
      Deno.permissions.querySync({ name: "read", path: WORKER_URL }).state !== "granted"
    ) {
      return helpers;
    }
    for (let i = 0; i < count; i++) {
      const worker = new Worker(WORKER_URL.href, { type: "module" });
      // A worker that fails is replaced by the calling thread; its error must not end the process.
      worker.onerror = (e) => e.preventDefault();
      helpers.push({ worker });
    }
  } catch {
    // Fall back to the threads started so far.
  }
  return helpers;
}

/** Terminates the workers of {@linkcode startHelpers}. */
export function stopHelpers(helpers: Pass2Helper[]): void {
  for (const h of helpers) h.worker.terminate();
}

/**
 * Runs pass 2 over all rows of `features` [n, d] / `labels` [n], split in
 * blocks between `helpers` and this thread, into `acc` (after `startPass2()`).
 * Returns how many helpers contributed a block.
 */
export function addPass2Parallel(
  acc: NeuralCollapseAccumulator,
  features: FeatureArray,
  labels: ArrayLike<number>,
  helpers: Pass2Helper[],
): number {
  const n = labels.length;
  const d = acc.dim;
  const k = acc.numClasses;
  const blocks = helpers.length + 1;
  const rowsPer = Math.ceil(n / blocks);
  let numbered = states.get(acc);
  if (numbered === undefined) {
    numbered = { id: nextStateId++, state: acc.pass2State() };
    states.set(acc, numbered);
  }
  const jobs: { start: number; end: number; flag: Int32Array; sums: Float64Array }[] = [];
  const shared = features.buffer instanceof SharedArrayBuffer;
  for (let h = 0; h < helpers.length; h++) {
    const start = Math.min(n, h * rowsPer);
    const end = Math.min(n, start + rowsPer);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const sums = new Float64Array(new SharedArrayBuffer(8 * sumsLength(k)));
    // A view on an ArrayBuffer would be cloned with its whole buffer: copy the block and transfer the copy.
    const block = shared ? features.subarray(start * d, end * d) : features.slice(start * d, end * d);
    const blockLabels = new Int32Array(end - start);
    for (let i = start; i < end; i++) blockLabels[i - start] = labels[i];
    const job: Pass2Job = {
      state: helpers[h].stateId === numbered.id ? null : numbered.state,
      stateId: numbered.id,
      features: block,
      labels: blockLabels,
      flag: flag.buffer,
      sums: sums.buffer,
    };
    try {
      const transfer = shared ? [blockLabels.buffer] : [block.buffer as ArrayBuffer, blockLabels.buffer];
      helpers[h].worker.postMessage(job, transfer);
      helpers[h].stateId = numbered.id;
      jobs.push({ start, end, flag, sums });
    } catch {
      jobs.push({ start, end, flag: new Int32Array([CANCELLED]), sums });
    }
  }
  const ownStart = Math.min(n, helpers.length * rowsPer);
  acc.addPass2(features.subarray(ownStart * d), sliceLabels(labels, ownStart, n));
  let contributed = 0;
  for (const job of jobs) {
    if (waitForHelper(job.flag)) {
      acc.mergePass2(readSums(job.sums, k));
      contributed++;
    } else {
      acc.addPass2(features.subarray(job.start * d, job.end * d), sliceLabels(labels, job.start, job.end));
    }
  }
  return contributed;
}

/** Blocks until the worker is DONE (true) or has failed or not started in time (false). */
function waitForHelper(flag: Int32Array): boolean {
  if (Atomics.wait(flag, 0, IDLE, START_TIMEOUT_MS) === "timed-out") {
    // Claim the block back unless the worker started just now.
    if (Atomics.compareExchange(flag, 0, IDLE, CANCELLED) === IDLE) return false;
  }
  while (Atomics.load(flag, 0) === RUNNING) Atomics.wait(flag, 0, RUNNING);
  return Atomics.load(flag, 0) === DONE;
}

function sliceLabels(labels: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  if (ArrayBuffer.isView(labels)) return (labels as unknown as Int32Array).subarray(start, end);
  if (Array.isArray(labels)) return labels.slice(start, end);
  return Array.from({ length: end - start }, (_, i) => labels[start + i]);
}

/** Float64 entries of serialised {@linkcode Pass2Sums} for K classes. */
export function sumsLength(k: number): number {
  return 2 * k + k * k + 4;
}

/** Writes `s` into `out` [sumsLength(K)]. */
export function writeSums(s: Pass2Sums, out: Float64Array): void {
  const k = s.counts.length;
  out.set(s.counts, 0);
  out.set(s.sqDist, k);
  out.set(s.scatter, 2 * k);
  const o = 2 * k + k * k;
  out[o] = s.top1;
  out[o + 1] = s.top5;
  out[o + 2] = s.nccMismatch;
  out[o + 3] = s.n;
}

/** Reads sums written by {@linkcode writeSums}. */
export function readSums(x: Float64Array, k: number): Pass2Sums {
  const o = 2 * k + k * k;
  return {
    counts: x.slice(0, k),
    sqDist: x.slice(k, 2 * k),
    scatter: x.slice(2 * k, o),
    top1: x[o],
    top5: x[o + 1],
    nccMismatch: x[o + 2],
    n: x[o + 3],
  };
}
