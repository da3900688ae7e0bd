/**
 * Averaging one metric over the seeds of a configuration: the mean per
 * checkpoint epoch, with the min–max band when more than one seed measured it.
 *
 * @module
 */
import type { CheckpointMetric } from "../metrics/table.ts";
import { finite, mean } from "../stats.ts";
import type { RunRecord, SeriesPoint } from "./types.ts";

/**
 * Mean and min–max of `metric` over `runs` (typically the seeds of one configuration),
 * at every epoch any of them measured, `[T]` sorted by epoch. An epoch no run
 * measured (all `null`) keeps a `null` point, which draws a gap.
 *
 * @example
 * ```ts
 * const points = aggregateSeeds(seedsOfCe, "nc1"); // [{ x: 8, y: 1.9, lo: 1.8, hi: 2.0 }, …]
 * ```
 */
export function aggregateSeeds(runs: readonly RunRecord[], metric: CheckpointMetric): SeriesPoint[] {
  const byEpoch = new Map<number, (number | null)[]>();
  for (const { info } of runs) {
    const series = info.metrics[metric];
    if (!series) continue;
    info.epochs.forEach((epoch, i) => {
      const list = byEpoch.get(epoch) ?? [];
      list.push(series[i]);
      byEpoch.set(epoch, list);
    });
  }
  return [...byEpoch.keys()].sort((a, b) => a - b).map((x) => {
    const values = finite(byEpoch.get(x)!);
    const point: SeriesPoint = { x, y: mean(values) };
    if (values.length > 1) {
      point.lo = Math.min(...values);
      point.hi = Math.max(...values);
    }
    return point;
  });
}
