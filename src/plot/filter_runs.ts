/**
 * Selecting runs by configuration (the `--width`, `--epochs`, `--dataset`,
 * `--model` flags of the figure tasks).
 *
 * @module
 */
import type { RunRecord } from "./types.ts";

/** Accepted values per field; an absent or empty list accepts everything. */
export interface RunFilter {
  width?: number[];
  /** Training length. */
  epochs?: number[];
  dataset?: string[];
  model?: string[];
  loss?: string[];
  seed?: number[];
}

// Widths such as 0.25 survive JSON exactly, but a tolerance keeps 0.1+0.2-style values from slipping through.
const same = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/**
 * The runs whose `info.json` configuration matches every given field.
 *
 * @example
 * ```ts
 * const wide = filterRuns(runs, { width: [2], epochs: [800] });
 * ```
 */
export function filterRuns(runs: readonly RunRecord[], filter: RunFilter): RunRecord[] {
  const nums = (accepted: number[] | undefined, v: number): boolean =>
    !accepted?.length || accepted.some((a) => same(a, v));
  const strs = (accepted: string[] | undefined, v: string): boolean => !accepted?.length || accepted.includes(v);
  return runs.filter(({ info: { run } }) =>
    nums(filter.width, run.width) && nums(filter.epochs, run.epochs) && nums(filter.seed, run.seed) &&
    strs(filter.dataset, run.dataset) && strs(filter.model, run.model) && strs(filter.loss, run.loss)
  );
}
