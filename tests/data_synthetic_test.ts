/** The synthetic Gaussian mixture and the `loadDataset` entry point. */
import { assert, assertClose, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { makeSyntheticDataset } from "../src/data/synthetic.ts";
import { DATASET_NAMES, describeDataset, loadDataset } from "../src/data/load_dataset.ts";
import * as data from "../src/data/mod.ts";

Deno.test("synthetic: shapes, balanced interleaved labels, determinism in the seed", () => {
  const options = { numClasses: 4, dim: 8, trainPerClass: 30, valPerClass: 5, testPerClass: 10, seed: 3 };
  const ds = makeSyntheticDataset(options);
  assertEquals(ds.sampleShape, [8]);
  assertEquals([ds.train.n, ds.val.n, ds.test.n], [120, 20, 40]);
  assert(ds.train.data instanceof Float32Array);
  assertEquals(ds.train.data.length, 120 * 8);
  assertEquals([...ds.train.labels.subarray(0, 6)], [0, 1, 2, 3, 0, 1]);
  assertEquals(ds.normalization, undefined);
  const same = makeSyntheticDataset(options);
  assertEquals(same.test.data, ds.test.data);
  const other = makeSyntheticDataset({ ...options, seed: 4 });
  assert(other.test.data.join() !== ds.test.data.join());
});

Deno.test("synthetic: class means have norm `separation`, noise has std `noise`", () => {
  const k = 3, d = 5, per = 4000;
  const ds = makeSyntheticDataset({ numClasses: k, dim: d, trainPerClass: per, separation: 6, noise: 0.5, seed: 9 });
  const x = ds.train.data as Float32Array;
  const means = new Float64Array(k * d);
  for (let i = 0; i < ds.train.n; i++) {
    for (let j = 0; j < d; j++) means[ds.train.labels[i] * d + j] += x[i * d + j] / per;
  }
  let sq = 0;
  for (let i = 0; i < ds.train.n; i++) {
    for (let j = 0; j < d; j++) sq += (x[i * d + j] - means[ds.train.labels[i] * d + j]) ** 2;
  }
  assertClose(Math.sqrt(sq / (ds.train.n * d)), 0.5, { abs: 0.02 }, "noise std");
  for (let c = 0; c < k; c++) {
    const norm = Math.hypot(...means.subarray(c * d, (c + 1) * d));
    assertClose(norm, 6, { abs: 0.05 }, `‖μ_${c}‖`);
  }
  assertThrows(() => makeSyntheticDataset({ numClasses: 1 }), UserError, "numClasses must be at least 2");
  assertThrows(() => makeSyntheticDataset({ dim: 2.5 }), UserError, "dim must be a positive integer");
});

Deno.test("loadDataset: names, seeds, options; unknown names are UserErrors", async () => {
  assertEquals(DATASET_NAMES.join(" "), "cifar10 cifar100 fashion-mnist mnist synthetic fashion-mnist-subset");
  await assertRejects(() => loadDataset("imagenet"), UserError, "unknown dataset 'imagenet' (expected one of cifar10,");
  const a = await loadDataset("synthetic", { seed: 2, synthetic: { numClasses: 3, dim: 4 } });
  const b = await loadDataset("synthetic", { synthetic: { numClasses: 3, dim: 4, seed: 2, separation: undefined } });
  assertEquals(a.train.data, b.train.data);
  const c = await loadDataset("synthetic", { synthetic: { numClasses: 3, dim: 4 }, trainSubsetPerClass: 7 });
  assertEquals(describeDataset(c).sizes, { train: 21, val: 60, test: 300 });
  assertEquals(describeDataset(c).normalization, null);
  assertEquals(JSON.parse(JSON.stringify(describeDataset(c))).sampleShape, [4]);
  // The public module exports the entry points.
  assertEquals(typeof data.loadDataset, "function");
  assertEquals(typeof data.batches, "function");
  assertEquals(typeof data.downloadCifar, "function");
});
