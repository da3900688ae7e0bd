/**
 * What ResNet-18 and the WideResNet-50 share, top to bottom: the stem
 * (3×3 stride-1 convolution, batch norm, ReLU), a chain of residual blocks,
 * global average pooling to the feature h, and the linear classifier. The
 * networks differ only in their blocks. In training each block is one
 * gradient-checkpointed op by default (`model.checkpointing`).
 */
import { tf } from "../backend/tf.ts";
import { checkpointed } from "./_checkpointing.ts";
import { applyLinear, type BatchNormParams, conv2d, type LinearParams, type ParamStore, relu } from "./_layers.ts";
import type { ForwardOutput, Model } from "./types.ts";

/**
 * The WideResNet-50 checkpoints blocks whose input has at least this many
 * spatial positions: 8 × 8 and up, all but the last stage of a 32 × 32 network.
 * Run as a TensorFlow graph (training on the native backend) the recomputation
 * is nearly free there: a WideResNet-50 w = 0.25 step took 3.9–4.1 s at 2.6 GB
 * peak resident against 3.9–4.0 s at 3.9 GB with only the 16 × 16 and larger
 * maps checkpointed (256 positions), and w = 1 7.5–9.0 s at 3.2 GB against
 * 8.8–10 s at 4.9 GB (BENCHMARKS.md). Op by op it costs about 25% more time.
 */
export const CHECKPOINT_MIN_POSITIONS = 64;

/**
 * ResNet-18 checkpoints only its 32 × 32 stage: its maps are 4 to 16 times
 * smaller than the WideResNet's, and recomputing the smaller stages cost more
 * time than their memory was worth. w = 1, batch 100, native graphs with fused
 * batch norm: 2.3–2.7 s at 1.5 GB peak resident, against 2.9 s at 1.2 GB with
 * the 8 × 8 blocks and up recomputed and 2.0–2.3 s at 2.1 GB with none
 * (BENCHMARKS.md). Its graphs do not recompute (`recomputeInGraphs` false):
 * the eagerly traced first step sets the peak (1.66 GB either way), and the
 * graph steps run as fast as without checkpointing (1.12× PyTorch's images/s
 * against 0.89×, BENCHMARKS.md).
 */
export const RESNET18_CHECKPOINT_MIN_POSITIONS = 1024;

/** The projection on a block's shortcut: 1×1 convolution with the block's stride, then batch norm. */
export interface Shortcut {
  conv: tf.Variable;
  bn: BatchNormParams;
}

/** What every residual block has besides its own layers. */
export interface ResidualBlock {
  /** The block's downsampling stride, on its strided convolution and on the shortcut. */
  stride: number;
  /** The projection when the block changes the shape, `null` for the identity. */
  shortcut: Shortcut | null;
  /** The block's trainable variables (its gradient-checkpointing op's inputs). */
  params: tf.Variable[];
  /** The stage the block belongs to (`layer1` for `layer1.0`): what `layerFeatures` pools. */
  stage: string;
  /** Output channels. */
  channels: number;
}

/** Batch norm in the block's mode (training or evaluation). */
export type BlockBatchNorm = (t: tf.Tensor, p: BatchNormParams) => tf.Tensor4D;

/**
 * The stem's parameters, the first in the store: a 3×3 convolution from `inChannels` to 64 channels and its
 * batch norm.
 */
export function residualStem(store: ParamStore, inChannels: number): { conv: tf.Variable; bn: BatchNormParams } {
  return { conv: store.conv("stem.conv", 3, inChannels, 64), bn: store.batchNorm("stem.bn", 64) };
}

/**
 * A residual block named `name` (`layer1.0`, …) from `inC` to `out` channels: `layers` creates the block's own
 * layers, then the shortcut's projection is created when the stride or the channel count changes.
 */
export function residualBlock<L extends object>(
  store: ParamStore,
  shape: { name: string; inC: number; out: number; stride: number },
  layers: () => L,
): L & ResidualBlock {
  const { name, inC, out, stride } = shape;
  const first = store.trainable.length;
  const own = layers();
  const shortcut = stride !== 1 || inC !== out
    ? { conv: store.conv(`${name}.shortcut.conv`, 1, inC, out), bn: store.batchNorm(`${name}.shortcut.bn`, out) }
    : null;
  const params = store.trainable.slice(first).map((v) => v.variable);
  return { ...own, stride, shortcut, params, stage: name.split(".")[0], channels: out };
}

/** The parts of a residual network. */
export interface ResidualNetworkSpec<B extends ResidualBlock> {
  name: string;
  store: ParamStore;
  stem: { conv: tf.Variable; bn: BatchNormParams };
  blocks: B[];
  /** One block's residual branch; the shortcut is added, then ReLU, by the network. */
  branch: (h: tf.Tensor4D, blk: B, bn: BlockBatchNorm) => tf.Tensor4D;
  fc: LinearParams;
  featureDim: number;
  /** The initial `model.checkpointMinPositions`: blocks on maps of fewer positions are not checkpointed. */
  checkpointMinPositions: number;
  /** `model.recomputeInGraphs` (default true). */
  recomputeInGraphs?: boolean;
}

/**
 * Assembles a {@linkcode Model} from a stem, blocks and a classifier; `opts.checkpointing` is the initial
 * `model.checkpointing` (default true).
 */
export function residualNetwork<B extends ResidualBlock>(
  spec: ResidualNetworkSpec<B>,
  opts: { numClasses: number; checkpointing?: boolean },
): Model {
  const { store, stem, blocks, branch, fc } = spec;

  /** ReLU(branch(h) + shortcut(h)). */
  function block(h: tf.Tensor4D, blk: B, training: boolean): tf.Tensor4D {
    const bn: BlockBatchNorm = (t, p) => store.applyBatchNorm(t, p, training) as tf.Tensor4D;
    const y = branch(h, blk, bn);
    const identity = blk.shortcut ? bn(conv2d(h, blk.shortcut.conv, blk.stride, 0), blk.shortcut.bn) : h;
    return relu(tf.add(y, identity)) as tf.Tensor4D;
  }

  /** Stem and blocks on `x`, each stage's last output map passed to `onStage`; returns the last map. */
  function trunk(x: tf.Tensor, training: boolean, onStage?: (h: tf.Tensor4D) => void): tf.Tensor4D {
    let h = relu(store.applyBatchNorm(conv2d(x as tf.Tensor4D, stem.conv, 1, 1), stem.bn, training)) as tf.Tensor4D;
    blocks.forEach((blk, i) => {
      // Only blocks on large maps are recomputed: they hold most of the
      // activation memory, while the deeper, smaller maps are cheap to keep.
      const large = h.shape[1] * h.shape[2] >= (model.checkpointMinPositions ?? 0);
      h = training && model.checkpointing && large
        ? checkpointed((t) => block(t, blk, true), h, blk.params, (f) => store.recomputing(f))
        : block(h, blk, training);
      if (blocks[i + 1]?.stage !== blk.stage) onStage?.(h);
    });
    return h;
  }

  function forward(x: tf.Tensor, training: boolean): ForwardOutput {
    return tf.tidy(() => {
      const features = tf.mean(trunk(x, training), [1, 2]) as tf.Tensor2D;
      return { logits: applyLinear(features, fc), features };
    });
  }

  function layerFeatures(x: tf.Tensor): tf.Tensor2D[] {
    return tf.tidy(() => {
      const out: tf.Tensor2D[] = [];
      trunk(x, false, (h) => out.push(tf.mean(h, [1, 2]) as tf.Tensor2D));
      return out;
    });
  }

  const model: Model = {
    name: spec.name,
    numClasses: opts.numClasses,
    featureDim: spec.featureDim,
    store,
    checkpointing: opts.checkpointing ?? true,
    checkpointMinPositions: spec.checkpointMinPositions,
    recomputeInGraphs: spec.recomputeInGraphs ?? true,
    forward,
    layers: blocks.filter((blk, i) => blocks[i + 1]?.stage !== blk.stage).map((blk) => ({
      name: blk.stage,
      dim: blk.channels,
    })),
    layerFeatures,
    classifier: () => ({ weight: fc.weight, bias: fc.bias }),
  };
  return model;
}
