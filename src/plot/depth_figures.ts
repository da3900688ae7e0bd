/**
 * NC1 against depth: the progressive collapse through the layers (Papyan 2020's
 * figure of NC1 per layer, He & Su 2023's law of data separation). For each
 * setting whose runs were evaluated with `deno task evaluate --layers`, one
 * figure of NC1 at every hidden layer (x: the layers, input to output,
 * labelled by name; y: NC1 on a log scale), one line per loss and chosen
 * epoch: colour and marker say the loss, the dash the epoch (the last solid).
 *
 * @module
 */
import { metricInfo } from "../metrics/table.ts";
import { finite, mean } from "../stats.ts";
import { describeSeeds, groupBy, settingKey } from "./dynamics_figures.ts";
import { lossStyle } from "./loss_style.ts";
import type { LegendBlock, LineFigure, LineSeries, RunRecord, SeriesPoint } from "./types.ts";

/** Options of {@linkcode depthFigures}. */
export interface DepthOptions {
  /**
   * Epochs to draw; by default the first and the last epoch at which any run
   * of the setting measured its layers. Epochs no run measured are left out.
   */
  epochs?: readonly number[];
  /**
   * Hears of each setting in which some of `epochs` have no layer data:
   * the figure's setting (`<dataset>-<model>-w<width>-e<epochs>`), those
   * epochs, and the epochs that have layer data there.
   */
  onMissing?: (setting: string, missing: number[], measured: number[]) => void;
}

/** Dashes of the earlier epochs, in order; the last epoch is solid. */
const EPOCH_DASHES = ["2,3", "6,4", "8,3,2,3", "1,2"];

/** The layer NC1 of `r` at `epoch`, `[L]`, or null when its layers were not measured then. */
function layerNc1(r: RunRecord, epoch: number): (number | null)[] | null {
  const t = r.info.epochs.indexOf(epoch);
  return t < 0 ? null : r.info.layers?.metrics.nc1?.[t] ?? null;
}

/** Epochs at which `r` has layer NC1. */
function layerEpochs(r: RunRecord): number[] {
  return r.info.epochs.filter((e) => layerNc1(r, e) !== null);
}

/**
 * The epochs, ascending, at which at least one of `runs` has layer data
 * (`deno task evaluate --layers`); empty when none has.
 *
 * @example
 * ```ts
 * layerDataEpochs(runs); // [1, 2, …, 200]
 * ```
 */
export function layerDataEpochs(runs: readonly RunRecord[]): number[] {
  return [...new Set(runs.flatMap(layerEpochs))].sort((a, b) => a - b);
}

/**
 * The NC1-against-depth figures of the runs that have layer data
 * (`info.layers`), one per setting (dataset, model, width, training length)
 * and layer list, named `<dataset>-<model>-w<width>-e<epochs>-nc1-depth`.
 * Seeds of a loss are averaged per layer, with a min–max band. Runs without
 * layer data make no figure; epochs asked for that a setting has no layer
 * data at are left out of its figure, and `options.onMissing` hears of them.
 *
 * @example
 * ```ts
 * const figures = depthFigures(await loadRuns({ roots: ["runs/"] }), { epochs: [10, 200] });
 * figures.map((f) => f.name); // ["fashion-mnist-subset-mlp-w1-e200-nc1-depth"]
 * ```
 */
export function depthFigures(runs: readonly RunRecord[], options: DepthOptions = {}): LineFigure[] {
  const layered = runs.filter((r) => layerEpochs(r).length > 0);
  const groups = groupBy(layered, (r) => `${settingKey(r)}|${r.info.layers!.names.join(",")}`);
  const figures: LineFigure[] = [];
  const names = new Set<string>();
  for (const group of groups.values()) {
    const { dataset, model, width, epochs } = group[0].info.run;
    const layers = group[0].info.layers!.names;
    const measured = [...new Set(group.flatMap(layerEpochs))].sort((a, b) => a - b);
    const chosen = options.epochs
      ? [...new Set(options.epochs)].filter((e) => measured.includes(e)).sort((a, b) => a - b)
      : [...new Set([measured[0], measured[measured.length - 1]])];
    const missing = [...new Set(options.epochs ?? [])].filter((e) => !measured.includes(e)).sort((a, b) => a - b);
    if (missing.length > 0) options.onMissing?.(settingKey(group[0]), missing, measured);
    const dashOf = (i: number): string | undefined =>
      i === chosen.length - 1 ? undefined : EPOCH_DASHES[i % EPOCH_DASHES.length];
    const series: (LineSeries & { order: number })[] = [];
    for (const runsOfLoss of groupBy(group, (r) => lossStyle(r.info.run).label).values()) {
      const style = lossStyle(runsOfLoss[0].info.run);
      chosen.forEach((epoch, ei) => {
        const rows = runsOfLoss.map((r) => layerNc1(r, epoch)).filter((row) => row !== null);
        if (rows.length === 0) return;
        const points = layers.map((_, l): SeriesPoint => {
          const values = finite(rows.map((row) => row[l]));
          const point: SeriesPoint = { x: l + 1, y: mean(values) };
          if (values.length > 1) {
            point.lo = Math.min(...values);
            point.hi = Math.max(...values);
          }
          return point;
        });
        series.push({
          label: `${style.label}, epoch ${epoch}`,
          color: style.color,
          marker: style.marker,
          dash: dashOf(ei),
          points,
          runs: rows.length,
          order: style.order * 1000 + ei,
        });
      });
    }
    if (series.length === 0) continue;
    series.sort((a, b) => a.order - b.order || a.label.localeCompare(b.label));
    const losses = [...new Map(series.map((s) => [s.label.replace(/, epoch \d+$/, ""), s])).entries()];
    const legend: LegendBlock[] = [
      { title: "loss", entries: losses.map(([label, s]) => ({ label, color: s.color, marker: s.marker })) },
      { title: "epoch", entries: chosen.map((e, i) => ({ label: String(e), color: "#444444", dash: dashOf(i) })) },
    ];
    let name = `${settingKey(group[0])}-nc1-depth`;
    if (names.has(name)) name += `-${layers.length}-layers`;
    names.add(name);
    figures.push({
      kind: "line",
      name,
      title: "NC1 against depth",
      subtitle: `${dataset}, ${model}, width ${width}, ${epochs} epochs; ${describeSeeds(group)}`,
      xLabel: "layer",
      yLabel: metricInfo("nc1").label,
      xScale: "linear",
      xTicks: layers.map((_, l) => l + 1),
      xTickLabels: layers,
      yScale: "log",
      series: series.map(({ order: _order, ...s }) => s),
      legend,
    });
  }
  return figures;
}
