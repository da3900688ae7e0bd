/**
 * The grid figures of the paper (reference `plot_heatmap.py`): over the
 * width × training-length grid, with the test accuracy of each run's
 * best-validation checkpoint (`best.test_top1`) averaged over seeds,
 *
 * - |Acc_CE − Acc_loss| for every loss other than CE (with several seeds, the
 *   mean of the per-seed differences and its 95% interval under it),
 * - with three or more seeds, the noise-corrected gap √max(0, Ĝ) over all
 *   losses (`src/gap_statistics.ts`) with its 95% seed-bootstrap interval and
 *   its noise floor, for the best-validation checkpoint and the last epoch,
 * - the accuracy of each loss (with several seeds, ± the 95% half-width),
 * - the variance of test accuracy over seeds and losses together,
 * - test accuracy against training length (log₂ axis), one line per width and loss.
 *
 * The expected grid is every width × epochs × loss × seed seen among the runs
 * of a dataset and model. A grid point without a usable run is reported in
 * `missing`; a cell with no run at all is drawn empty, and a cell that averages
 * fewer seeds than expected carries a `*` after its number.
 *
 * @module
 */
import { absInterval, finite, type Interval, mean, meanInterval, pairedDifference, variance } from "../stats.ts";
import { DEFAULT_RESAMPLES, gapEstimate, noiseFloor, sharedResamples } from "../gap_statistics.ts";
import { lossStyle } from "./loss_style.ts";
import type { HeatmapCell, HeatmapFigure, LegendBlock, LineFigure, LineSeries, RunRecord } from "./types.ts";

/** A grid point of the experiment without a usable run. */
export interface MissingRun {
  dataset: string;
  model: string;
  width: number;
  epochs: number;
  loss: string;
  seed: number;
  /** `no run`, or why the run found cannot be used. */
  reason: string;
}

/** What {@linkcode heatmapFigures} returns. */
export interface HeatmapResult {
  figures: (HeatmapFigure | LineFigure)[];
  missing: MissingRun[];
}

/** Line colours of the widths (Okabe–Ito, distinguishable under the common colour-vision deficiencies). */
const WIDTH_COLORS = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"];

const uniqueSorted = (values: number[]): number[] => [...new Set(values)].sort((a, b) => a - b);

/** Accuracy per cell and loss (key `${width}|${epochs}|${loss}`), by seed. */
type Cells = Map<string, Map<number, number>>;
const cellKey = (width: number, epochs: number, loss: string): string => `${width}|${epochs}|${loss}`;

function fmt(value: number | null, digits: number, partial: boolean): string {
  if (value === null) return "–";
  return value.toFixed(digits) + (partial ? "*" : "");
}

/** The cell's text: the value, and under it the interval when there is one. */
function cellText(value: number | null, digits: number, partial: boolean, interval?: string): string {
  return fmt(value, digits, partial) + (value !== null && interval ? `\n${interval}` : "");
}

/** `± half` of a symmetric interval, `[lo, hi]` of an asymmetric one; empty without one. */
function intervalText(i: Interval | null, digits: number, symmetric: boolean): string {
  if (i === null || i.lo === null || i.hi === null || i.half === null) return "";
  return symmetric ? `± ${i.half.toFixed(digits)}` : `[${i.lo.toFixed(digits)}, ${i.hi.toFixed(digits)}]`;
}

const seedValues = (cells: Cells, key: string): number[] => [...(cells.get(key)?.values() ?? [])];

/** One dataset and model's runs as a grid: its axes, its seeds and losses, and the accuracies of its cells. */
interface Grid {
  /** `${dataset}-${model}`, the figures' name prefix. */
  prefix: string;
  dataset: string;
  model: string;
  widths: number[];
  epochsList: number[];
  seeds: number[];
  /** In the losses' order (CE first). */
  losses: string[];
  /** The legend label (with the loss parameter) of the first run of each loss. */
  labelOf: Map<string, string>;
  /** Test top-1 of the best-validation checkpoint. */
  cells: Cells;
  /** Test top-1 at the last epoch. */
  lastCells: Cells;
  /** `${cellKey}|${seed}` of every grid point with a usable run. */
  found: Set<string>;
}

/** A heatmap cell's value, whether it averages fewer seeds than expected, and the interval under it. */
type CellValue = { value: number | null; partial: boolean; interval?: string };

const CE = "cross_entropy";

/**
 * The grid figures for each dataset and model among `runs`, and the grid
 * points that have no usable run.
 *
 * @example
 * ```ts
 * const { figures, missing } = heatmapFigures(runs);
 * for (const m of missing) console.log(`missing: ${m.loss} width ${m.width} ${m.epochs} epochs seed ${m.seed}`);
 * ```
 */
export function heatmapFigures(runs: readonly RunRecord[]): HeatmapResult {
  const figures: (HeatmapFigure | LineFigure)[] = [];
  const missing: MissingRun[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = `${r.info.run.dataset}-${r.info.run.model}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const [prefix, group] of groups) {
    const g = gridOf(prefix, group);
    missing.push(...missingRuns(g, group));
    figures.push(
      ...differenceFigures(g),
      ...gapFigures(g),
      ...accuracyFigures(g),
      varianceFigure(g),
      accuracyLines(prefix, g.dataset, g.model, g.widths, g.epochsList, g.losses, g.labelOf, g.cells),
    );
  }
  return { figures, missing };
}

/** The grid of one dataset and model's runs; a second folder of one configuration is not counted as a seed. */
function gridOf(prefix: string, group: readonly RunRecord[]): Grid {
  const { dataset, model } = group[0].info.run;
  const losses = [...new Set(group.map((r) => r.info.run.loss))]
    .sort((a, b) => lossStyle({ loss: a }).order - lossStyle({ loss: b }).order || a.localeCompare(b));
  const labelOf = new Map<string, string>();
  for (const r of group) if (!labelOf.has(r.info.run.loss)) labelOf.set(r.info.run.loss, lossStyle(r.info.run).label);
  const cells: Cells = new Map();
  const lastCells: Cells = new Map();
  const found = new Set<string>();
  for (const r of group) {
    const { width, epochs, loss, seed } = r.info.run;
    const id = `${cellKey(width, epochs, loss)}|${seed}`;
    // Test top-1 at the last epoch: the last checkpoint's, when it is the run's last epoch.
    const lastAcc = r.info.epochs.at(-1) === epochs ? r.info.metrics.test_top1?.at(-1) : null;
    const lk = cellKey(width, epochs, loss);
    if (typeof lastAcc === "number" && !lastCells.get(lk)?.has(seed)) {
      lastCells.set(lk, (lastCells.get(lk) ?? new Map<number, number>()).set(seed, lastAcc));
    }
    const acc = r.info.best?.test_top1;
    if (typeof acc !== "number") continue;
    // Two folders with the same configuration would be averaged as if they were two seeds.
    if (found.has(id)) continue;
    found.add(id);
    const k = cellKey(width, epochs, loss);
    const bySeed = cells.get(k) ?? new Map<number, number>();
    bySeed.set(seed, acc);
    cells.set(k, bySeed);
  }
  return {
    prefix,
    dataset,
    model,
    widths: uniqueSorted(group.map((r) => r.info.run.width)),
    epochsList: uniqueSorted(group.map((r) => r.info.run.epochs)),
    seeds: uniqueSorted(group.map((r) => r.info.run.seed)),
    losses,
    labelOf,
    cells,
    lastCells,
    found,
  };
}

/** Every width × epochs × loss × seed of the grid without a usable run, and why. */
function missingRuns(g: Grid, group: readonly RunRecord[]): MissingRun[] {
  const missing: MissingRun[] = [];
  const { dataset, model } = g;
  for (const width of g.widths) {
    for (const epochs of g.epochsList) {
      for (const loss of g.losses) {
        for (const seed of g.seeds) {
          if (g.found.has(`${cellKey(width, epochs, loss)}|${seed}`)) continue;
          const run = group.find((r) =>
            r.info.run.width === width && r.info.run.epochs === epochs && r.info.run.loss === loss &&
            r.info.run.seed === seed
          );
          missing.push({
            dataset,
            model,
            width,
            epochs,
            loss,
            seed,
            reason: run ? `${run.dir}: no best.test_top1` : "no run",
          });
        }
      }
    }
  }
  return missing;
}

/** The axes every heatmap of the grid shares: training epochs across, widths up. */
function axes(g: Grid): Pick<HeatmapFigure, "xLabel" | "yLabel" | "xDomain" | "yDomain"> {
  return {
    xLabel: "training epochs",
    yLabel: "width multiplier",
    xDomain: g.epochsList.map(String),
    yDomain: [...g.widths].reverse().map(String),
  };
}

/** Mean accuracy of `loss` over the seeds of cell (w, e), with the half-width of its 95% interval. */
function accOf(g: Grid, w: number, e: number, loss: string): CellValue & { interval: string } {
  const values = seedValues(g.cells, cellKey(w, e, loss));
  return {
    value: mean(values),
    partial: values.length > 0 && values.length < g.seeds.length,
    interval: intervalText(meanInterval(values), 1, true),
  };
}

/** |Acc_CE − Acc_loss|: with two or more seeds measured by both, the per-seed (paired) differences. */
function gapOf(g: Grid, w: number, e: number, loss: string): CellValue {
  const a = accOf(g, w, e, CE);
  const b = accOf(g, w, e, loss);
  const value = a.value === null || b.value === null ? null : Math.abs(a.value - b.value);
  const paired = pairedDifference(
    g.cells.get(cellKey(w, e, CE)) ?? new Map(),
    g.cells.get(cellKey(w, e, loss)) ?? new Map(),
  );
  const d = paired !== null && paired.n >= 2 ? paired : null;
  return {
    value: d !== null ? Math.abs(d.mean) : value,
    partial: a.partial || b.partial,
    interval: d !== null ? intervalText(absInterval(d), 2, false) : "",
  };
}

/** The heatmap cells of `f` over the grid, and whether any averages fewer seeds than expected. */
function gridCells(
  g: Grid,
  f: (w: number, e: number) => CellValue,
  digits: number,
): { cells: HeatmapCell[]; partialAny: boolean } {
  const out: HeatmapCell[] = [];
  let partialAny = false;
  for (const w of g.widths) {
    for (const e of g.epochsList) {
      const { value, partial, interval } = f(w, e);
      partialAny ||= partial && value !== null;
      out.push({ x: String(e), y: String(w), value, text: cellText(value, digits, partial, interval) });
    }
  }
  return { cells: out, partialAny };
}

/** A subtitle naming the data, the seeds averaged and, with several, what the text under each value is. */
function seedNote(g: Grid, partialAny: boolean, interval: string): string {
  return `${g.dataset}, ${g.model}; mean over seeds ${g.seeds.join(", ")}` +
    (g.seeds.length > 1 ? `; ${interval}` : "") +
    (partialAny ? "; * = fewer seeds than expected" : "");
}

/** |Acc_CE − Acc_loss| for every loss other than CE (none without CE). */
function differenceFigures(g: Grid): HeatmapFigure[] {
  if (!g.losses.includes(CE)) return [];
  const gapNote = "below: 95% interval of the paired (same-seed) difference";
  return g.losses.filter((l) => l !== CE).map((loss) => {
    const short = lossStyle({ loss }).short;
    const { cells: hc, partialAny } = gridCells(g, (w, e) => gapOf(g, w, e, loss), 2);
    return {
      kind: "heatmap",
      name: `${g.prefix}-heatmap-diff-ce-${short.toLowerCase()}`,
      title: `|Acc(CE) − Acc(${g.labelOf.get(loss)})|, test top-1`,
      subtitle: seedNote(g, partialAny, gapNote),
      colorLabel: `|Acc CE − Acc ${short}| (%)`,
      scheme: "oranges",
      cells: hc,
      ...axes(g),
    };
  });
}

/**
 * With CE, another loss and three or more seeds: √Ĝ over all losses, its 95%
 * interval and noise floor, for the best-validation checkpoint and the last
 * epoch (a figure only where some cell has a value).
 */
function gapFigures(g: Grid): HeatmapFigure[] {
  if (!(g.losses.includes(CE) && g.losses.length > 1 && g.seeds.length >= 3)) return [];
  const figures: HeatmapFigure[] = [];
  const ordered = [CE, ...g.losses.filter((l) => l !== CE)];
  for (
    const [kind, source, what] of [
      ["best", g.cells, "best-validation model"],
      ["last", g.lastCells, "last epoch"],
    ] as const
  ) {
    /** √Ĝ over the seeds that hold every loss, its 95% interval and noise floor (three or more seeds). */
    const gapCell = (w: number, e: number): CellValue => {
      const bySeed = ordered.map((l) => source.get(cellKey(w, e, l)) ?? new Map<number, number>());
      const complete = g.seeds.filter((s) => bySeed.every((m) => m.has(s)));
      if (complete.length < 3) return { value: null, partial: false };
      const table = bySeed.map((m) => complete.map((s) => m.get(s)!));
      const est = gapEstimate(table, sharedResamples(complete.length, DEFAULT_RESAMPLES))!;
      const f = noiseFloor(table)!;
      return {
        value: est.points.value,
        partial: complete.length < g.seeds.length,
        interval: `[${est.points.lo.toFixed(2)}, ${est.points.hi.toFixed(2)}]\nfloor ${f.points.toFixed(2)}`,
      };
    };
    const { cells: hc, partialAny } = gridCells(g, gapCell, 2);
    if (hc.every((c) => c.value === null)) continue;
    figures.push({
      kind: "heatmap",
      name: `${g.prefix}-heatmap-gap-${kind}`,
      title: `Noise-corrected gap between losses √Ĝ, test top-1 (${what})`,
      subtitle: `${g.dataset}, ${g.model}; Ĝ = mean over ${
        ordered.slice(1).map((l) => lossStyle({ loss: l }).short).join(", ")
      } of (d̄² − s²/n), d = Acc(loss) − Acc(CE) per seed; below: 95% seed-bootstrap interval and the noise ` +
        `floor (95th percentile under within-seed label permutation); seeds ${g.seeds.join(", ")}` +
        (partialAny ? "; * = fewer seeds than expected" : ""),
      colorLabel: "√max(0, Ĝ) (points)",
      scheme: "oranges",
      cells: hc,
      ...axes(g),
    });
  }
  return figures;
}

/** The accuracy of each loss, mean over seeds (with several, ± the 95% half-width). */
function accuracyFigures(g: Grid): HeatmapFigure[] {
  const accNote = "below: ± half-width of the 95% interval";
  return g.losses.map((loss) => {
    const short = lossStyle({ loss }).short;
    const { cells: hc, partialAny } = gridCells(g, (w, e) => accOf(g, w, e, loss), 1);
    return {
      kind: "heatmap",
      name: `${g.prefix}-heatmap-acc-${short.toLowerCase()}`,
      title: `Test top-1 of ${g.labelOf.get(loss)} (best-validation model)`,
      subtitle: seedNote(g, partialAny, accNote),
      colorLabel: "test top-1 (%)",
      scheme: "viridis",
      cells: hc,
      ...axes(g),
    };
  });
}

/** The variance of test accuracy over seeds and losses together. */
function varianceFigure(g: Grid): HeatmapFigure {
  const { cells: hc, partialAny } = gridCells(g, (w, e) => {
    const values: number[] = [];
    for (const loss of g.losses) values.push(...finite(seedValues(g.cells, cellKey(w, e, loss))));
    const expected = g.losses.length * g.seeds.length;
    return { value: variance(values), partial: values.length > 0 && values.length < expected };
  }, 2);
  return {
    kind: "heatmap",
    name: `${g.prefix}-heatmap-variance`,
    title: "Variance of test top-1 over seeds and losses",
    subtitle: `${g.dataset}, ${g.model}; losses ${g.losses.map((l) => lossStyle({ loss: l }).short).join(", ")} × ` +
      `seeds ${g.seeds.join(", ")}` + (partialAny ? "; * = some runs missing" : ""),
    colorLabel: "variance (%²)",
    scheme: "purples",
    cells: hc,
    ...axes(g),
  };
}

/** Test accuracy against training length, one line per width (colour) and loss (marker; CE solid, others dashed). */
function accuracyLines(
  prefix: string,
  dataset: string,
  model: string,
  widths: number[],
  epochsList: number[],
  losses: string[],
  labelOf: Map<string, string>,
  cells: Cells,
): LineFigure {
  const series: LineSeries[] = [];
  widths.forEach((w, wi) => {
    for (const loss of losses) {
      const style = lossStyle({ loss });
      const points = epochsList.map((e) => {
        return { x: e, y: mean(seedValues(cells, cellKey(w, e, loss))) };
      });
      if (!points.some((p) => p.y !== null)) continue;
      series.push({
        label: `width ${w}, ${style.short}`,
        color: WIDTH_COLORS[wi % WIDTH_COLORS.length],
        marker: style.marker,
        dash: loss === "cross_entropy" ? undefined : style.dash,
        points,
        runs: 0,
      });
    }
  });
  const legend: LegendBlock[] = [
    {
      title: "width",
      entries: widths.map((w, wi) => ({ label: String(w), color: WIDTH_COLORS[wi % WIDTH_COLORS.length] })),
    },
    {
      title: "loss",
      entries: losses.map((loss) => {
        const style = lossStyle({ loss });
        return {
          label: labelOf.get(loss) ?? style.label,
          color: "#444444",
          marker: style.marker,
          dash: loss === "cross_entropy" ? undefined : style.dash,
        };
      }),
    },
  ];
  return {
    kind: "line",
    name: `${prefix}-accuracy-vs-epochs`,
    title: "Test top-1 against training length",
    subtitle: `${dataset}, ${model}; best-validation model, mean over seeds`,
    xLabel: "training epochs (log₂ scale)",
    yLabel: "test top-1 (%)",
    xScale: "log2",
    xTicks: epochsList,
    yScale: "linear",
    series,
    legend,
  };
}
