/**
 * What a run's configuration builds: its dataset and its network. Training,
 * evaluation and resuming all go through these two functions, so a run folder
 * always means the same data and the same model.
 *
 * @module
 */
import type { Dataset } from "../data/types.ts";
import { loadDataset } from "../data/load_dataset.ts";
import { createModel, type Model } from "../models/mod.ts";
import type { TrainConfig } from "./train_config.ts";

/**
 * Loads the dataset a configuration trains on (the same split and subset on
 * every call). `rootOverride` replaces the stored root (data that moved).
 */
export async function datasetForConfig(cfg: TrainConfig, rootOverride?: string): Promise<Dataset> {
  return await loadDataset(cfg.dataset, {
    root: rootOverride ?? (cfg.datasetRoot || undefined),
    download: cfg.download,
    trainSubsetPerClass: cfg.trainSubset || undefined,
    synthetic: {
      dim: cfg.syntheticDim,
      numClasses: cfg.syntheticClasses,
      trainPerClass: cfg.syntheticPerClass,
      separation: cfg.syntheticSeparation,
    },
  });
}

/** Builds the network a configuration describes, with its seeded initial weights. */
export function modelForConfig(cfg: TrainConfig, ds: Pick<Dataset, "numClasses" | "sampleShape">): Model {
  return createModel({
    model: cfg.model,
    numClasses: ds.numClasses,
    sampleShape: ds.sampleShape,
    width: cfg.width,
    bias: cfg.bias,
    seed: cfg.seed,
    mlpDepth: cfg.mlpDepth,
    mlpHidden: cfg.mlpHidden,
    checkpointing: cfg.checkpointing,
  });
}
