/**
 * The networks: the reference's CIFAR WideResNet-50, ResNet-18 and an MLP.
 *
 * @example
 * ```ts
 * const model = createModel({ model: "mlp", numClasses: 10, sampleShape: [784], width: 1, bias: true, seed: 1 });
 * const { logits, features } = model.forward(tf.zeros([2, 784]), false);
 * ```
 */
import { UserError } from "../errors.ts";
import { Rng } from "../rng.ts";
import { createMlp } from "./mlp.ts";
import { createResNet18 } from "./resnet18.ts";
import type { Model } from "./types.ts";
import { createWideResNet50 } from "./wide_resnet50.ts";

export type { ForwardOutput, HiddenLayer, Model, TrainingPass } from "./types.ts";
export { allVariables, countTrainableParameters } from "./types.ts";
export { createWideResNet50 } from "./wide_resnet50.ts";
export { createResNet18 } from "./resnet18.ts";
export { createMlp } from "./mlp.ts";

/** Model names accepted by `--model`. */
export const MODEL_NAMES = ["wide_resnet50", "resnet18", "mlp"] as const;
/** One of {@linkcode MODEL_NAMES}. */
export type ModelName = typeof MODEL_NAMES[number];

/** Everything {@linkcode createModel} needs. */
export interface ModelConfig {
  model: string;
  numClasses: number;
  /** Shape of one sample: `[H, W, C]` or `[d]`. */
  sampleShape: number[];
  width: number;
  bias: boolean;
  /** Seed of the initial weights. */
  seed: number;
  /** MLP only. */
  mlpDepth?: number;
  /**
   * ResNets only: recompute each block's activations in the backward pass
   * instead of keeping them (much less memory, about 40% more time; default true).
   */
  checkpointing?: boolean;
  /** MLP only: hidden units at width 1 (the layer has ⌊mlpHidden·width⌉ units). */
  mlpHidden?: number;
}

/** Whether the model trains convolutions (rules out the WASM backend). */
export function isConvolutional(model: string): boolean {
  return model !== "mlp";
}

/** Builds a model with seeded initial weights. */
export function createModel(cfg: ModelConfig): Model {
  const rng = new Rng(cfg.seed);
  if (cfg.model === "mlp") {
    return createMlp({
      numClasses: cfg.numClasses,
      inputDim: cfg.sampleShape.reduce((a, b) => a * b, 1),
      depth: cfg.mlpDepth ?? 3,
      // --width scales the MLP like the ResNets' inner widths, so width grids work for it too.
      hidden: Math.max(1, Math.round((cfg.mlpHidden ?? 256) * cfg.width)),
      bias: cfg.bias,
      rng,
    });
  }
  if (cfg.model !== "wide_resnet50" && cfg.model !== "resnet18") {
    throw new UserError(`--model: unknown model '${cfg.model}'; choose one of ${MODEL_NAMES.join(", ")}`);
  }
  if (cfg.sampleShape.length !== 3) {
    throw new UserError(`--model ${cfg.model} needs image data; the dataset has samples of shape [${cfg.sampleShape}]`);
  }
  const opts = {
    numClasses: cfg.numClasses,
    inChannels: cfg.sampleShape[2],
    width: cfg.width,
    bias: cfg.bias,
    rng,
    checkpointing: cfg.checkpointing,
  };
  return cfg.model === "wide_resnet50" ? createWideResNet50(opts) : createResNet18(opts);
}
