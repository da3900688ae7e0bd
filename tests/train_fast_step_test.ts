/**
 * The faster training step must compute what the plain one did: the update
 * with clipping folded in equals PyTorch's formulas and the old two-call update,
 * the MLP's hand-written backward pass equals the gradient tape's, a step
 * leaves no tensor behind, and the same seed gives the same losses; the
 * evaluation batch changes no score.
 */
import { assert, assertClose, assertEquals } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { createModel, type Model } from "../src/models/mod.ts";
import { LOSS_NAMES, makeLoss } from "../src/losses/mod.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { clipByGlobalNorm, Optimizer, type OptimizerConfig, REFERENCE_SGD } from "../src/train/optimizer.ts";
import { trainStep } from "../src/train/train.ts";
import { evaluateBatches, EVALUATION_BATCH_VECTORS, evaluationBatchSize } from "../src/forward/mod.ts";
import { batches, makeSyntheticDataset } from "../src/data/mod.ts";
import { Rng } from "../src/rng.ts";
import { ParamStore } from "../src/models/_layers.ts";

await tf.setBackend("cpu");

/** PyTorch's SGD/Adam step on one variable, clipped by `clipByGlobalNorm`: the reference for `apply`. */
function perVariableStep(
  ps: Float32Array[],
  gs: Float32Array[],
  shapes: number[][],
  state: Float32Array[][],
  cfg: OptimizerConfig,
  lr: number,
  clip: number,
  step: number,
): void {
  const clipped = tf.tidy(() =>
    clipByGlobalNorm(gs.map((g, i) => tf.tensor(g, shapes[i])), clip).map((t) => t.dataSync() as Float32Array)
  );
  const [b1, b2] = [0.9, 0.999];
  ps.forEach((p, i) => {
    for (let j = 0; j < p.length; j++) {
      const g = clipped[i][j] + cfg.weightDecay * p[j];
      if (cfg.opt === "sgd") {
        if (cfg.momentum === 0) { // no momentum buffer, as in PyTorch
          p[j] -= lr * g;
          continue;
        }
        const buf = cfg.momentum * state[i][0][j] + g;
        state[i][0][j] = buf;
        p[j] -= lr * (cfg.nesterov ? g + cfg.momentum * buf : buf);
      } else {
        const m = b1 * state[i][0][j] + (1 - b1) * g;
        const v = b2 * state[i][1][j] + (1 - b2) * g * g;
        state[i][0][j] = m;
        state[i][1][j] = v;
        p[j] -= (lr / (1 - b1 ** step)) * m / (Math.sqrt(v / (1 - b2 ** step)) + 1e-8);
      }
    }
  });
}

Deno.test("Optimizer.apply with clipNorm equals PyTorch's clip_grad_norm_ then SGD/Adam step (SGD, Nesterov, Adam)", () => {
  const rng = new Rng(3);
  const shapes = [[3, 4], [4], [2, 2, 2], [5], [30], [2, 3]];
  const configs: OptimizerConfig[] = [
    { opt: "sgd", momentum: 0.9, weightDecay: 5e-4, nesterov: false },
    { opt: "sgd", momentum: 0.9, weightDecay: 1e-2, nesterov: true },
    { opt: "sgd", momentum: 0, weightDecay: 0, nesterov: false },
    { opt: "adam", momentum: 0, weightDecay: 5e-4, nesterov: false },
  ];
  {
    const used = shapes;
    for (const cfg of configs) {
      for (const clip of [2, 0.01, 0]) {
        const before = tf.memory().numTensors;
        const init = used.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()));
        const vars = init.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(v, used[i]))));
        const opt = new Optimizer(vars, cfg);
        const ref = init.map((v) => Float32Array.from(v));
        const state = init.map((v) => [new Float32Array(v.length), new Float32Array(v.length)]);
        for (let step = 1; step <= 2; step++) {
          const gs = init.map((v) => Float32Array.from({ length: v.length }, () => rng.normal()));
          const grads = gs.map((g, i) => tf.tensor(g, used[i]));
          opt.apply(grads, 0.1, clip);
          tf.dispose(grads);
          perVariableStep(ref, gs, used, state, cfg, 0.1, clip > 0 ? clip : Infinity, step);
        }
        vars.forEach((v, i) => {
          assertEquals(v.shape, used[i]);
          assertClose(
            v.dataSync(),
            ref[i],
            { rel: 2e-6, floor: 1e-30, scale: "max" },
            `${cfg.opt} nesterov=${cfg.nesterov} clip=${clip} var ${i}`,
          );
          assertClose(
            opt.slots[i][0].dataSync(),
            state[i][0],
            { rel: 2e-6, floor: 1e-30, scale: "max" },
            `${cfg.opt} slot of var ${i}`,
          );
        });
        opt.dispose();
        tf.dispose(vars);
        assertEquals(tf.memory().numTensors, before, "tensors left behind");
      }
    }
  }
});

/** The update as trainStep made it before clipping moved into `apply`: `clipByGlobalNorm`, then SGD one variable at a time. */
function legacySgdStep(
  vars: tf.Variable[],
  slots: tf.Variable[],
  grads: tf.Tensor[],
  cfg: OptimizerConfig,
  lr: number,
) {
  tf.tidy(() => {
    const clipped = clipByGlobalNorm(grads, 2);
    vars.forEach((p, i) => {
      const g = tf.add(clipped[i], tf.mul(p, cfg.weightDecay));
      const buf = tf.add(tf.mul(slots[i], cfg.momentum), g);
      slots[i].assign(buf);
      p.assign(tf.sub(p, tf.mul(cfg.nesterov ? tf.add(g, tf.mul(buf, cfg.momentum)) : buf, lr)));
    });
  });
}

Deno.test("Optimizer.apply with clipNorm is bit-identical to clipByGlobalNorm followed by apply", () => {
  const rng = new Rng(8);
  const shapes = [[7, 5], [7], [7], [3, 7], [3]];
  const cfg = REFERENCE_SGD;
  const init = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()));
  const make = () => init.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(v, shapes[i]))));
  const folded = make();
  const legacy = make();
  const legacySlots = legacy.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v))));
  const opt = new Optimizer(folded, cfg);
  for (let step = 0; step < 3; step++) {
    const grads = init.map((v, i) =>
      tf.tensor(Float32Array.from({ length: v.length }, () => 3 * rng.normal()), shapes[i])
    );
    opt.apply(grads, 0.1, 2);
    legacySgdStep(legacy, legacySlots, grads, cfg, 0.1);
    tf.dispose(grads);
  }
  folded.forEach((v, i) => {
    assertEquals(v.dataSync(), legacy[i].dataSync(), `variable ${i}`);
    assertEquals(opt.slots[i][0].dataSync(), legacySlots[i].dataSync(), `momentum of variable ${i}`);
  });
  opt.dispose();
  tf.dispose([...folded, ...legacy, ...legacySlots]);
});

function mlp(seed = 4): Model {
  return createModel({
    model: "mlp",
    numClasses: 5,
    sampleShape: [6],
    width: 1,
    bias: true,
    seed,
    mlpDepth: 3,
    mlpHidden: 7,
  });
}

function disposeModel(m: Model): void {
  for (const v of [...m.store.trainable, ...m.store.buffers]) v.variable.dispose();
}

Deno.test("MLP: the hand-written backward pass gives the gradient tape's gradients and statistics bit for bit, every loss", () => {
  const rng = new Rng(9);
  const x = Float32Array.from({ length: 8 * 6 }, () => rng.normal());
  const y = Int32Array.from({ length: 8 }, (_, i) => i % 5);
  for (const name of LOSS_NAMES) {
    const lossFn = makeLoss(name, DEFAULT_CONFIG);
    const before = tf.memory().numTensors;
    // Two models from the same seed: one through the tape, one through its own backward pass.
    const [tape, explicit] = [false, true].map((useExplicit) => {
      const m = mlp();
      const vars = m.store.trainable.map((v) => v.variable);
      const out = tf.tidy(() => {
        const xs = tf.tensor2d(x, [8, 6]);
        const ys = tf.tensor1d(y, "int32");
        if (!useExplicit) {
          const { value, grads } = tf.variableGrads(() => lossFn(m.forward(xs, true).logits, ys), vars);
          return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
        }
        const pass = m.trainingPass!(xs);
        const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => lossFn(l as tf.Tensor2D, ys))(pass.logits);
        const grads = pass.backward(grad as tf.Tensor2D);
        assertEquals(Object.keys(grads).sort(), vars.map((v) => v.name).sort());
        return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
      });
      m.store.applyBatchNormUpdates();
      const running = m.store.buffers.map((b) => b.variable.dataSync() as Float32Array);
      const names = m.store.trainable.map((v) => v.name);
      disposeModel(m);
      return { ...out, running, names };
    });
    // The same ops in the same order: the same numbers, to the last bit.
    assertEquals(explicit.loss, tape.loss, `${name} loss`);
    tape.grads.forEach((g, i) => assertEquals(explicit.grads[i], g, `${name} gradient of ${tape.names[i]}`));
    tape.running.forEach((r, i) => assertEquals(explicit.running[i], r, `${name} running statistic ${i}`));
    assertEquals(tf.memory().numTensors, before, `${name}: tensors left behind`);
  }
});

Deno.test("MLP: the same seed gives the same step losses; a step leaves no tensor behind", async () => {
  const losses: number[][] = [];
  for (let run = 0; run < 2; run++) {
    const m = mlp(7);
    const opt = new Optimizer(m.store.trainable.map((v) => v.variable), REFERENCE_SGD);
    const rng = new Rng(1);
    const before = tf.memory().numTensors;
    const l: number[] = [];
    for (let s = 0; s < 5; s++) {
      const x = Float32Array.from({ length: 10 * 6 }, () => rng.normal());
      const y = Int32Array.from({ length: 10 }, () => rng.int(5));
      const stats = trainStep(m, opt, makeLoss("cross_entropy", DEFAULT_CONFIG), x, y, [6], 0.1, 2);
      l.push((await stats.data())[0]);
      stats.dispose();
    }
    assertEquals(tf.memory().numTensors, before, "tensors left behind by 5 steps");
    assert(l[4] < l[0], `the loss should fall: ${l}`);
    losses.push(l);
    opt.dispose();
    disposeModel(m);
  }
  assertEquals(losses[0], losses[1]);
});

Deno.test("running statistics: layers updated together equal the per-layer PyTorch update bit for bit", () => {
  const rng = new Rng(12);
  const store = new ParamStore(new Rng(1));
  // Two counts (200 and 50 values per channel), so two groups; one group has a single layer.
  const layers = [store.batchNorm("a", 3), store.batchNorm("b", 5), store.batchNorm("c", 4)];
  const counts = [200, 200, 50];
  const stats = layers.map((bn) => ({
    mean: Float32Array.from({ length: bn.gamma.size }, () => rng.normal()),
    variance: Float32Array.from({ length: bn.gamma.size }, () => 1 + rng.uniform()),
  }));
  const before = tf.memory().numTensors;
  layers.forEach((bn, i) =>
    store.queueBatchNormUpdate(bn, tf.tensor1d(stats[i].mean), tf.tensor1d(stats[i].variance), counts[i])
  );
  store.applyBatchNormUpdates();
  assertEquals(tf.memory().numTensors, before, "tensors left behind");
  layers.forEach((bn, i) => {
    // The same float32 operations, one layer at a time.
    const [m, v] = tf.tidy(() => {
      const one = (x: Float32Array, init: number, unbias: boolean) => {
        const batch = unbias ? tf.mul(tf.tensor1d(x), counts[i] / (counts[i] - 1)) : tf.tensor1d(x);
        return tf.add(tf.mul(tf.fill([x.length], init), 0.9), tf.mul(batch, 0.1)).dataSync();
      };
      return [one(stats[i].mean, 0, false), one(stats[i].variance, 1, true)];
    });
    assertEquals(bn.runningMean.dataSync(), m, `running mean of layer ${i}`);
    assertEquals(bn.runningVar.dataSync(), v, `running variance of layer ${i}`);
  });
  tf.dispose(layers.flatMap((bn) => [bn.gamma, bn.beta, bn.runningMean, bn.runningVar]));
});

Deno.test("evaluation: MLPs get a large batch, convolutional models the one asked for; the batch changes no score", async () => {
  assertEquals(evaluationBatchSize({ name: "mlp" }, 128), EVALUATION_BATCH_VECTORS);
  assertEquals(evaluationBatchSize({ name: "mlp" }, 10_000), 10_000);
  assertEquals(evaluationBatchSize({ name: "wide_resnet50" }, 128), 128);
  assertEquals(evaluationBatchSize({ name: "resnet18" }, 64), 64);
  const ds = makeSyntheticDataset({ numClasses: 5, dim: 6, trainPerClass: 40, valPerClass: 4 });
  const m = mlp(3);
  const lossFn = makeLoss("cross_entropy", DEFAULT_CONFIG);
  const [small, large] = await Promise.all(
    [7, 4096].map((b) => evaluateBatches(m, lossFn, batches(ds, ds.train, { batchSize: b }), ds.sampleShape)),
  );
  assertEquals(large.top1, small.top1);
  assertEquals(large.top5, small.top5);
  assertClose([large.loss], [small.loss], { rel: 1e-6, floor: 1e-30, scale: "max" }, "loss");
  disposeModel(m);
});
