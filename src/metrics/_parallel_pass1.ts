/**
 * Pass 1 of {@linkcode measureBatches} split between the calling thread and a
 * helper worker (`_pass1_worker.ts`): the leading rows of each batch go to
 * the worker (a copy, transferred), which sums them into its own
 * {@linkcode ClassSums} while this thread sums the rest; the worker's share
 * is merged once, at the end of the pass. At most {@linkcode MAX_IN_FLIGHT}
 * blocks wait for the worker, so memory stays O(K·d + batch·d).
 *
 * The helper can only make the pass faster, never change what it reports:
 * when it cannot start, fails (a non-finite value or a bad label in its
 * rows, a crash) or stops answering, its share is lost and the caller runs
 * the pass again on its own thread ({@linkcode Pass1Helper.failed}), which
 * reports any error in the data with its row. Only the order of the float64
 * additions differs from one thread's pass.
 *
 * @module
 */
import type { ClassSumsState } from "./class_means.ts";
import type { FeatureArray } from "./_validate.ts";

/** Blocks handed to the worker and not yet summed, at most. */
export const MAX_IN_FLIGHT = 2;

/** Batches with fewer rows stay on the calling thread (the copy and the message would cost more). */
const MIN_SPLIT_ROWS = 64;

/** How long the calling thread waits for any answer from the worker before it gives up on it. */
const STALL_TIMEOUT_MS = 30_000;

const WORKER_URL = new URL("./_pass1_worker.ts", import.meta.url);

/** Messages to the worker. */
export type Pass1Request =
  | { kind: "start"; numClasses: number; dim: number }
  | { kind: "block"; features: FeatureArray; labels: Int32Array; firstRow: number }
  | { kind: "end" };

/** Messages from the worker: an acknowledged block comes back with its buffers, for the next block to reuse. */
export type Pass1Reply =
  | { kind: "ack"; features: FeatureArray; labels: Int32Array }
  | { kind: "sums"; state: ClassSumsState }
  | { kind: "failed" };

/**
 * A worker that sums a share of pass 1's rows.
 *
 * @example
 * ```ts
 * const helper = Pass1Helper.start(k, d);
 * for await (const b of batches) {
 *   const share = helper?.share(b.labels.length) ?? 0;
 *   if (share > 0) await helper!.post(b.features, b.labels, share, row);
 *   acc.addPass1(b.features.subarray(share * d), labelsAfter(share), row + share);
 * }
 * const part = await helper?.finish(); // null: the pass must be run again alone
 * ```
 */
export class Pass1Helper {
  /** Blocks that helpers of this process have summed (for tests: did the worker take part?). */
  static blocksSummed = 0;
  readonly #worker: Worker;
  readonly #dim: number;
  #posted = 0;
  #acked = 0;
  #failed = false;
  #result: ClassSumsState | null = null;
  #wake: (() => void) | null = null;
  /** Block buffers the worker has handed back: memory stays at MAX_IN_FLIGHT blocks, with no fresh pages per batch. */
  #spare: { features: FeatureArray; labels: Int32Array }[] = [];

  private constructor(worker: Worker, numClasses: number, dim: number) {
    this.#worker = worker;
    this.#dim = dim;
    worker.onmessage = (e: MessageEvent<Pass1Reply>) => {
      const m = e.data;
      if (m.kind === "ack") {
        this.#acked++;
        Pass1Helper.blocksSummed++;
        this.#spare.push({ features: m.features, labels: m.labels });
      } else if (m.kind === "sums") this.#result = m.state;
      else this.#fail();
      this.#notify();
    };
    // A worker that fails is replaced by the calling thread; its error must not end the process.
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail();
      this.#notify();
    };
    this.#send({ kind: "start", numClasses, dim });
  }

  /**
   * A started helper for K classes in d dimensions, or null where Workers
   * are unavailable or the worker module may not be read.
   */
  static start(numClasses: number, dim: number): Pass1Helper | null {
    try {
      if (typeof Worker === "undefined") return null;
      // Without read access the worker module fails to load with an uncaught error that ends the process.
      if (
        WORKER_URL.protocol === "file:" &&
        Deno.permissions.querySync({ name: "read", path: WORKER_URL }).state !== "granted"
      ) {
        return null;
      }
      return new Pass1Helper(new Worker(WORKER_URL.href, { type: "module" }), numClasses, dim);
    } catch {
      return null;
    }
  }

  /** True once the helper has failed: its share is lost and pass 1 must be run again without it. */
  get failed(): boolean {
    return this.#failed;
  }

  /** How many leading rows of a batch of `n` to hand to the worker (0: none). */
  share(n: number): number {
    return this.#failed || n < MIN_SPLIT_ROWS ? 0 : Math.floor(n / 2);
  }

  /**
   * Hands rows [0, rows) of the batch (features [n, d], labels [n]) to the
   * worker, `firstRow` being the batch's first row among all samples; waits
   * first while {@linkcode MAX_IN_FLIGHT} blocks are pending.
   */
  async post(features: FeatureArray, labels: ArrayLike<number>, rows: number, firstRow: number): Promise<void> {
    if (!(await this.#until(() => this.#posted - this.#acked < MAX_IN_FLIGHT))) return;
    const values = rows * this.#dim;
    const spare = this.#spare.pop();
    const reuse = spare !== undefined && spare.features.constructor === features.constructor &&
      spare.features.length >= values && spare.labels.length >= rows;
    const block = reuse ? spare.features.subarray(0, values) : features.slice(0, values);
    if (reuse) block.set(features.subarray(0, values));
    const blockLabels = reuse ? spare.labels.subarray(0, rows) : new Int32Array(rows);
    for (let i = 0; i < rows; i++) blockLabels[i] = labels[i];
    if (
      this.#send({ kind: "block", features: block, labels: blockLabels, firstRow }, [
        block.buffer as ArrayBuffer,
        blockLabels.buffer as ArrayBuffer,
      ])
    ) {
      this.#posted++;
    }
  }

  /** The worker's share once it has summed every block, or null when it failed (then run the pass again alone). */
  async finish(): Promise<ClassSumsState | null> {
    if (this.#failed || !this.#send({ kind: "end" })) return null;
    return (await this.#until(() => this.#result !== null)) ? this.#result : null;
  }

  /** Ends the worker. */
  stop(): void {
    this.#worker.terminate();
  }

  #send(message: Pass1Request, transfer: Transferable[] = []): boolean {
    try {
      this.#worker.postMessage(message, transfer);
      return true;
    } catch {
      this.#fail();
      return false;
    }
  }

  #fail(): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#worker.terminate();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Waits until `ready()` (true) or the helper has failed or stalled (false). */
  async #until(ready: () => boolean): Promise<boolean> {
    while (!ready()) {
      if (this.#failed) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await new Promise<boolean>((resolve) => {
        this.#wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), STALL_TIMEOUT_MS);
      });
      clearTimeout(timer);
      if (!answered) this.#fail();
    }
    return true;
  }
}
