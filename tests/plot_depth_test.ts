/** The NC1-against-depth figure: its specification from runs with a `layers` section, and `deno task plot` drawing it. */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { runTask } from "./_task.ts";
import { depthFigures, parseRunInfo, type RunRecord } from "../src/plot/mod.ts";
import { writeJsonAtomic } from "../src/io.ts";
import { syntheticInfo, type SyntheticRun, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";

const SPECS: SyntheticRun[] = [
  { loss: "cross_entropy", width: 2, epochs: 100, seed: 1, checkpoints: 4 },
  { loss: "mean_square_error", width: 2, epochs: 100, seed: 1, checkpoints: 4 },
];

/** A synthetic run's info.json with layer NC1 decaying with depth and epoch (epochs 25, 50, 75, 100; 4 stages). */
function infoWithLayers(spec: SyntheticRun): Record<string, unknown> {
  const info = syntheticInfo(spec);
  const epochs = info.epochs as number[];
  const scale = spec.loss === "cross_entropy" ? 1 : 2;
  const row = (t: number) => [1, 2, 3, 4].map((l) => scale * 10 / (l * (t + 1)));
  info.layers = {
    names: ["layer1", "layer2", "layer3", "layer4"],
    dims: [256, 512, 1024, 2048],
    nc1: epochs.map((_, t) => t === 1 ? null : row(t)), // epoch 50 not measured
  };
  return info;
}

const records = (): RunRecord[] =>
  SPECS.map((s) => ({ dir: `runs/${s.loss}`, info: parseRunInfo(JSON.stringify(infoWithLayers(s)), "x") }));

Deno.test("depthFigures: one line per loss and epoch (first and last by default), x the layers, y NC1 on a log scale", () => {
  const [fig] = depthFigures(records());
  assertEquals(fig.name, "cifar100-wide_resnet50-w2-e100-nc1-depth");
  assertEquals([fig.xTicks, fig.xTickLabels, fig.yScale], [
    [1, 2, 3, 4],
    ["layer1", "layer2", "layer3", "layer4"],
    "log",
  ]);
  assertEquals(fig.series.map((s) => s.label), [
    "CE, epoch 25",
    "CE, epoch 100",
    "MSE (scale 15), epoch 25",
    "MSE (scale 15), epoch 100",
  ]);
  assertEquals(fig.series[1].points.map((p) => p.y), [10 / 4, 10 / 8, 10 / 12, 10 / 16]);
  assertEquals(fig.series.map((s) => s.dash), ["2,3", undefined, "2,3", undefined]);
  assertEquals(fig.legend!.map((b) => b.entries.map((e) => e.label)), [["CE", "MSE (scale 15)"], ["25", "100"]]);
  // Chosen epochs; one no run measured (50) is left out.
  const [chosen] = depthFigures(records(), { epochs: [75, 50] });
  assertEquals(chosen.series.map((s) => s.label), ["CE, epoch 75", "MSE (scale 15), epoch 75"]);
  // Runs without layer data make no figure.
  const plain = SPECS.map((s) => ({ dir: "x", info: parseRunInfo(JSON.stringify(syntheticInfo(s)), "x") }));
  assertEquals(depthFigures(plain), []);
});

Deno.test("deno task plot draws NC1 against depth for runs with layer data", async () => {
  const root = await Deno.makeTempDir({ prefix: "plot_depth_" });
  try {
    const dirs = await writeSyntheticRuns(`${root}/runs`, SPECS);
    for (const [i, dir] of dirs.entries()) await writeJsonAtomic(`${dir}/info.json`, infoWithLayers(SPECS[i]));
    const out = await runTask("plot", ["--run", dirs.join(","), "--out", `${root}/fig`, "--layer-epochs", "25,75"]);
    assertEquals(out.code, 0, out.stderr);
    assertMatch(out.stdout, /2 runs → 9 figures/);
    const svg = await Deno.readTextFile(`${root}/fig/cifar100-wide_resnet50-w2-e100-nc1-depth.svg`);
    assert(svg.includes("<title>NC1 against depth</title>"), "title");
    for (const text of ["CE", "MSE (scale 15)", "layer1", "layer4", ">25<", ">75<"]) {
      assert(svg.includes(text), `the SVG lacks ${text}`);
    }
    assertEquals((svg.match(/class="legend-entry"/g) ?? []).length, 4); // 2 losses + 2 epochs

    // An epoch without layer data: one error line saying which epochs have it, and no figure written.
    const none = await runTask("plot", ["--run", dirs.join(","), "--out", `${root}/none`, "--layer-epochs", "5"]);
    assertEquals(none.code, 2, none.stderr);
    assertEquals(
      none.stderr.trim(),
      "error: --layer-epochs 5: no run has layer data there; the runs have layer data at epochs 25, 75, 100",
    );
    // Some of them without: drawn, and a warning naming the others.
    const some = await runTask("plot", ["--run", dirs.join(","), "--out", `${root}/some`, "--layer-epochs", "5,25"]);
    assertEquals(some.code, 0, some.stderr);
    assertEquals(
      some.stderr.trim(),
      "warning: --layer-epochs: cifar100-wide_resnet50-w2-e100 has no layer data at epoch 5, left out of its " +
        "figure (it has layer data at epochs 25, 75, 100)",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
