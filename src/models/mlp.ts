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
import { applyLinear, type BatchNormParams, type LinearParams, ParamStore, relu } from "./_layers.ts";
import type { ForwardOutput, Model } from "./types.ts";

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

/** Builds the MLP. */
export function createMlp(opts: MlpOptions): Model {
  const store = new ParamStore(opts.rng);
  const layers: { linear: LinearParams; bn: BatchNormParams }[] = [];
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
      let h = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      for (const layer of layers) {
        h = relu(store.applyBatchNorm(applyLinear(h, layer.linear), layer.bn, training)) as tf.Tensor2D;
      }
      return { logits: applyLinear(h, fc), features: h };
    });
  }

  return {
    name: "mlp",
    numClasses: opts.numClasses,
    featureDim: inDim,
    store,
    forward,
    classifier: () => ({ weight: fc.weight, bias: fc.bias }),
  };
}
