import { assert, assertClose, assertEquals, assertRejects } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { UserError } from "../src/errors.ts";
import { evaluateRun, measureCheckpoint, measurementMemory } from "../src/evaluate/evaluate_run.ts";
import { CHECKPOINT_METRICS } from "../src/metrics/table.ts";
import { makeLoss } from "../src/losses/mod.ts";
import { allVariables, createModel } from "../src/models/mod.ts";
import { neuralCollapseMetrics } from "../src/metrics/mod.ts";
import { makeSyntheticDataset } from "../src/data/mod.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { trainRun } from "../src/train/train.ts";
import { restoredModel } from "./_train_fixture.ts";

await tf.setBackend("cpu");

const CFG = {
  ...DEFAULT_CONFIG,
  dataset: "synthetic",
  model: "mlp",
  mlpDepth: 1,
  mlpHidden: 16,
  epochs: 2,
  lr: 0.05,
  backend: "cpu" as const,
  syntheticDim: 6,
  syntheticClasses: 3,
  syntheticPerClass: 20,
};

Deno.test("evaluate writes one entry per checkpoint, matching a one-shot measurement, and skips done work", async () => {
  const dir = await Deno.makeTempDir();
  const ds = makeSyntheticDataset({ numClasses: 3, dim: 6, trainPerClass: 20 });
  await trainRun({ ...CFG, savePath: dir }, ds);
  const info = await evaluateRun(dir, { batchSize: 7 });
  assertEquals(info.epochs, [1, 2]);
  for (const k of CHECKPOINT_METRICS) assertEquals(info.metrics[k]!.length, 2, k);
  assertEquals(info.run.loss, "cross_entropy");
  assert(info.best && info.best.epoch >= 1);

  // The streamed measurement equals the one-shot library call on all training features at once.
  const model = await restoredModel({ ...CFG, savePath: dir }, ds, 2);
  const h = tf.tidy(() => model.forward(tf.tensor2d(ds.train.data as Float32Array, [ds.train.n, 6]), false).features);
  const { weight, bias } = model.classifier();
  const m = neuralCollapseMetrics(
    h.dataSync() as Float32Array,
    ds.train.labels,
    weight.dataSync() as Float32Array,
    bias!.dataSync() as Float32Array,
  );
  for (const k of ["nc1", "nc2", "nc3", "nc4_bias", "cdnv"] as const) {
    const got = info.metrics[k]![1]!;
    assertClose(got, m[k], { rel: 1e-5, floor: 1 }, `${k}: ${got} vs ${m[k]}`);
  }
  assertEquals(info.metrics.train_top1![1], m.top1);

  let skipped = -1;
  await evaluateRun(dir, { onStart: (_total, s) => skipped = s });
  assertEquals(skipped, 2);
  await evaluateRun(dir, { force: true, onStart: (_total, s) => skipped = s });
  assertEquals(skipped, 0);

  // Float32 projections on the backend: NC1 within 1e-5, not bit-equal (so that path did run), no tensor left.
  const tensors = tf.memory().numTensors;
  const f32 = await evaluateRun(dir, { force: true, projection: "float32" });
  assertEquals(tf.memory().numTensors, tensors);
  for (const e of [0, 1]) {
    const [a, b] = [f32.metrics.nc1![e]!, info.metrics.nc1![e]!];
    assert(a !== b && Math.abs(a - b) <= 1e-5 * Math.abs(b), `epoch ${e + 1} nc1: float32 ${a} vs float64 ${b}`);
    assertEquals(f32.metrics.nc2![e], info.metrics.nc2![e]);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate --force stopped by a corrupt checkpoint keeps the earlier results of the epochs it did not reach", async () => {
  const dir = await Deno.makeTempDir();
  const ds = makeSyntheticDataset({ numClasses: 3, dim: 6, trainPerClass: 20 });
  await trainRun({ ...CFG, epochs: 3, savePath: dir }, ds);
  const first = await evaluateRun(dir);
  assertEquals(first.epochs, [1, 2, 3]);
  await Deno.writeTextFile(`${dir}/epoch-0002.ckpt`, "not a checkpoint");
  await assertRejects(() => evaluateRun(dir, { force: true }), UserError, "epoch-0002.ckpt");
  const after = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
  assertEquals(after.epochs, [1, 2, 3]);
  for (const k of CHECKPOINT_METRICS) assertEquals(after[k], first.metrics[k], k);
  assertEquals(after.best, first.best);
  // Without --force a broken info.json is an error naming it; with --force it is replaced.
  await Deno.remove(`${dir}/epoch-0002.ckpt`);
  await Deno.writeTextFile(`${dir}/info.json`, "{");
  await assertRejects(() => evaluateRun(dir), UserError, "info.json: not valid JSON");
  assertEquals((await evaluateRun(dir, { force: true })).epochs, [1, 3]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate refuses folders that are not runs", async () => {
  const dir = await Deno.makeTempDir();
  await assertRejects(() => evaluateRun(dir), UserError, "config.json: not found");
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...CFG, savePath: dir }));
  await assertRejects(() => evaluateRun(dir), UserError, "no epoch-NNNN.ckpt");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("measureCheckpoint keeps features and normalised splits in the memory it is given, with the same results", async () => {
  const ds = makeSyntheticDataset({ numClasses: 3, dim: 6, trainPerClass: 20 });
  const make = (seed: number) =>
    createModel({
      model: "mlp",
      numClasses: 3,
      sampleShape: [6],
      width: 1,
      mlpHidden: 16,
      mlpDepth: 1,
      bias: true,
      seed,
    });
  const loss = makeLoss("cross_entropy");
  const opts = { augment: false, batchSize: 7, seed: 1 };
  const memory = measurementMemory();
  for (const seed of [1, 2]) {
    const model = make(seed);
    const alone = await measureCheckpoint(model, loss, ds, opts);
    const kept = await measureCheckpoint(model, loss, ds, { ...opts, memory });
    assertEquals(kept, alone, `model ${seed}`);
    for (const v of allVariables(model)) v.variable.dispose();
  }
  const features = memory.features!;
  assertEquals(features.length, 60 * make(3).featureDim, "one feature row per training sample");
  const splits = [...memory.splits.values()];
  assertEquals(splits.map((x) => x.length), [60 * 6, ds.val.n * 6, ds.test.n * 6], "train, val and test, normalised");
  // A second measurement with the same memory writes into the same features and reads the same splits.
  const model = make(3);
  await measureCheckpoint(model, loss, ds, { ...opts, memory });
  assert(memory.features === features, "the feature memory is reused");
  assert(features.some((v) => v !== 0), "and holds the features");
  assert([...memory.splits.values()].every((x, i) => x === splits[i]), "the splits are normalised once");
  for (const v of allVariables(model)) v.variable.dispose();
});
