/** What every network of the package provides. */
import type * as tf from "@tensorflow/tfjs-core";
import type { NamedVariable, ParamStore } from "./_layers.ts";

/** The outputs of a forward pass. */
export interface ForwardOutput {
  /** Classifier outputs W h + b, `[B, K]`. */
  logits: tf.Tensor2D;
  /** Penultimate features h, `[B, d]` (d = 2048 for WideResNet-50). */
  features: tf.Tensor2D;
}

/** What {@linkcode Model.trainingPass} returns. */
export interface TrainingPass {
  /** Classifier outputs `[B, K]` of the training-mode forward pass. */
  logits: tf.Tensor2D;
  /**
   * Gradients of the loss with respect to every trainable variable, keyed by
   * `variable.name` (as `tf.variableGrads` returns them), given
   * `dLogits` = ∂L/∂logits `[B, K]`.
   */
  backward(dLogits: tf.Tensor2D): tf.NamedTensorMap;
}

/** One hidden layer whose output {@linkcode Model.layerFeatures} returns. */
export interface HiddenLayer {
  /** The layer's name, as its variables are named: `hidden0` (MLP), `layer1` (a ResNet's first stage). */
  name: string;
  /** Dimension d_l of its (pooled) output. */
  dim: number;
}

/** A network: its variables and its forward pass. */
export interface Model {
  /** Model name as given to `--model`. */
  readonly name: string;
  readonly numClasses: number;
  /** Dimension d of the penultimate features. */
  readonly featureDim: number;
  /** The variables, trainable and running statistics. */
  readonly store: ParamStore;
  /**
   * Runs the network on `x` (`[B, H, W, C]`, or `[B, d]` for vector data).
   * In training mode batch norm uses batch statistics and queues
   * running-statistic updates (see `ParamStore.applyBatchNormUpdates`).
   */
  forward(x: tf.Tensor, training: boolean): ForwardOutput;
  /**
   * The hidden layers {@linkcode Model.layerFeatures} measures, input to output: each hidden layer of the MLP
   * (after its ReLU), each residual stage of a ResNet (its last block's output, globally average-pooled).
   */
  readonly layers: readonly HiddenLayer[];
  /**
   * Evaluation-mode outputs of every layer of {@linkcode Model.layers} for `x`, each `[B, d_l]`; the last is the
   * penultimate feature h of `forward(x, false)`, the same numbers.
   */
  layerFeatures(x: tf.Tensor): tf.Tensor2D[];
  /**
   * ResNets only: whether a training forward pass checkpoints each residual
   * block, so that the backward pass recomputes the block's activations
   * instead of keeping them all (far less memory for about one more forward
   * pass of compute; the gradients are the same). Assignable; evaluation
   * ignores it.
   */
  checkpointing?: boolean;
  /**
   * With `checkpointing`, only blocks whose input map has at least this many
   * spatial positions are recomputed (default 64, i.e. 8 × 8 and larger:
   * they hold most of the activations, while keeping the smallest deep maps
   * saves time). 0 checkpoints every block.
   */
  checkpointMinPositions?: number;
  /**
   * ResNets only: whether traced training graphs (native backend) recompute
   * the checkpointed blocks as the eager step does (true, the default: the
   * graph step needs as little memory), or build their recomputed ops as the
   * forward pass's own (false: the graph keeps those activations and skips the
   * recomputation; the first step, which runs eagerly while it is traced,
   * still checkpoints). The same numbers either way.
   */
  recomputeInGraphs?: boolean;
  /**
   * Optional, for networks whose backward pass is written out (the MLP): a
   * training-mode forward pass of `x` that keeps only what its backward pass
   * needs, queueing running-statistic updates as `forward(x, true)` does.
   * Call it and the returned `backward` inside one `tf.tidy`. The gradients
   * equal the gradient tape's of `forward(x, true)`; without a tape and its
   * bookkeeping the step needs far fewer ops.
   */
  trainingPass?(x: tf.Tensor): TrainingPass;
  /** The last layer: W `[K, d]` and b `[K]` (null without `--bias`). */
  classifier(): { weight: tf.Variable; bias: tf.Variable | null };
}

/** Every variable of a model, trainable first, in a fixed order. */
export function allVariables(model: Model): NamedVariable[] {
  return [...model.store.trainable, ...model.store.buffers];
}

/** Number of trainable scalars (batch-norm γ, β counted; running statistics not). */
export function countTrainableParameters(model: Model): number {
  return model.store.trainable.reduce((s, v) => s + v.variable.size, 0);
}
