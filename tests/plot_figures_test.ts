/** Figure specifications built from run records: series, labels, seed averaging, grid cells, missing runs. */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import {
  aggregateSeeds,
  dynamicsFigures,
  type HeatmapFigure,
  heatmapFigures,
  type LineFigure,
  lossStyle,
  parseRunInfo,
  type RunRecord,
} from "../src/plot/mod.ts";
import { grid, syntheticInfo, type SyntheticRun } from "./fixtures/plot/synthetic_runs.ts";

function record(spec: SyntheticRun, patch: (info: Record<string, unknown>) => void = () => {}): RunRecord {
  const info = syntheticInfo(spec);
  patch(info);
  return {
    dir: `runs/${spec.loss}-${spec.width}-${spec.epochs}-${spec.seed}`,
    info: parseRunInfo(JSON.stringify(info), "x"),
  };
}

/** A run whose best test accuracy is exactly `acc`. */
function withAcc(spec: SyntheticRun, acc: number): RunRecord {
  return record(spec, (info) => ((info.best as Record<string, number>).test_top1 = acc));
}

Deno.test("lossStyle: reference colours, distinct markers, parameters in labels", () => {
  const styles = [
    lossStyle({ loss: "cross_entropy" }),
    lossStyle({ loss: "label_smoothing", loss_params: { smoothing: 0.05 } }),
    lossStyle({ loss: "focal_loss", loss_params: { gamma: 3 } }),
    lossStyle({ loss: "mean_square_error", loss_params: { rescale: 15 } }),
  ];
  assertEquals(styles.map((s) => s.label), ["CE", "LS (α = 0.05)", "FL (γ = 3)", "MSE (scale 15)"]);
  assertEquals(new Set(styles.map((s) => s.marker)).size, 4);
  assertEquals(new Set(styles.map((s) => s.color)).size, 4);
  assertEquals(lossStyle({ loss: "hinge" }).label, "hinge");
});

Deno.test("aggregateSeeds: mean with min–max band, nulls skipped, gaps kept", () => {
  const a = record(
    { loss: "cross_entropy", width: 2, epochs: 100, seed: 1, checkpoints: 3 },
    (i) => (i.nc1 = [3, 2, null]),
  );
  const b = record(
    { loss: "cross_entropy", width: 2, epochs: 100, seed: 2, checkpoints: 3 },
    (i) => (i.nc1 = [1, null, null]),
  );
  const points = aggregateSeeds([a, b], "nc1");
  assertEquals(points.map((p) => p.x), [33, 67, 100]);
  assertEquals(points[0], { x: 33, y: 2, lo: 1, hi: 3 });
  assertEquals(points[1], { x: 67, y: 2 });
  assertEquals(points[2], { x: 100, y: null });
});

Deno.test("dynamicsFigures: one figure per metric and setting, one series per loss", () => {
  const runs = grid([2], [800], [1, 123], undefined, 10).map((s) => record(s));
  runs.push(...grid([0.5], [100], [1], ["cross_entropy", "focal_loss"], 10).map((s) => record(s)));
  const figures = dynamicsFigures(runs);
  assertEquals(figures.length, 16);
  const nc1 = figures.find((f) => f.name === "cifar100-wide_resnet50-w2-e800-nc1")!;
  assertEquals(nc1.yScale, "log");
  assertEquals(nc1.series.map((s) => s.label), ["CE", "LS (α = 0.05)", "FL (γ = 3)", "MSE (scale 15)"]);
  assert(nc1.series.every((s) => s.runs === 2 && s.points.length === 10 && s.points[0].lo !== undefined));
  assertMatch(nc1.subtitle!, /seeds 1, 123/);
  const names = figures.filter((f) => f.name.includes("w2-e800")).map((f) => f.name.replace(/.*e800-/, ""));
  assertEquals(names, ["nc1", "nc2", "nc3", "nc4", "nc4-ncc", "train-top1", "val-top1", "test-top1"]);
  const small = figures.find((f) => f.name === "cifar100-wide_resnet50-w0.5-e100-test-top1")!;
  assertEquals(small.series.length, 2);
  assertEquals(small.series[0].points[0].lo, undefined, "one seed: no band");
  assertEquals(dynamicsFigures(runs, { logNc1: false })[0].yScale, "linear");
});

Deno.test("dynamicsFigures: a metric no run recorded gives an empty figure", () => {
  const runs = [
    record({ loss: "cross_entropy", width: 2, epochs: 100, seed: 1, checkpoints: 4 }, (i) => delete i.nc4_ncc),
  ];
  const ncc = dynamicsFigures(runs).find((f) => f.name.endsWith("nc4-ncc"))!;
  assertEquals(ncc.series.length, 0);
});

Deno.test("heatmapFigures: differences, accuracies and variance from best.test_top1", () => {
  const runs: RunRecord[] = [];
  // Cell (width 1, 100 epochs): CE 70, 72; MSE 66, 68; cell (width 1, 200 epochs): CE 75, 75; MSE 74, 76.
  const acc: Record<string, number[]> = {
    "cross_entropy|100": [70, 72],
    "mean_square_error|100": [66, 68],
    "cross_entropy|200": [75, 75],
    "mean_square_error|200": [74, 76],
  };
  for (const [key, values] of Object.entries(acc)) {
    const [loss, epochs] = key.split("|");
    values.forEach((a, i) =>
      runs.push(withAcc({ loss: loss as SyntheticRun["loss"], width: 1, epochs: Number(epochs), seed: i + 1 }, a))
    );
  }
  const { figures, missing } = heatmapFigures(runs);
  assertEquals(missing.length, 0);
  const byName = new Map(figures.map((f) => [f.name.replace("cifar100-wide_resnet50-", ""), f]));
  assertEquals([...byName.keys()], [
    "heatmap-diff-ce-mse",
    "heatmap-acc-ce",
    "heatmap-acc-mse",
    "heatmap-variance",
    "accuracy-vs-epochs",
  ]);
  const cell = (name: string, x: string) =>
    (byName.get(name) as HeatmapFigure).cells.find((c) => c.x === x && c.y === "1")!;
  assertEquals(cell("heatmap-diff-ce-mse", "100").value, 4);
  // Two seeds: t(0.975, 1) = tan(0.475π) = 12.706. Paired CE − MSE at 100 epochs: 4, 4 (no spread).
  assertEquals(cell("heatmap-diff-ce-mse", "100").text, "4.00\n[4.00, 4.00]");
  assertEquals(cell("heatmap-diff-ce-mse", "200").value, 0);
  // At 200 epochs: 1, −1; s = √2, half = 12.706 · √2 / √2; the interval of |·| straddles 0.
  assertEquals(cell("heatmap-diff-ce-mse", "200").text, "0.00\n[0.00, 12.71]");
  assertEquals(cell("heatmap-acc-ce", "100").value, 71);
  // 70, 72: half-width 12.706 · √2 / √2.
  assertEquals(cell("heatmap-acc-ce", "100").text, "71.0\n± 12.7");
  assertMatch((byName.get("heatmap-acc-ce") as HeatmapFigure).subtitle!, /half-width of the 95% interval/);
  // Population variance of {70, 72, 66, 68} = 5.
  assertEquals(cell("heatmap-variance", "100").value, 5);
  assertEquals(cell("heatmap-variance", "200").value, 0.5);
  const lines = byName.get("accuracy-vs-epochs") as LineFigure;
  assertEquals(lines.xScale, "log2");
  assertEquals(lines.xTicks, [100, 200]);
  assertEquals(lines.series.length, 2);
  assertEquals(lines.series[0].dash, undefined, "CE solid");
  assert(lines.series[1].dash, "MSE dashed");
  assertEquals(lines.series[1].points.map((p) => p.y), [67, 75]);
});

Deno.test("heatmapFigures: missing runs are empty cells, listed, and partial cells are marked", () => {
  const runs = grid([0.5, 2], [100, 200], [1, 2], ["cross_entropy", "focal_loss"], 4)
    // No runs at all for width 0.5, 200 epochs; only one seed of FL at width 2, 100 epochs.
    .filter((s) => !(s.width === 0.5 && s.epochs === 200))
    .filter((s) => !(s.width === 2 && s.epochs === 100 && s.loss === "focal_loss" && s.seed === 2))
    .map((s) => record(s));
  // A run without best.test_top1 is unusable, and reported with its folder.
  runs.push(record({ loss: "cross_entropy", width: 0.5, epochs: 200, seed: 1, checkpoints: 4 }, (i) => delete i.best));
  const { figures, missing } = heatmapFigures(runs);
  assertEquals(missing.length, 5);
  assert(
    missing.some((m) =>
      m.width === 2 && m.epochs === 100 && m.loss === "focal_loss" && m.seed === 2 && m.reason === "no run"
    ),
  );
  assert(
    missing.some((m) => m.width === 0.5 && m.epochs === 200 && m.seed === 1 && m.reason.includes("no best.test_top1")),
  );
  const diff = figures.find((f) => f.name.endsWith("heatmap-diff-ce-fl")) as HeatmapFigure;
  const empty = diff.cells.find((c) => c.x === "200" && c.y === "0.5")!;
  assertEquals(empty.value, null);
  assertEquals(empty.text, "–");
  const partial = diff.cells.find((c) => c.x === "100" && c.y === "2")!;
  assert(partial.value !== null && partial.text.endsWith("*"));
  assertMatch(diff.subtitle!, /\* = fewer seeds/);
  const full = diff.cells.find((c) => c.x === "200" && c.y === "2")!;
  assert(!full.text.endsWith("*"));
  assertEquals(diff.yDomain, ["2", "0.5"], "largest width on top");
});

Deno.test("heatmapFigures: √Ĝ with its interval and noise floor for both checkpoint kinds, from three seeds", () => {
  const losses = ["cross_entropy", "mean_square_error"] as const;
  const specs = (seeds: number[]) =>
    grid([0.5, 2], [100], seeds, [...losses], 5).map((s) => {
      // MSE 3 points below CE at width 0.5 (best) and at the last epoch; equal at width 2.
      const gap = s.width === 0.5 && s.loss === "mean_square_error" ? -3 : 0;
      return record(s, (info) => {
        const wobble = [0.2, -0.1, 0.4][s.seed - 1] ?? 0;
        (info.best as Record<string, number>).test_top1 = 80 + gap + (s.loss === "cross_entropy" ? wobble : -wobble);
        (info.test_top1 as number[])[(info.test_top1 as number[]).length - 1] = 70 + gap;
      });
    });
  const byName = new Map(
    heatmapFigures(specs([1, 2, 3])).figures.map((f) => [f.name.replace(/^.*?-heatmap/, "heatmap"), f]),
  );
  const best = byName.get("heatmap-gap-best") as HeatmapFigure;
  const last = byName.get("heatmap-gap-last") as HeatmapFigure;
  assertMatch(best.title, /√Ĝ, test top-1 \(best-validation model\)/);
  assertMatch(last.title, /\(last epoch\)/);
  const at = (f: HeatmapFigure, y: string) => f.cells.find((c) => c.y === y)!;
  // Width 0.5, best: d = −3 − 2·wobble = −3.4, −2.8, −3.8: d̄ = −10/3, s² = 0.76/3, Ĝ = 100/9 − 0.76/9.
  assertEquals(at(best, "0.5").value!.toFixed(4), Math.sqrt(10 ** 2 / 9 - 0.76 / 3 / 3).toFixed(4));
  assertMatch(at(best, "0.5").text, /^3\.32\n\[\d+\.\d\d, \d+\.\d\d\]\nfloor \d+\.\d\d$/);
  // The last epoch has no seed noise: d = −3 exactly, Ĝ = 9.
  assertEquals(at(last, "0.5").value, 3);
  assertEquals(at(last, "2").value, 0);
  // Two seeds give no Ĝ figure.
  assert(!heatmapFigures(specs([1, 2])).figures.some((f) => f.name.includes("heatmap-gap")));
});
