/**
 * `deno task evaluate --layers`: NC1 and the other metrics that need no classifier at every hidden layer, into
 * `info.json`'s `layers` section. The last hidden layer is the penultimate feature the ordinary measurement uses,
 * so its numbers must be the ordinary ones; the first is checked against the one-shot library call.
 */
import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import { runTask } from "./_task.ts";
import { restoredModel, tinyConfig } from "./_train_fixture.ts";
import { tf } from "../src/backend/tf.ts";
import type { Dataset } from "../src/data/types.ts";
import { UserError } from "../src/errors.ts";
import { evaluateRun } from "../src/evaluate/evaluate_run.ts";
import { measureLayers } from "../src/evaluate/measure_layers.ts";
import { neuralCollapseMetrics } from "../src/metrics/mod.ts";
import { LAYER_METRICS } from "../src/metrics/table.ts";
import { createModel } from "../src/models/mod.ts";
import { parseRunInfo } from "../src/run/mod.ts";
import { datasetForConfig } from "../src/run/factories.ts";
import type { TrainConfig } from "../src/run/train_config.ts";
import { trainRun } from "../src/train/train.ts";

await tf.setBackend("cpu");

/** The tiny run's configuration with its data spelled out, so that evaluate rebuilds the same data. */
function layersConfig(dir: string): TrainConfig {
  return tinyConfig(dir, 2, { lr: 0.05, width: 1, syntheticDim: 8, syntheticClasses: 4, syntheticPerClass: 30 });
}

/** A tiny MLP run (2 hidden layers of 32 units, 4 classes in 8 dimensions) trained for 2 epochs in a new folder. */
async function tinyRun(): Promise<{ dir: string; ds: Dataset }> {
  const dir = await Deno.makeTempDir({ prefix: "layers_" });
  const cfg = layersConfig(dir);
  const ds = await datasetForConfig(cfg);
  await trainRun(cfg, ds);
  return { dir, ds };
}

Deno.test("evaluate --layers: the last hidden layer's metrics are the ordinary ones, the first the one-shot call's", async () => {
  const { dir, ds } = await tinyRun();
  const tensors = tf.memory().numTensors;
  const info = await evaluateRun(dir, { layers: true, batchSize: 7 });
  assertEquals(tf.memory().numTensors, tensors);
  const layers = info.layers!;
  assertEquals(layers.names, ["hidden0", "hidden1"]);
  assertEquals(layers.dims, [32, 32]);
  for (const t of [0, 1]) {
    // Same features, same batches, same float64 sums: the same number, to rounding at most.
    for (const k of ["nc1", "cdnv", "equinorm_means", "equiangularity", "max_angle"] as const) {
      const [got, want] = [layers.metrics[k]![t]![1]!, info.metrics[k]![t]!];
      assertClose(got, want, { rel: 1e-12, floor: 1 }, `epoch ${t + 1} ${k}`);
    }
  }
  // The first hidden layer by hand: its outputs for all training samples at once, measured in one call.
  const model = await restoredModel(layersConfig(dir), ds, 2);
  const outs = model.layerFeatures(tf.tensor2d(ds.train.data as Float32Array, [ds.train.n, 8]));
  const h0 = outs[0].dataSync() as Float32Array;
  const features = tf.tidy(() =>
    model.forward(tf.tensor2d(ds.train.data as Float32Array, [ds.train.n, 8]), false).features
  );
  assertEquals(outs[1].dataSync(), features.dataSync()); // the last layer is forward's feature, bit for bit
  tf.dispose([...outs, features]);
  const m = neuralCollapseMetrics(h0, ds.train.labels, new Float32Array(4 * 32), null);
  for (const k of ["nc1", "nc1_trace", "nc2_means", "cdnv"] as const) {
    const got = layers.metrics[k]![1]![0]!;
    assertClose(got, m[k], { rel: 1e-9, floor: 1 }, `hidden0 ${k}`);
  }
  for (const v of [...model.store.trainable, ...model.store.buffers]) v.variable.dispose();

  // Evaluating again without --layers keeps the layer rows of the reused checkpoints; with --layers it skips them.
  let skipped = -1;
  const again = await evaluateRun(dir, { onStart: (_t, s) => skipped = s });
  assertEquals(skipped, 2);
  assertEquals(again.layers, info.layers);
  await evaluateRun(dir, { layers: true, onStart: (_t, s) => skipped = s });
  assertEquals(skipped, 2);
  // --force without --layers drops them (nothing measured them), and info.json has no layers section.
  const plain = await evaluateRun(dir, { force: true });
  assertEquals(plain.layers, undefined);
  assert(!("layers" in JSON.parse(await Deno.readTextFile(`${dir}/info.json`))));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task evaluate --layers writes one finite NC1 per layer per checkpoint into info.json", async () => {
  const { dir } = await tinyRun();
  const r = await runTask("evaluate", ["--save-path", dir, "--layers", "--backend", "cpu"]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stderr.includes("NC1 by layer:"), r.stderr);
  const raw = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
  assertEquals(raw.epochs, [1, 2]);
  assertEquals(raw.layers.names, ["hidden0", "hidden1"]);
  for (const k of LAYER_METRICS) {
    assertEquals(raw.layers[k].length, 2, k);
    for (const row of raw.layers[k]) assertEquals(row.length, 2, k);
  }
  for (const row of raw.layers.nc1) assert(row.every((v: number) => Number.isFinite(v) && v > 0), `${row}`);
  // The ordinary series are all still there, and the file reads back.
  assertEquals(raw.nc1.length, 2);
  assertEquals(parseRunInfo(JSON.stringify(raw), "info.json").layers!.metrics.nc1, raw.layers.nc1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ResNet-18's layers are its four stages, pooled; the last is the feature, and each measures", async () => {
  const model = createModel({
    model: "resnet18",
    numClasses: 3,
    sampleShape: [8, 8, 1],
    width: 0.125,
    bias: true,
    seed: 2,
  });
  assertEquals(model.layers, [
    { name: "layer1", dim: 64 },
    { name: "layer2", dim: 128 },
    { name: "layer3", dim: 256 },
    { name: "layer4", dim: 512 },
  ]);
  // Tiny images: 3 classes of 6 samples, each class a brighter square in its own corner plus noise.
  const n = 18;
  const data = new Uint8Array(n * 64);
  const labels = new Int32Array(n);
  let seed = 7;
  const noise = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 60;
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) {
      const [row, col] = [Math.floor(p / 8), p % 8];
      const corner = labels[i] === 0 ? row < 4 && col < 4 : labels[i] === 1 ? row >= 4 && col < 4 : col >= 4;
      data[i * 64 + p] = (corner ? 180 : 40) + noise();
    }
  }
  const split = { data, labels, n };
  const empty = { data: new Uint8Array(0), labels: new Int32Array(0), n: 0 };
  const ds: Dataset = {
    name: "tiny-images",
    numClasses: 3,
    sampleShape: [8, 8, 1],
    normalization: { mean: [0.4], std: [0.25] },
    train: split,
    val: empty,
    test: empty,
    sources: [],
  };
  const tensors = tf.memory().numTensors;
  const x = tf.randomNormal([2, 8, 8, 1]);
  const outs = model.layerFeatures(x);
  assertEquals(outs.map((t) => t.shape), [[2, 64], [2, 128], [2, 256], [2, 512]]);
  const { logits, features } = model.forward(x, false);
  assertEquals(outs[3].dataSync(), features.dataSync());
  tf.dispose([x, ...outs, logits, features]);
  const row = await measureLayers(model, ds, { augment: false, batchSize: 5, seed: 1 });
  assertEquals(tf.memory().numTensors, tensors);
  assertEquals(row.nc1.length, 4);
  assert(row.nc1.every((v) => v !== null && Number.isFinite(v) && v > 0), `${row.nc1}`);
  for (const v of model.store.trainable) v.variable.dispose();
  for (const v of model.store.buffers) v.variable.dispose();
});

/** A valid info.json with a layers section (2 epochs, 2 layers), with `layers` changed by `edit`. */
function infoWithLayers(edit: (layers: Record<string, unknown>) => void): string {
  const layers: Record<string, unknown> = {
    names: ["hidden0", "hidden1"],
    dims: [32, 32],
    nc1: [[2, 1], null],
    cdnv: [[0.5, 0.25], null],
  };
  edit(layers);
  return JSON.stringify({
    format: 1,
    run: { model: "mlp", width: 1, loss: "cross_entropy", epochs: 2, seed: 1, dataset: "synthetic" },
    epochs: [1, 2],
    nc1: [0.5, 0.4],
    layers,
  });
}

Deno.test("info.json's layers section is read back, and a broken one is refused in one line naming the field", () => {
  const ok = parseRunInfo(infoWithLayers(() => {}), "info.json").layers!;
  assertEquals(ok.names, ["hidden0", "hidden1"]);
  assertEquals(ok.metrics.nc1, [[2, 1], null]);
  assertEquals(parseRunInfo(infoWithLayers(() => {}), "info.json").metrics.nc1, [0.5, 0.4]);
  const bad: [(l: Record<string, unknown>) => void, string][] = [
    [(l) => l.nc1 = [[2, 1]], "info.json: layers.nc1 must be an array of 2 entries, one per epoch"],
    [(l) => l.nc1 = [[2, 1, 3], null], "info.json: layers.nc1[0] must be null or 2 values, one per layer"],
    [(l) => l.cdnv = [["x", 1], null], 'info.json: layers.cdnv[0][0] is "x", expected a number or null'],
    [(l) => l.nc2 = [[1, 1], null], "info.json: layers.nc2 is not a layer metric"],
    [(l) => l.names = ["a", "a"], "info.json: layers.names must be a non-empty array of distinct non-empty strings"],
    [(l) => l.names = [], "layers.names must be a non-empty array"],
    [(l) => l.dims = [32], "info.json: layers.dims must be 2 positive integers, one per layer"],
    [(l) => l.dims = [32, 0.5], "layers.dims must be 2 positive integers"],
  ];
  for (const [edit, message] of bad) {
    assertThrows(() => parseRunInfo(infoWithLayers(edit), "info.json"), UserError, message);
  }
  const notObject = JSON.parse(infoWithLayers(() => {}));
  notObject.layers = [1];
  assertThrows(() => parseRunInfo(JSON.stringify(notObject), "info.json"), UserError, '"layers" must be an object');
});
