/**
 * The memory-saving parts of the models: gradient checkpointing of residual
 * blocks and the ReLU with a cheaper gradient. They must change nothing but
 * memory and time: same gradients, same running statistics, no leaked tensors.
 */
import { assert, assertClose, assertEquals } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { createModel, type Model } from "../src/models/mod.ts";
import { checkpointed } from "../src/models/_checkpointing.ts";
import { ParamStore, relu } from "../src/models/_layers.ts";
import { makeLoss } from "../src/losses/mod.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { Optimizer } from "../src/train/optimizer.ts";
import { trainStep } from "../src/train/train.ts";
import { Rng } from "../src/rng.ts";

await tf.setBackend("cpu");

const SHAPE = [4, 4, 3];
const B = 4;
const K = 5;

function makeResNet(name: string, checkpointing: boolean): Model {
  const m = createModel({ model: name, numClasses: K, sampleShape: SHAPE, width: 0.25, bias: true, seed: 11 });
  m.checkpointing = checkpointing;
  m.checkpointMinPositions = 0; // these maps are tiny: checkpoint every block
  return m;
}

function batch(): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(5);
  const x = new Float32Array(B * SHAPE[0] * SHAPE[1] * SHAPE[2]).map(() => rng.normal());
  return { x, y: new Int32Array(B).map((_, i) => i % K) };
}

function disposeModel(m: Model): void {
  for (const v of [...m.store.trainable, ...m.store.buffers]) v.variable.dispose();
}

/** Loss and ∂loss/∂θ for every trainable θ, the way `trainStep` asks for them. */
function lossAndGradients(m: Model): { loss: number; logits: Float32Array; grads: Float32Array[] } {
  const { x, y } = batch();
  const lossFn = makeLoss("cross_entropy", DEFAULT_CONFIG);
  const vars = m.store.trainable.map((v) => v.variable);
  let logits: Float32Array = new Float32Array();
  const out = tf.tidy(() => {
    const xs = tf.tensor(x, [B, ...SHAPE]);
    const ys = tf.tensor1d(y, "int32");
    const { value, grads } = tf.variableGrads(() => {
      const out = m.forward(xs, true);
      logits = out.logits.dataSync() as Float32Array;
      return lossFn(out.logits, ys);
    }, vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name]?.dataSync() as Float32Array) };
  });
  m.store.discardBatchNormUpdates();
  return { ...out, logits };
}

for (const name of ["wide_resnet50", "resnet18"]) {
  Deno.test(`${name}: checkpointing is on by default and changes no gradient`, () => {
    const m = makeResNet(name, true);
    assertEquals(
      createModel({ model: name, numClasses: K, sampleShape: SHAPE, width: 0.25, bias: true, seed: 11 })
        .checkpointing,
      true,
    );
    const before = tf.memory().numTensors;
    const on = lossAndGradients(m);
    assertEquals(tf.memory().numTensors, before, "checkpointed gradients leave tensors behind");
    m.checkpointing = false;
    const off = lossAndGradients(m);
    // The forward pass runs the same kernels either way.
    assertEquals(on.loss, off.loss);
    assertEquals(on.logits, off.logits);
    m.store.trainable.forEach((v, i) => {
      assert(on.grads[i] !== undefined && off.grads[i] !== undefined, `${v.name}: no gradient`);
      assertClose(on.grads[i], off.grads[i], { rel: 1e-5, scale: "max" }, v.name);
    });
    disposeModel(m);
  });

  Deno.test(`${name}: a train step queues each running-statistic update once and leaks no tensor`, () => {
    const { x, y } = batch();
    const after = (checkpointing: boolean) => {
      const m = makeResNet(name, checkpointing);
      const opt = new Optimizer(m.store.trainable.map((v) => v.variable), DEFAULT_CONFIG);
      const before = tf.memory().numTensors;
      trainStep(m, opt, makeLoss("cross_entropy", DEFAULT_CONFIG), x, y, SHAPE, 0.1, 2).dispose();
      assertEquals(tf.memory().numTensors, before, `tensors left by a step (checkpointing ${checkpointing})`);
      const buffers = m.store.buffers.map((v) => ({ name: v.name, values: v.variable.dataSync() as Float32Array }));
      const weights = m.store.trainable.map((v) => v.variable.dataSync() as Float32Array);
      opt.dispose();
      disposeModel(m);
      return { buffers, weights };
    };
    const on = after(true);
    const off = after(false);
    for (let i = 0; i < on.buffers.length; i++) {
      const { name: bufferName, values } = on.buffers[i];
      // Every buffer moved away from its initial value (0 for means, 1 for variances)...
      assert(values.some((v) => v !== (bufferName.endsWith("running_var") ? 1 : 0)), `${bufferName} not updated`);
      // ...by exactly as much as without checkpointing: a second update would move it further.
      assertEquals(values, off.buffers[i].values, bufferName);
    }
    on.weights.forEach((w, i) =>
      assertClose(w, off.weights[i], { rel: 1e-5, scale: "max" }, `weight ${i} after the step`)
    );
  });
}

Deno.test("checkpointed: gradients w.r.t. input and parameters equal tfjs's, from a nested tape", () => {
  const w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.25]]));
  const c = tf.variable(tf.tensor1d([0.3, -0.2]));
  const x = tf.tensor2d([[1, 2], [-3, 0.5], [0.1, -0.4]]);
  // [kernelDepth, gradientDepth] at each run of the second block.
  const depths: number[][] = [];
  const block = (t: tf.Tensor2D) => tf.tanh(tf.add(tf.matMul(t, w), c)) as tf.Tensor2D;
  const probe = (t: tf.Tensor2D) => {
    depths.push([tf.engine().state.kernelDepth, tf.engine().state.gradientDepth]);
    return block(t);
  };
  const f = (useCheckpoint: boolean) => (xx: tf.Tensor) => {
    const y = useCheckpoint ? checkpointed(block, xx as tf.Tensor2D, [w, c], (g) => g()) : block(xx as tf.Tensor2D);
    return tf.sum(tf.square(useCheckpoint ? checkpointed(probe, y, [w, c], (g) => g()) : block(y))) as tf.Scalar;
  };
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const ours = tf.variableGrads(() => f(true)(x), [w, c]).grads;
    // The forward pass runs inside the custom op's kernel (tape off); the
    // recomputation runs in the gradient function with no kernel in progress,
    // so the nested tape records.
    assertEquals(depths, [[1, 1], [0, 1]]);
    const theirs = tf.variableGrads(() => f(false)(x), [w, c]).grads;
    assertClose(ours[w.name].dataSync() as Float32Array, theirs[w.name].dataSync() as Float32Array, {
      rel: 1e-6,
      scale: "max",
    }, "dw");
    assertClose(ours[c.name].dataSync() as Float32Array, theirs[c.name].dataSync() as Float32Array, {
      rel: 1e-6,
      scale: "max",
    }, "dc");
    const dx = tf.grad(f(true))(x).dataSync() as Float32Array;
    assertClose(dx, tf.grad(f(false))(x).dataSync() as Float32Array, { rel: 1e-6, scale: "max" }, "dx");
  });
  assertEquals(tf.memory().numTensors, before);
  tf.dispose([w, c, x]);
});

Deno.test("ParamStore.recomputing queues no running-statistic update", () => {
  const store = new ParamStore(new Rng(1));
  const bn = store.batchNorm("bn", 2);
  const x = tf.randomNormal([6, 2], 0, 1, "float32", 3);
  const before = tf.memory().numTensors;
  store.recomputing(() => store.applyBatchNorm(x, bn, true).dispose());
  assertEquals(tf.memory().numTensors, before, "kept batch statistics");
  store.applyBatchNormUpdates();
  assertEquals(bn.runningMean.dataSync(), new Float32Array([0, 0]));
  assertEquals(bn.runningVar.dataSync(), new Float32Array([1, 1]));
  tf.dispose([x, bn.gamma, bn.beta, bn.runningMean, bn.runningVar]);
});

Deno.test("relu: value and gradient equal tfjs's, zeros and negatives included", () => {
  const x = tf.tensor1d([-2, -0.5, 0, 0, 1e-30, 0.7, 3, -1e-30]);
  const w = tf.tensor1d([1, -2, 3, -4, 5, -6, 7, 8]);
  const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(relu(t), w)))(x);
  const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), w)))(x);
  assertEquals(ours.dataSync(), theirs.dataSync());
  const y = relu(x);
  assertEquals(y.dataSync(), tf.relu(x).dataSync());
  // Random values, as the networks see them.
  const r = tf.randomNormal([3, 5, 5, 4], 0, 1, "float32", 9);
  const v = tf.randomNormal([3, 5, 5, 4], 0, 1, "float32", 10);
  const a = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(relu(t), v)))(r);
  const b = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), v)))(r);
  assertEquals(a.dataSync(), b.dataSync());
  tf.dispose([x, w, ours, theirs, y, r, v, a, b]);
});
