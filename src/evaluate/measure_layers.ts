/**
 * Neural collapse layer by layer: the metrics that need no classifier
 * (`LAYER_METRICS`: NC1, CDNV, …) of every hidden layer of a model
 * (`model.layers`: the MLP's hidden layers after their ReLU, a ResNet's stages
 * pooled) on the training split, as `deno task evaluate --layers` stores them.
 *
 * Both passes run the network again rather than keep features: one forward
 * pass per batch gives every layer's features, which go to that layer's
 * accumulator and are dropped, so memory is O(Σ_l K·d_l + batch·Σ_l d_l).
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { batches } from "../data/batches.ts";
import type { Dataset } from "../data/types.ts";
import { type LayerBatchSource, measureLayerBatches, type ProjectorFactory } from "../metrics/mod.ts";
import { LAYER_METRICS } from "../metrics/table.ts";
import type { Model } from "../models/mod.ts";
import { Rng } from "../rng.ts";
import type { LayerRow } from "../run/info.ts";
import { evaluationBatchSize } from "../forward/mod.ts";

/** Options of {@linkcode measureLayers}: those of the checkpoint's own measurement. */
export interface MeasureLayersOptions {
  /** Measure with training-time augmentation (the same crops and flips in both passes). */
  augment: boolean;
  batchSize: number;
  /** Seed of the augmentation's generator. */
  seed: number;
  projector?: ProjectorFactory;
}

/**
 * `LAYER_METRICS` of every layer of `model.layers` on `ds.train`, with the
 * model's current weights: per metric, `[L]` values. The last layer's are the
 * numbers the ordinary measurement gives for the penultimate features.
 *
 * @example
 * ```ts
 * const row = await measureLayers(model, ds, { augment: false, batchSize: 128, seed: 1 });
 * row.nc1; // [NC1 of hidden0, NC1 of hidden1, …]
 * ```
 */
export async function measureLayers(model: Model, ds: Dataset, opts: MeasureLayersOptions): Promise<LayerRow> {
  const batchSize = evaluationBatchSize(model, opts.batchSize);
  const size = ds.sampleShape.reduce((a, b) => a * b, 1);
  const source: LayerBatchSource = {
    count: ds.train.n,
    async *batches() {
      // A fresh generator with the same seed per pass: both passes see the same augmented samples.
      const rng = opts.augment ? new Rng(opts.seed) : undefined;
      for (const batch of batches(ds, ds.train, { batchSize, augment: opts.augment, rng })) {
        const n = batch.n;
        const x = batch.x.subarray(0, n * size);
        const outs = tf.tidy(() => model.layerFeatures(tf.tensor(x, [n, ...ds.sampleShape])));
        let features: Float32Array[];
        try {
          features = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
        } finally {
          tf.dispose(outs);
        }
        // batches() reuses its label buffer, and the next batch is read before this one is measured.
        yield { features, labels: batch.y.slice(0, n) };
      }
    },
  };
  const results = await measureLayerBatches(source, model.layers.map((l) => l.dim), ds.numClasses, {
    projector: opts.projector,
    layerNames: model.layers.map((l) => l.name),
  });
  return Object.fromEntries(LAYER_METRICS.map((k) => [k, results.map((m) => m[k])])) as LayerRow;
}
