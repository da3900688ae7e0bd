/**
 * The file names of a run folder, spelled here and nowhere else:
 * `config.json` (the training configuration), `log.jsonl` (one record per
 * epoch), `epoch-NNNN.ckpt` (model only), `best.ckpt` and `last.ckpt` (model,
 * optimiser state and random-generator state, for `--load`), `info.json`
 * (what `deno task evaluate` measured), and `.lock` (held by the one process
 * writing the folder).
 *
 * @example
 * ```ts
 * RUN_FILES.epoch(40); // "epoch-0040.ckpt"
 * RUN_FILES.epochOf("epoch-0040.ckpt"); // 40
 * ```
 */
export const RUN_FILES = {
  config: "config.json",
  log: "log.jsonl",
  info: "info.json",
  last: "last.ckpt",
  best: "best.ckpt",
  lock: ".lock",
  epoch: (e: number): string => `epoch-${String(e).padStart(4, "0")}.ckpt`,
  /**
   * The epoch of an `epoch-NNNN.ckpt` file name, however many digits it is
   * spelled with (`epoch-2.ckpt` is epoch 2 too, so that a copy under another
   * spelling is found and refused as a duplicate), or `null` for any other name.
   */
  epochOf: (name: string): number | null => {
    const m = /^epoch-(\d{1,9})\.ckpt$/.exec(name);
    return m ? Number(m[1]) : null;
  },
} as const;

/** The sweep folder's files: the manifest, its lock, the sweep's own lock, and the logs folder. */
export const SWEEP_FILES = {
  manifest: "manifest.json",
  lock: ".sweep.lock",
  logs: "logs",
} as const;
