/**
 * The file names of a run folder: `config.json`, `log.jsonl` (one record per
 * epoch), `epoch-NNNN.ckpt` (model only), `best.ckpt` and `last.ckpt` (model,
 * optimiser state and random-generator state, for `--load`).
 *
 * @example
 * ```ts
 * RUN_FILES.epoch(40); // "epoch-0040.ckpt"
 * ```
 */
export const RUN_FILES = {
  config: "config.json",
  log: "log.jsonl",
  last: "last.ckpt",
  best: "best.ckpt",
  epoch: (e: number) => `epoch-${String(e).padStart(4, "0")}.ckpt`,
} as const;
