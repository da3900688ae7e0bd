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
 * In training, each block is checkpointed by default (`model.checkpointing`):
 * the backward pass recomputes its activations instead of keeping them.
 */
import { tf } from "../backend/tf.ts";
import type { Rng } from "../rng.ts";
import { type BatchNormParams, conv2d, ParamStore, relu } from "./_layers.ts";
import { residualNetwork } from "./_residual.ts";
import type { Model } from "./types.ts";
import type { WideResNetOptions } from "./wide_resnet50.ts";

interface BasicBlock {
  stride: number;
  conv1: tf.Variable;
  bn1: BatchNormParams;
  conv2: tf.Variable;
  bn2: BatchNormParams;
  shortcut: { conv: tf.Variable; bn: BatchNormParams } | null;
  /** The block's trainable variables (its gradient-checkpointing op's inputs). */
  params: tf.Variable[];
}

/** Builds ResNet-18 (basic blocks) with width-scaled inner convolutions. */
export function createResNet18(opts: WideResNetOptions & { rng: Rng }): Model {
  const store = new ParamStore(opts.rng);
  const stemConv = store.conv("stem.conv", 3, opts.inChannels, 64);
  const stemBn = store.batchNorm("stem.bn", 64);
  const blocks: BasicBlock[] = [];
  let inC = 64;
  [64, 128, 256, 512].forEach((base, s) => {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const inner = Math.max(1, Math.floor(base * opts.width));
      const name = `layer${s + 1}.${b}`;
      const first = store.trainable.length;
      blocks.push({
        stride,
        conv1: store.conv(`${name}.conv1`, 3, inC, inner),
        bn1: store.batchNorm(`${name}.bn1`, inner),
        conv2: store.conv(`${name}.conv2`, 3, inner, base),
        bn2: store.batchNorm(`${name}.bn2`, base),
        shortcut: stride !== 1 || inC !== base
          ? {
            conv: store.conv(`${name}.shortcut.conv`, 1, inC, base),
            bn: store.batchNorm(`${name}.shortcut.bn`, base),
          }
          : null,
        params: [],
      });
      blocks[blocks.length - 1].params = store.trainable.slice(first).map((v) => v.variable);
      inC = base;
    }
  });
  const fc = store.linear("fc", inC, opts.numClasses, opts.bias);

  function basicBlock(h: tf.Tensor4D, blk: BasicBlock, training: boolean): tf.Tensor4D {
    const bn = (t: tf.Tensor, p: BatchNormParams) => store.applyBatchNorm(t, p, training) as tf.Tensor4D;
    let y = relu(bn(conv2d(h, blk.conv1, blk.stride, 1), blk.bn1)) as tf.Tensor4D;
    y = bn(conv2d(y, blk.conv2, 1, 1), blk.bn2);
    const identity = blk.shortcut ? bn(conv2d(h, blk.shortcut.conv, blk.stride, 0), blk.shortcut.bn) : h;
    return relu(tf.add(y, identity)) as tf.Tensor4D;
  }

  return residualNetwork({
    name: "resnet18",
    store,
    stem: { conv: stemConv, bn: stemBn },
    blocks,
    block: basicBlock,
    fc,
    numClasses: opts.numClasses,
    featureDim: inC,
    checkpointing: opts.checkpointing,
  });
}
