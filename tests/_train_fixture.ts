/**
 * The tiny training run shared by the training tests: a small MLP on a 4-class synthetic problem on the cpu
 * backend, a few seconds an epoch.
 */
import { makeSyntheticDataset } from "../src/data/mod.ts";
import type { Dataset } from "../src/data/types.ts";
import type { Model } from "../src/models/mod.ts";
import { readCheckpoint, RUN_FILES } from "../src/run/mod.ts";
import { modelForConfig } from "../src/run/factories.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../src/run/train_config.ts";
import { restoreVariables } from "../src/forward/mod.ts";

/** The configuration of a tiny run saved under `savePath` for `epochs` epochs; `changes` replace any field. */
export function tinyConfig(savePath: string, epochs: number, changes: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    dataset: "synthetic",
    model: "mlp",
    mlpDepth: 2,
    mlpHidden: 32,
    epochs,
    savePath,
    backend: "cpu",
    syntheticPerClass: 30,
    ...changes,
  };
}

/** The tiny run's data: 4 classes in 8 dimensions, 30 training, 5 validation and 5 test samples a class. */
export function tinyData(): Dataset {
  return makeSyntheticDataset({ numClasses: 4, dim: 8, trainPerClass: 30, valPerClass: 5, testPerClass: 5 });
}

/** The network of the run `cfg` on `ds`, as training built it, with the weights of its checkpoint of `epoch`. */
export async function restoredModel(cfg: TrainConfig, ds: Dataset, epoch: number): Promise<Model> {
  const model = modelForConfig(cfg, ds);
  const name = RUN_FILES.epoch(epoch);
  restoreVariables(
    await readCheckpoint(`${cfg.savePath}/${name}`),
    [...model.store.trainable, ...model.store.buffers],
    name,
  );
  return model;
}
