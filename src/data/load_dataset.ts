/**
 * The one entry point that turns a dataset name into a {@linkcode Dataset}.
 */
import { UserError } from "../errors.ts";
import { CIFAR_DEFAULT_ROOT, loadCifar } from "./cifar.ts";
import { downloadCifar, type DownloadOptions } from "./download.ts";
import { loadFashionMnistSubset } from "./fashion_mnist_subset.ts";
import { IDX_DEFAULT_ROOTS, loadIdxDataset } from "./mnist.ts";
import { firstPerClass } from "./split.ts";
import { makeSyntheticDataset, type SyntheticOptions } from "./synthetic.ts";
import type { Dataset } from "./types.ts";

/** Every name {@linkcode loadDataset} accepts. */
export const DATASET_NAMES = [
  "cifar10",
  "cifar100",
  "fashion-mnist",
  "mnist",
  "synthetic",
  "fashion-mnist-subset",
] as const;

/** One of {@linkcode DATASET_NAMES}. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Options of {@linkcode loadDataset}; every field is optional. */
export interface LoadDatasetOptions {
  /**
   * Dataset root (`--dataset-root`). Defaults: `../data/` for CIFAR and MNIST
   * (the reference's), `/usr/share/datasets/fashion-mnist` for Fashion-MNIST
   * (Debian's package), the repository's `data/fashion-mnist-subset/` for the subset.
   */
  root?: string;
  /**
   * The dataset's own seed, deliberately independent of the run seed: the
   * train/validation split shuffle for real datasets (default 1, the
   * reference's), the sampling seed for `synthetic` (unless `synthetic.seed`
   * is given). The shipped subset's split is fixed and ignores it.
   */
  seed?: number;
  /** `--train-subset N`: keep the first N training images of each class after the split shuffle. */
  trainSubsetPerClass?: number;
  /** Parameters of the `synthetic` dataset. */
  synthetic?: SyntheticOptions;
  /** Fetch CIFAR from its official location if it is missing (`--download`). */
  download?: boolean;
  /** Test hooks for the download (URL, MD5, fetch). */
  downloadOptions?: DownloadOptions;
}

/** Whether `name` is one of {@linkcode DATASET_NAMES}. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/**
 * Loads a dataset by name: three splits (train, val, test) of raw samples,
 * with normalisation metadata for images. Unknown names, missing or malformed
 * files are {@linkcode UserError}s.
 *
 * @example
 * ```ts
 * const ds = await loadDataset("fashion-mnist-subset", { trainSubsetPerClass: 100 });
 * ds.train.n; // 1 000, [1000, 28, 28, 1] bytes
 * ```
 */
export async function loadDataset(name: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  if (!isDatasetName(name)) {
    throw new UserError(`unknown dataset '${name}' (expected one of ${DATASET_NAMES.join(", ")})`);
  }
  const seed = options.seed ?? 1;
  let ds: Dataset;
  switch (name) {
    case "cifar10":
    case "cifar100": {
      const root = options.root ?? CIFAR_DEFAULT_ROOT;
      if (options.download) await downloadCifar(name, root, options.downloadOptions);
      ds = await loadCifar(name, root, seed);
      break;
    }
    case "fashion-mnist":
    case "mnist":
      ds = await loadIdxDataset(name, options.root ?? IDX_DEFAULT_ROOTS[name], seed);
      break;
    case "fashion-mnist-subset":
      ds = options.root === undefined ? await loadFashionMnistSubset() : await loadFashionMnistSubset(options.root);
      break;
    case "synthetic":
      ds = makeSyntheticDataset({ ...options.synthetic, seed: options.synthetic?.seed ?? seed });
      break;
  }
  if (options.trainSubsetPerClass !== undefined) {
    const sampleSize = ds.sampleShape.reduce((a, b) => a * b, 1);
    ds = { ...ds, train: firstPerClass(ds.train, ds.numClasses, options.trainSubsetPerClass, sampleSize, ds.name) };
  }
  return ds;
}

/** A small JSON-ready summary of a dataset, for `config.json`. */
export interface DatasetSummary {
  name: string;
  numClasses: number;
  sampleShape: number[];
  sizes: { train: number; val: number; test: number };
  normalization: { mean: number[]; std: number[] } | null;
  sources: string[];
}

/**
 * Summarises `ds` (name, K, sample shape, split sizes, normalisation, files).
 *
 * @example
 * ```ts
 * describeDataset(ds); // { name: "cifar10", numClasses: 10, sampleShape: [32, 32, 3], sizes: { train: 45000, ... }, ... }
 * ```
 */
export function describeDataset(ds: Dataset): DatasetSummary {
  return {
    name: ds.name,
    numClasses: ds.numClasses,
    sampleShape: [...ds.sampleShape],
    sizes: { train: ds.train.n, val: ds.val.n, test: ds.test.n },
    normalization: ds.normalization ? { mean: [...ds.normalization.mean], std: [...ds.normalization.std] } : null,
    sources: [...ds.sources],
  };
}
