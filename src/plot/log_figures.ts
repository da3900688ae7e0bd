/**
 * The training-log figures: loss and top-1 against epoch, for the training
 * set (solid) and the validation set (dashed), one pair of lines per run, from
 * each run's `log.jsonl`. They exist while a run trains, before any
 * `info.json`: the dashboard of `deno task serve` draws them as epochs arrive.
 *
 * @module
 */
import type { EpochRecord } from "../run/epoch_log.ts";
import { lossStyle } from "./loss_style.ts";
import type { LegendBlock, LineFigure, LineSeries, MarkerName } from "./types.ts";

/** One run's training log, as {@linkcode logFigures} takes it. */
export interface RunLog {
  /** The run's name, the legend's label when several runs are drawn. */
  name: string;
  /** The run's loss (`cross_entropy`, …), which gives the line its colour. */
  loss: string;
  records: readonly EpochRecord[];
}

/** Colours of runs drawn together (Okabe–Ito), used when the runs' losses do not tell them apart. */
const RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"];
const RUN_MARKERS: MarkerName[] = ["circle", "square", "triangle", "diamond", "star", "cross", "wye", "times"];
const VALIDATION_DASH = "6,3";

interface LogMetric {
  file: string;
  title: string;
  yLabel: string;
  train: keyof EpochRecord;
  val: keyof EpochRecord;
  yScale: "linear" | "log";
}

const LOG_METRICS: readonly LogMetric[] = [
  {
    file: "log-loss",
    title: "Loss (training log)",
    yLabel: "loss",
    train: "train_loss",
    val: "val_loss",
    yScale: "log",
  },
  {
    file: "log-top1",
    title: "Top-1 accuracy (training log)",
    yLabel: "top-1 (%)",
    train: "train_top1",
    val: "val_top1",
    yScale: "linear",
  },
];

/**
 * Loss and top-1 against epoch from the logs of `runs`, named
 * `<prefix>log-loss` and `<prefix>log-top1` (none when no run has logged an
 * epoch). With one run, or runs of distinct
 * losses, lines take their loss's colour; otherwise each run its own.
 *
 * @example
 * ```ts
 * const [loss, top1] = logFigures([{ name: "mlp-1-ce-30-1", loss: "cross_entropy", records }]);
 * loss.series.map((s) => s.label); // ["train", "validation"]
 * ```
 */
export function logFigures(runs: readonly RunLog[], prefix = ""): LineFigure[] {
  const withData = runs.filter((r) => r.records.length > 0);
  if (withData.length === 0) return [];
  const distinctLosses = new Set(withData.map((r) => r.loss)).size === withData.length;
  const looks = withData.map((r, i) => {
    if (distinctLosses) {
      const s = lossStyle({ loss: r.loss });
      return { color: s.color, marker: s.marker };
    }
    return { color: RUN_COLORS[i % RUN_COLORS.length], marker: RUN_MARKERS[i % RUN_MARKERS.length] };
  });
  const single = withData.length === 1;
  return LOG_METRICS.map((m) => {
    const series: LineSeries[] = [];
    withData.forEach((r, i) => {
      for (
        const [split, key, dash] of [["train", m.train, undefined], ["validation", m.val, VALIDATION_DASH]] as const
      ) {
        series.push({
          label: single ? split : `${r.name} ${split}`,
          color: looks[i].color,
          marker: looks[i].marker,
          ...(dash ? { dash } : {}),
          points: r.records.map((rec) => ({ x: rec.epoch, y: finiteOrNull(rec[key]) })),
          runs: 1,
        });
      }
    });
    const legend: LegendBlock[] = single ? [] : [
      { title: "run", entries: withData.map((r, i) => ({ label: r.name, ...looks[i] })) },
      {
        title: "split",
        entries: [{ label: "train", color: "#444444" }, {
          label: "validation",
          color: "#444444",
          dash: VALIDATION_DASH,
        }],
      },
    ];
    const figure: LineFigure = {
      kind: "line",
      name: `${prefix}${m.file}`,
      title: m.title,
      subtitle: single ? withData[0].name : `${withData.length} runs`,
      xLabel: "epoch",
      yLabel: m.yLabel,
      xScale: "linear",
      yScale: m.yScale,
      series,
    };
    if (!single) figure.legend = legend;
    return figure;
  });
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
