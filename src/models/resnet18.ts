/**
 * ResNet-18 for small images with the same `--width` scaling as the
 * WideResNet: stem 3×3 conv to 64 channels + BN + ReLU (no max-pool); four
 * stages of two basic blocks with base widths p = 64, 128, 256, 512 and strides
 * 1, 2, 2, 2. A basic block is 3×3 conv (carrying the stride) to the inner
 * width ⌊p·width⌋ → BN → ReLU → 3×3 conv back to p → BN, plus the shortcut
 * (1×1 conv + BN when the shape changes), then ReLU. Global average pool gives
 * the 512-d feature h; then the linear classifier. Width 1 is the usual
 * CIFAR ResNet-18.
 *
 * In training, the blocks on 32 × 32 maps are checkpointed by default
 * (`model.checkpointing`): the backward pass recomputes their activations
 * instead of keeping them. Traced training graphs keep them instead
 * (`model.recomputeInGraphs` false): only the eager first step, which sets
 * the peak memory, recomputes.
 */
import type { tf } from "../backend/tf.ts";
import type { Rng } from "../rng.ts";
import { type BatchNormParams, conv2d, ParamStore, relu } from "./_layers.ts";
import {
  type BlockBatchNorm,
  type ResidualBlock,
  residualBlock,
  residualNetwork,
  residualStem,
  RESNET18_CHECKPOINT_MIN_POSITIONS,
} from "./_residual.ts";
import type { Model } from "./types.ts";
import type { WideResNetOptions } from "./wide_resnet50.ts";

interface BasicBlock extends ResidualBlock {
  conv1: tf.Variable;
  bn1: BatchNormParams;
  conv2: tf.Variable;
  bn2: BatchNormParams;
}

/** Builds ResNet-18 (basic blocks) with width-scaled inner convolutions. */
export function createResNet18(opts: WideResNetOptions & { rng: Rng }): Model {
  const store = new ParamStore(opts.rng);
  const stem = residualStem(store, opts.inChannels);
  const blocks: BasicBlock[] = [];
  let inC = 64;
  [64, 128, 256, 512].forEach((base, s) => {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const inner = Math.max(1, Math.floor(base * opts.width));
      const name = `layer${s + 1}.${b}`;
      blocks.push(residualBlock(store, { name, inC, out: base, stride }, () => ({
        conv1: store.conv(`${name}.conv1`, 3, inC, inner),
        bn1: store.batchNorm(`${name}.bn1`, inner),
        conv2: store.conv(`${name}.conv2`, 3, inner, base),
        bn2: store.batchNorm(`${name}.bn2`, base),
      })));
      inC = base;
    }
  });
  const fc = store.linear("fc", inC, opts.numClasses, opts.bias);

  /** 3×3 (stride) → BN → ReLU → 3×3 → BN. */
  function basicBranch(h: tf.Tensor4D, blk: BasicBlock, bn: BlockBatchNorm): tf.Tensor4D {
    const y = relu(bn(conv2d(h, blk.conv1, blk.stride, 1), blk.bn1)) as tf.Tensor4D;
    return bn(conv2d(y, blk.conv2, 1, 1), blk.bn2);
  }

  return residualNetwork({
    name: "resnet18",
    store,
    stem,
    blocks,
    branch: basicBranch,
    fc,
    featureDim: inC,
    checkpointMinPositions: RESNET18_CHECKPOINT_MIN_POSITIONS,
    recomputeInGraphs: false,
  }, opts);
}
