/**
 * The reference's CIFAR WideResNet-50, top to bottom in the order data flows:
 *
 * 1. stem: 3×3 stride-1 convolution to 64 channels, batch norm, ReLU (no max-pool:
 *    the inputs are 32×32);
 * 2. four stages of bottleneck blocks, [3, 4, 6, 3] blocks, base widths
 *    p = 64, 128, 256, 512, strides 1, 2, 2, 2. A block with base width p has
 *    inner width ⌊p·width⌋: 1×1 conv → BN → ReLU → 3×3 conv (carrying the
 *    stride) → BN → ReLU → 1×1 conv to 4p → BN; a projection shortcut (1×1 conv
 *    + BN) when the stride or the channel count changes; addition; ReLU;
 * 3. average pool over the final 4×4 map (global mean, which is the same for
 *    32×32 and 28×28 inputs), giving the 2048-d feature h;
 * 4. the linear classifier W (K×2048) with bias b.
 *
 * `width` only changes the bottlenecks' inner width; h stays 2048-d. Width 1
 * is torchvision's ResNet-50 and width 2 its `wide_resnet50_2`.
 *
 * In training, each block is checkpointed by default (`model.checkpointing`):
 * the backward pass recomputes its activations instead of keeping them.
 */
import type { tf } from "../backend/tf.ts";
import type { Rng } from "../rng.ts";
import { type BatchNormParams, conv2d, type LinearParams, ParamStore, relu } from "./_layers.ts";
import {
  type BlockBatchNorm,
  CHECKPOINT_MIN_POSITIONS,
  type ResidualBlock,
  residualBlock,
  residualNetwork,
  residualStem,
} from "./_residual.ts";
import type { Model } from "./types.ts";

interface Bottleneck extends ResidualBlock {
  conv1: tf.Variable;
  bn1: BatchNormParams;
  conv2: tf.Variable;
  bn2: BatchNormParams;
  conv3: tf.Variable;
  bn3: BatchNormParams;
}

const STAGES = [
  { blocks: 3, base: 64, stride: 1 },
  { blocks: 4, base: 128, stride: 2 },
  { blocks: 6, base: 256, stride: 2 },
  { blocks: 3, base: 512, stride: 2 },
];
const EXPANSION = 4;

/** Options of {@linkcode createWideResNet50}. */
export interface WideResNetOptions {
  numClasses: number;
  inChannels: number;
  width: number;
  bias: boolean;
  rng: Rng;
  /** Initial `model.checkpointing` (default true). */
  checkpointing?: boolean;
}

/** Builds the reference's WideResNet-50 for 32×32 (or 28×28) images. */
export function createWideResNet50(opts: WideResNetOptions): Model {
  const store = new ParamStore(opts.rng);
  const stem = residualStem(store, opts.inChannels);
  const blocks: Bottleneck[] = [];
  let inC = 64;
  STAGES.forEach((stage, s) => {
    for (let b = 0; b < stage.blocks; b++) {
      const stride = b === 0 ? stage.stride : 1;
      const inner = Math.floor(stage.base * opts.width);
      const out = stage.base * EXPANSION;
      const name = `layer${s + 1}.${b}`;
      blocks.push(residualBlock(store, { name, inC, out, stride }, () => ({
        conv1: store.conv(`${name}.conv1`, 1, inC, inner),
        bn1: store.batchNorm(`${name}.bn1`, inner),
        conv2: store.conv(`${name}.conv2`, 3, inner, inner),
        bn2: store.batchNorm(`${name}.bn2`, inner),
        conv3: store.conv(`${name}.conv3`, 1, inner, out),
        bn3: store.batchNorm(`${name}.bn3`, out),
      })));
      inC = out;
    }
  });
  const fc: LinearParams = store.linear("fc", inC, opts.numClasses, opts.bias);

  /** 1×1 → BN → ReLU → 3×3 (stride) → BN → ReLU → 1×1 → BN. */
  function bottleneck(h: tf.Tensor4D, blk: Bottleneck, bn: BlockBatchNorm): tf.Tensor4D {
    let y = relu(bn(conv2d(h, blk.conv1, 1, 0), blk.bn1)) as tf.Tensor4D;
    y = relu(bn(conv2d(y, blk.conv2, blk.stride, 1), blk.bn2)) as tf.Tensor4D;
    return bn(conv2d(y, blk.conv3, 1, 0), blk.bn3);
  }

  return residualNetwork({
    name: "wide_resnet50",
    store,
    stem,
    blocks,
    branch: bottleneck,
    fc,
    featureDim: inC,
    checkpointMinPositions: CHECKPOINT_MIN_POSITIONS,
  }, opts);
}
