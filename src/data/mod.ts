/**
 * Datasets: CIFAR-10/100 (official binary files), MNIST and Fashion-MNIST
 * (IDX files), the Fashion-MNIST subset shipped in `data/`, and a seeded
 * Gaussian mixture; each loaded into typed arrays once, split 90/10 into
 * train/val by a fixed split seed (1), and served as normalised mini-batches.
 *
 * @example
 * ```ts
 * import { batches, describeDataset, loadDataset } from "./src/data/mod.ts";
 * import { Rng } from "./src/rng.ts";
 *
 * const ds = await loadDataset("fashion-mnist-subset");
 * console.log(describeDataset(ds)); // { name, numClasses: 10, sampleShape: [28, 28, 1], sizes: {...}, ... }
 * const rng = new Rng(1);
 * for (const { x, y, n } of batches(ds, ds.train, { batchSize: 100, shuffle: true, augment: true, rng })) {
 *   // x: Float32Array [n, 28, 28, 1] normalised, y: Int32Array [n]; both reused by the next batch
 * }
 * ```
 *
 * @module
 */
export type { Dataset, Split } from "./types.ts";
export {
  DATASET_NAMES,
  type DatasetName,
  type DatasetSummary,
  describeDataset,
  isDatasetName,
  loadDataset,
  type LoadDatasetOptions,
} from "./load_dataset.ts";
export { type Batch, batches, type BatchOptions, numBatches } from "./batches.ts";
export {
  CIFAR_DEFAULT_ROOT,
  CIFAR_LAYOUTS,
  CIFAR_NORMALIZATION,
  type CifarName,
  loadCifar,
  parseCifarRecords,
} from "./cifar.ts";
export { downloadCifar, type DownloadOptions } from "./download.ts";
export { IDX_DEFAULT_ROOTS, IDX_NORMALIZATION, loadIdxDataset } from "./mnist.ts";
export { encodeIdxImages, encodeIdxLabels, parseIdxImages, parseIdxLabels } from "./idx.ts";
export { loadFashionMnistSubset, SUBSET_ROOT, SUBSET_SHA256 } from "./fashion_mnist_subset.ts";
export { buildFashionMnistSubset, SUBSET_SPEC } from "./build_subset.ts";
export { makeSyntheticDataset, SYNTHETIC_DEFAULTS, type SyntheticOptions } from "./synthetic.ts";
export { DEFAULT_SPLIT_SEED, firstPerClass, splitTrainVal, VALIDATION_FRACTION } from "./split.ts";
