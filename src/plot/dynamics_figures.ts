/**
 * The training-dynamics figures of the paper (reference `plot.py`): NC1, NC2,
 * NC3, NC4 and train / validation / test top-1 against epoch, one line per
 * loss, for each setting (dataset, model, width, training length) among the runs.
 *
 * @module
 */
import type { CheckpointMetric } from "../metrics/table.ts";
import { metricInfo } from "../metrics/table.ts";
import { aggregateSeeds } from "./aggregate_seeds.ts";
import { lossStyle } from "./loss_style.ts";
import type { LineFigure, LineSeries, RunRecord } from "./types.ts";

/** Options of {@linkcode dynamicsFigures}. */
export interface DynamicsOptions {
  /** Log scale for NC1, whose values span orders of magnitude (default true). */
  logNc1?: boolean;
}

interface MetricFigure {
  key: CheckpointMetric;
  /** File-name part. */
  file: string;
  title: string;
}

/** The figures drawn per setting, in order. */
export const DYNAMICS_METRICS: readonly MetricFigure[] = [
  { key: "nc1", file: "nc1", title: "NC1: within-class variability" },
  { key: "nc2", file: "nc2", title: "NC2: classifier vs simplex ETF" },
  { key: "nc3", file: "nc3", title: "NC3: self-duality of W and H" },
  { key: "nc4_bias", file: "nc4", title: "NC4 (reference): response to the global mean" },
  {
    key: "nc4_ncc",
    file: "nc4-ncc",
    title: "NC4 (Papyan et al.): disagreement with nearest class centre",
  },
  { key: "train_top1", file: "train-top1", title: "Training accuracy" },
  { key: "val_top1", file: "val-top1", title: "Validation accuracy" },
  { key: "test_top1", file: "test-top1", title: "Test accuracy" },
];

/** The key runs of one setting share; one set of dynamics figures per setting. */
export function settingKey(r: RunRecord): string {
  const { dataset, model, width, epochs } = r.info.run;
  return `${dataset}-${model}-w${width}-e${epochs}`;
}

/** Groups `items` by `key`, keeping first-seen order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
}

/**
 * One line per loss (with its parameter) for `metric`; seeds of the same loss
 * are averaged with a min–max band. Sorted CE, LS, FL, MSE.
 */
export function lossSeries(runs: readonly RunRecord[], metric: CheckpointMetric): LineSeries[] {
  const byLoss = groupBy(runs, (r) => lossStyle(r.info.run).label);
  const series: (LineSeries & { order: number })[] = [];
  for (const group of byLoss.values()) {
    const style = lossStyle(group[0].info.run);
    const points = aggregateSeeds(group, metric);
    if (!points.some((p) => p.y !== null)) continue;
    series.push({
      label: style.label,
      color: style.color,
      marker: style.marker,
      points,
      runs: group.length,
      order: style.order,
    });
  }
  series.sort((a, b) => a.order - b.order || a.label.localeCompare(b.label));
  return series.map(({ order: _order, ...s }) => s);
}

/** The seeds of `runs` for a subtitle: `seed 1`, or `mean of seeds 1, 2; band = min–max`. */
export function describeSeeds(runs: readonly RunRecord[]): string {
  const seeds = [...new Set(runs.map((r) => r.info.run.seed))].sort((a, b) => a - b);
  return seeds.length === 1 ? `seed ${seeds[0]}` : `mean of seeds ${seeds.join(", ")}; band = min–max`;
}

/**
 * The dynamics figures for every setting among `runs`, named
 * `<dataset>-<model>-w<width>-e<epochs>-<metric>`. A metric no run recorded
 * yields a figure with no series, which renders as "no data".
 *
 * @example
 * ```ts
 * const figures = dynamicsFigures(await loadRuns({ roots: ["runs/"] }), { logNc1: true });
 * figures.map((f) => f.name); // ["cifar100-wide_resnet50-w2-e800-nc1", …]
 * ```
 */
export function dynamicsFigures(runs: readonly RunRecord[], options: DynamicsOptions = {}): LineFigure[] {
  const logNc1 = options.logNc1 ?? true;
  const figures: LineFigure[] = [];
  for (const [key, group] of groupBy(runs, settingKey)) {
    const { dataset, model, width, epochs } = group[0].info.run;
    const subtitle = `${dataset}, ${model}, width ${width}, ${epochs} epochs; ${describeSeeds(group)}`;
    for (const m of DYNAMICS_METRICS) {
      figures.push({
        kind: "line",
        name: `${key}-${m.file}`,
        title: m.title,
        subtitle,
        xLabel: "epoch",
        yLabel: metricInfo(m.key).label,
        xScale: "linear",
        yScale: m.key === "nc1" && logNc1 ? "log" : "linear",
        series: lossSeries(group, m.key),
      });
    }
  }
  return figures;
}
