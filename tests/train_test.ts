import { assert, assertClose, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { tinyConfig, tinyData } from "./_train_fixture.ts";
import { tf } from "../src/backend/tf.ts";
import { UserError } from "../src/errors.ts";
import { countTrainableParameters, createModel } from "../src/models/mod.ts";
import { ParamStore } from "../src/models/_layers.ts";
import { Rng } from "../src/rng.ts";
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint } from "../src/run/checkpoint.ts";
import { effectiveSaveInterval } from "../src/run/train_config.ts";
import { clipByGlobalNorm, Optimizer } from "../src/train/optimizer.ts";
import { learningRate } from "../src/train/schedule.ts";
import { trainRun } from "../src/train/train.ts";

await tf.setBackend("cpu");

Deno.test("WideResNet-50 trainable parameter counts match the reference for K = 10", () => {
  const expected: [number, number][] = [[0.25, 5_880_074], [0.5, 10_345_674], [1, 23_520_842], [2, 66_847_050]];
  for (const [width, count] of expected) {
    const m = createModel({
      model: "wide_resnet50",
      numClasses: 10,
      sampleShape: [32, 32, 3],
      width,
      bias: true,
      seed: 1,
    });
    assertEquals(countTrainableParameters(m), count, `width ${width}`);
    assertEquals(m.featureDim, 2048);
    for (const v of [...m.store.trainable, ...m.store.buffers]) v.variable.dispose();
  }
});

Deno.test("forward passes return logits [B, K] and features [B, d]", () => {
  const cases = [
    { model: "wide_resnet50", shape: [8, 8, 3], d: 2048, width: 0.25 },
    { model: "resnet18", shape: [8, 8, 1], d: 512, width: 0.25 },
    { model: "mlp", shape: [12], d: 16, width: 1 },
  ];
  for (const c of cases) {
    const m = createModel({
      model: c.model,
      numClasses: 7,
      sampleShape: c.shape,
      width: c.width,
      bias: true,
      seed: 3,
      mlpHidden: 16,
      mlpDepth: 2,
    });
    const before = tf.memory().numTensors;
    const out = m.forward(tf.zeros([2, ...c.shape]), false);
    assertEquals(out.logits.shape, [2, 7], c.model);
    assertEquals(out.features.shape, [2, c.d], c.model);
    tf.dispose([out.logits, out.features]);
    assert(tf.memory().numTensors <= before + 1, `${c.model} leaks tensors`); // +1: the zeros input
  }
});

Deno.test("the same seed gives the same initial weights; another seed does not", () => {
  const make = (seed: number) =>
    createModel({
      model: "mlp",
      numClasses: 3,
      sampleShape: [5],
      width: 1,
      bias: true,
      seed,
      mlpHidden: 4,
      mlpDepth: 1,
    })
      .store.trainable[0].variable.dataSync();
  assertEquals(Array.from(make(1)), Array.from(make(1)));
  assert(Array.from(make(1)).join() !== Array.from(make(2)).join());
});

Deno.test("SGD with coupled weight decay and momentum matches PyTorch's update by hand", () => {
  for (const nesterov of [false, true]) {
    const p = tf.variable(tf.tensor1d([1]));
    const opt = new Optimizer([p], { opt: "sgd", momentum: 0.9, weightDecay: 5e-4, nesterov });
    opt.apply([tf.tensor1d([0.5])], 0.1);
    opt.apply([tf.tensor1d([0.5])], 0.1);
    // By hand: g1 = 0.5 + 5e-4·1 = 0.5005, buf1 = g1; p1 = 1 − 0.1·d1 (d = buf, or g + 0.9·buf for Nesterov).
    const g1 = 0.5005;
    const p1 = 1 - 0.1 * (nesterov ? g1 + 0.9 * g1 : g1);
    const g2 = 0.5 + 5e-4 * p1;
    const buf2 = 0.9 * g1 + g2;
    const p2 = p1 - 0.1 * (nesterov ? g2 + 0.9 * buf2 : buf2);
    assertClose(p.dataSync()[0], p2, { abs: 1e-6 }, `nesterov=${nesterov}`);
    opt.dispose();
    p.dispose();
  }
});

Deno.test("Adam's first step moves each parameter by lr against the gradient sign", () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const opt = new Optimizer([p], { opt: "adam", momentum: 0, weightDecay: 0, nesterov: false });
  opt.apply([tf.tensor1d([0.3, -4])], 0.01);
  const v = p.dataSync();
  assertClose(v[0], 0.99, { abs: 1e-6 });
  assertClose(v[1], -1.99, { abs: 1e-6 });
});

Deno.test("gradient clipping scales to global norm 2 and leaves small gradients alone", () => {
  const big = clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 2).map((t) => t.dataSync()[0]);
  assertClose(big[0], 1.2, { abs: 1e-5 });
  assertClose(big[1], 1.6, { abs: 1e-5 });
  const small = clipByGlobalNorm([tf.tensor1d([0.3]), tf.tensor1d([0.4])], 2).map((t) => t.dataSync()[0]);
  assertClose(small[0], 0.3, { abs: 1e-7 });
  assertClose(small[1], 0.4, { abs: 1e-7 });
});

Deno.test("step schedule divides by 10 at floor(3E/7) and floor(5E/7); cosine ends near 0", () => {
  assertEquals(learningRate("step", 0.1, 341, 800), 0.1);
  assertClose(learningRate("step", 0.1, 342, 800), 0.01, { abs: 1e-12 });
  assertClose(learningRate("step", 0.1, 570, 800), 0.01, { abs: 1e-12 });
  assertClose(learningRate("step", 0.1, 571, 800), 0.001, { abs: 1e-12 });
  assertEquals(learningRate("cos", 0.1, 0, 100), 0.1);
  assertClose(learningRate("cos", 0.1, 99, 100), 0.1 * (1 + Math.cos(Math.PI * 99 / 101)) / 2, { abs: 1e-12 });
  assertEquals(effectiveSaveInterval({ saveInterval: 0, epochs: 800 }), 8);
  assertEquals(effectiveSaveInterval({ saveInterval: 0, epochs: 50 }), 1);
});

Deno.test("checkpoints round-trip and reject corrupt files", async () => {
  const bytes = encodeCheckpoint(
    [{ name: "a", shape: [2, 2], values: new Float32Array([1, 2, 3, 4]) }, {
      name: "b",
      shape: [1],
      values: new Float32Array([5]),
    }],
    { epoch: 7 },
  );
  const back = decodeCheckpoint(bytes, "x.ckpt");
  assertEquals(back.meta, { epoch: 7 });
  assertEquals(Array.from(back.tensors.get("a")!.values), [1, 2, 3, 4]);
  assertEquals(back.tensors.get("b")!.shape, [1]);
  assertThrows(() => decodeCheckpoint(new Uint8Array(20), "bad.ckpt"), UserError, "bad.ckpt: not a valid checkpoint");
  assertThrows(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), "cut.ckpt"), UserError, "runs past the end");
  await assertRejects(() => readCheckpoint("/nonexistent/x.ckpt"), UserError, "not found");
});

const runConfig = (savePath: string, epochs: number) => tinyConfig(savePath, epochs, { lr: 0.05 });

Deno.test("a 2-epoch synthetic run lowers the training loss and leaks no tensors", async () => {
  const dir = await Deno.makeTempDir();
  const counts: number[] = [];
  const { records } = await trainRun(runConfig(dir, 3), tinyData(), {}, {
    onEpoch: () => counts.push(tf.memory().numTensors),
  });
  assertEquals(records.length, 3);
  assert(records[2].train_loss < records[0].train_loss, `loss did not fall: ${records.map((r) => r.train_loss)}`);
  assertEquals(counts[1], counts[0], "tensors leaked during an epoch");
  assertEquals(counts[2], counts[1], "tensors leaked during an epoch");
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(files, [
    ".lock",
    "best.ckpt",
    "config.json",
    "epoch-0001.ckpt",
    "epoch-0002.ckpt",
    "epoch-0003.ckpt",
    "last.ckpt",
    "log.jsonl",
  ]);
  await assertRejects(() => trainRun(runConfig(dir, 3), tinyData()), UserError, "already holds a run");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an interrupted then resumed run ends with the same weights as an uninterrupted one", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  await trainRun(runConfig(a, 3), tinyData());
  class Stop extends Error {}
  await assertRejects(
    () =>
      trainRun(runConfig(b, 3), tinyData(), {}, {
        onEpoch: (r) => {
          if (r.epoch === 2) throw new Stop("simulated crash after epoch 2");
        },
      }),
    Stop,
  );
  await trainRun({ ...runConfig(b, 3), load: true }, tinyData());
  const wa = await readCheckpoint(`${a}/last.ckpt`);
  const wb = await readCheckpoint(`${b}/last.ckpt`);
  assertEquals(wa.meta.epoch, 3);
  assertEquals(wb.meta.epoch, 3);
  for (const [name, t] of wa.tensors) {
    assertEquals(Array.from(wb.tensors.get(name)!.values), Array.from(t.values), `tensor ${name} differs`);
  }
  const logB = (await Deno.readTextFile(`${b}/log.jsonl`)).trim().split("\n").map((l) => JSON.parse(l).epoch);
  assertEquals(logB, [1, 2, 3]);
  await Deno.remove(a, { recursive: true });
  await Deno.remove(b, { recursive: true });
});

Deno.test("checkpoints are kept every save-interval epochs, after epoch 1 and after the last epoch", async () => {
  const dir = await Deno.makeTempDir();
  await trainRun({ ...runConfig(dir, 5), saveInterval: 3 }, tinyData());
  const ckpts = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("epoch-")).sort();
  assertEquals(ckpts, ["epoch-0001.ckpt", "epoch-0003.ckpt", "epoch-0005.ckpt"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fused training-mode batch norm: value and gradients equal tfjs's own ops", () => {
  const store = new ParamStore(new Rng(1));
  const bn = store.batchNorm("bn", 3);
  const x = tf.randomNormal([4, 2, 2, 3], 0, 1, "float32", 7);
  const w = tf.randomNormal([4, 2, 2, 3], 0, 1, "float32", 8);
  const gamma = tf.tensor1d([1.5, -0.7, 2]);
  const beta = tf.tensor1d([0.1, 0.2, -0.3]);
  const fused = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(store.applyBatchNorm(xx, { ...bn, gamma: g as tf.Variable, beta: b as tf.Variable }, true), w))
  )([x, gamma, beta]);
  store.discardBatchNormUpdates();
  const plain = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(xx, [0, 1, 2]);
    return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, b, g, 1e-5), w));
  })([x, gamma, beta]);
  for (let i = 0; i < 3; i++) {
    const err = tf.max(tf.abs(tf.sub(fused[i], plain[i]))).dataSync()[0];
    const scale = tf.max(tf.abs(plain[i])).dataSync()[0];
    assert(err <= 1e-5 * scale, `gradient ${i}: max error ${err} for scale ${scale}`);
  }
});

Deno.test("building a model or an optimiser allocates exactly their variables", () => {
  const before = tf.memory().numTensors;
  const m = createModel({
    model: "mlp",
    numClasses: 3,
    sampleShape: [5],
    width: 1,
    bias: true,
    seed: 1,
    mlpHidden: 4,
    mlpDepth: 2,
  });
  const vars = [...m.store.trainable, ...m.store.buffers];
  assertEquals(tf.memory().numTensors - before, vars.length);
  const opt = new Optimizer(m.store.trainable.map((v) => v.variable), {
    opt: "adam",
    momentum: 0,
    weightDecay: 0,
    nesterov: false,
  });
  assertEquals(tf.memory().numTensors - before, vars.length + 2 * m.store.trainable.length);
  opt.dispose();
  for (const v of vars) v.variable.dispose();
  assertEquals(tf.memory().numTensors, before);
});
