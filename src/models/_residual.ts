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
 * Blocks whose input has at least this many spatial positions are
 * checkpointed (16 × 16 and up: the first two stages of a 32 × 32 network).
 */
export const CHECKPOINT_MIN_POSITIONS = 256;

/** A residual block: its trainable variables, for the checkpointed op's inputs. */
export interface ResidualBlock {
  params: tf.Variable[];
}

/** The parts of a residual network. */
export interface ResidualNetworkSpec<B extends ResidualBlock> {
  name: string;
  store: ParamStore;
  stem: { conv: tf.Variable; bn: BatchNormParams };
  blocks: B[];
  /** One block's forward pass. */
  block: (h: tf.Tensor4D, blk: B, training: boolean) => tf.Tensor4D;
  fc: LinearParams;
  numClasses: number;
  featureDim: number;
  checkpointing?: boolean;
}

/** Assembles a {@linkcode Model} from a stem, blocks and a classifier. */
export function residualNetwork<B extends ResidualBlock>(spec: ResidualNetworkSpec<B>): Model {
  const { store, stem, blocks, block, fc } = spec;

  function forward(x: tf.Tensor, training: boolean): ForwardOutput {
    return tf.tidy(() => {
      let h = relu(store.applyBatchNorm(conv2d(x as tf.Tensor4D, stem.conv, 1, 1), stem.bn, training)) as tf.Tensor4D;
      for (const blk of blocks) {
        // Only blocks on large maps are recomputed: they hold most of the
        // activation memory, while the deeper, smaller maps are cheap to keep.
        const large = h.shape[1] * h.shape[2] >= (model.checkpointMinPositions ?? 0);
        h = training && model.checkpointing && large
          ? checkpointed((t) => block(t, blk, true), h, blk.params, (f) => store.recomputing(f))
          : block(h, blk, training);
      }
      const features = tf.mean(h, [1, 2]) as tf.Tensor2D;
      return { logits: applyLinear(features, fc), features };
    });
  }

  const model: Model = {
    name: spec.name,
    numClasses: spec.numClasses,
    featureDim: spec.featureDim,
    store,
    checkpointing: spec.checkpointing ?? true,
    checkpointMinPositions: CHECKPOINT_MIN_POSITIONS,
    forward,
    classifier: () => ({ weight: fc.weight, bias: fc.bias }),
  };
  return model;
}
