/**
 * A multilayer perceptron for small runs: the input is flattened, then
 * `depth` hidden layers of `hidden` units, each linear → batch norm → ReLU;
 * the last hidden layer's output is the feature h; then the linear
 * classifier. The hidden layers have ⌊mlpHidden·width⌉ units (see
 * `createModel`). Batch norm is there because it lets a small MLP reach the
 * terminal phase of training (100% training accuracy) within tens of epochs.
 */
import { tf } from "../backend/tf.ts";
import type { Rng } from "../rng.ts";
import { applyLinear, type BatchNormParams, BN_EPSILON, type LinearParams, ParamStore, relu } from "./_layers.ts";
import type { ForwardOutput, Model, TrainingPass } from "./types.ts";

/** Options of {@linkcode createMlp}. */
export interface MlpOptions {
  numClasses: number;
  /** Number of input values per sample (H·W·C or d). */
  inputDim: number;
  depth: number;
  hidden: number;
  bias: boolean;
  rng: Rng;
}

/** One hidden layer's parameters: a linear map without bias, then batch norm (and ReLU). */
interface HiddenLayer {
  linear: LinearParams;
  bn: BatchNormParams;
}

/** Builds the MLP. */
export function createMlp(opts: MlpOptions): Model {
  const store = new ParamStore(opts.rng);
  const layers: HiddenLayer[] = [];
  let inDim = opts.inputDim;
  for (let i = 0; i < opts.depth; i++) {
    layers.push({
      // The BN shift makes a bias before it redundant, as in ResNets.
      linear: store.linear(`hidden${i}`, inDim, opts.hidden, false),
      bn: store.batchNorm(`hidden${i}.bn`, opts.hidden),
    });
    inDim = opts.hidden;
  }
  const fc = store.linear("fc", inDim, opts.numClasses, opts.bias);

  function forward(x: tf.Tensor, training: boolean): ForwardOutput {
    return tf.tidy(() => {
      const h = hiddenLayers(store, layers, x, training);
      return { logits: applyLinear(h, fc), features: h };
    });
  }

  function layerFeatures(x: tf.Tensor): tf.Tensor2D[] {
    return tf.tidy(() => {
      const out: tf.Tensor2D[] = [];
      hiddenLayers(store, layers, x, false, (h) => out.push(h));
      return out;
    });
  }

  return {
    name: "mlp",
    trainingPass: (x) => trainingPass(store, layers, fc, x),
    numClasses: opts.numClasses,
    featureDim: inDim,
    store,
    forward,
    layers: layers.map((_, i) => ({ name: `hidden${i}`, dim: opts.hidden })),
    layerFeatures,
    classifier: () => ({ weight: fc.weight, bias: fc.bias }),
  };
}

/** The hidden layers on `x`, each output passed to `onLayer`; returns the last one's, h. */
function hiddenLayers(
  store: ParamStore,
  layers: readonly HiddenLayer[],
  x: tf.Tensor,
  training: boolean,
  onLayer?: (h: tf.Tensor2D) => void,
): tf.Tensor2D {
  let h = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
  for (const layer of layers) {
    h = relu(store.applyBatchNorm(applyLinear(h, layer.linear), layer.bn, training)) as tf.Tensor2D;
    onLayer?.(h);
  }
  return h;
}

/**
 * The training step written out: forward in training mode keeping x̂, σ⁻¹ and
 * each layer's input and output, then the backward pass layer by layer. The
 * ops and their order are those the gradient tape runs for `forward(x, true)`
 * with the fused batch norm and ReLU of `_layers.ts`, so the gradients are the
 * same numbers; the tape's bookkeeping and its identity copies are gone, which
 * halves the ops of a step on a network this small.
 */
function trainingPass(
  store: ParamStore,
  layers: readonly HiddenLayer[],
  fc: LinearParams,
  x: tf.Tensor,
): TrainingPass {
  const n = x.shape[0];
  const saved: { input: tf.Tensor2D; xHat: tf.Tensor; invStd: tf.Tensor; out: tf.Tensor }[] = [];
  let h = tf.reshape(x, [n, -1]) as tf.Tensor2D;
  for (const layer of layers) {
    const z = tf.matMul(h, layer.linear.weight as tf.Tensor2D, false, true);
    const mean = tf.mean(z, 0);
    const variance = tf.mean(tf.square(tf.sub(z, mean)), 0);
    store.queueBatchNormUpdate(layer.bn, mean, variance, n);
    const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
    const xHat = tf.mul(tf.sub(z, mean), invStd);
    const out = tf.relu(tf.add(tf.mul(xHat, layer.bn.gamma), layer.bn.beta));
    saved.push({ input: h, xHat, invStd, out });
    h = out as tf.Tensor2D;
  }
  const logits = applyLinear(h, fc);
  const backward = (dLogits: tf.Tensor2D): tf.NamedTensorMap => {
    const grads: tf.NamedTensorMap = {};
    grads[fc.weight.name] = tf.matMul(dLogits, h, true, false);
    if (fc.bias) grads[fc.bias.name] = tf.sum(dLogits, 0);
    let dh: tf.Tensor = tf.matMul(dLogits, fc.weight as tf.Tensor2D);
    for (let i = layers.length - 1; i >= 0; i--) {
      const { linear, bn } = layers[i];
      const { input, xHat, invStd, out } = saved[i];
      // ReLU: dy·sign(y) (see `relu`); batch norm: the closed form of `applyBatchNorm`.
      const dy = tf.mul(dh, tf.sign(out));
      const dBeta = tf.sum(dy, 0);
      const dGamma = tf.sum(tf.mul(dy, xHat), 0);
      const centred = tf.sub(tf.sub(dy, tf.div(dBeta, n)), tf.mul(xHat, tf.div(dGamma, n)));
      const dz = tf.mul(centred, tf.mul(bn.gamma, invStd)) as tf.Tensor2D;
      grads[bn.gamma.name] = dGamma;
      grads[bn.beta.name] = dBeta;
      grads[linear.weight.name] = tf.matMul(dz, input, true, false);
      if (i > 0) dh = tf.matMul(dz, linear.weight as tf.Tensor2D);
    }
    return grads;
  };
  return { logits, backward };
}
