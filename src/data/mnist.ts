/**
 * MNIST and Fashion-MNIST from their official IDX files (gzipped or not):
 * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`. Images become `[n, 28, 28, 1]` bytes; the official
 * 60 000 training images are split 54 000 / 6 000 by the split seed, the
 * 10 000 test images are the test split.
 */
import { UserError } from "../errors.ts";
import { joinPath } from "../io.ts";
import { describeFiles, firstExisting, gunzipIfNeeded, readFileOrUserError } from "./_files.ts";
import { parseIdxImages, parseIdxLabels } from "./idx.ts";
import { DEFAULT_SPLIT_SEED, splitTrainVal } from "./split.ts";
import type { Dataset, Split } from "./types.ts";

/** The two IDX datasets. */
export type IdxDatasetName = "mnist" | "fashion-mnist";

/**
 * Default roots: Debian's `dataset-fashion-mnist` package installs the four
 * `.gz` files in `/usr/share/datasets/fashion-mnist`; MNIST has no Debian
 * package, so it follows the CIFAR default `../data/` (torchvision's
 * `MNIST/raw/` sub-folder is also searched).
 */
export const IDX_DEFAULT_ROOTS: Readonly<Record<IdxDatasetName, string>> = {
  "fashion-mnist": "/usr/share/datasets/fashion-mnist",
  "mnist": "../data/",
};

/**
 * The usual normalisation constants — the mean and standard deviation of all
 * training pixels (/255) of the official 60 000 training images: MNIST's
 * (0.1307, 0.3081) as in the PyTorch examples; Fashion-MNIST's (0.2860, 0.3530).
 */
export const IDX_NORMALIZATION: Readonly<Record<IdxDatasetName, { mean: number[]; std: number[] }>> = {
  "mnist": { mean: [0.1307], std: [0.3081] },
  "fashion-mnist": { mean: [0.2860], std: [0.3530] },
};

const TORCHVISION_FOLDER: Record<IdxDatasetName, string> = {
  "mnist": "MNIST/raw",
  "fashion-mnist": "FashionMNIST/raw",
};
const FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

/**
 * Reads one IDX image file and its label file into a {@linkcode Split}
 * (`data` is `[n, rows, cols, 1]`), checking that the counts agree.
 *
 * @example
 * ```ts
 * const test = await readIdxPair("root/t10k-images-idx3-ubyte.gz", "root/t10k-labels-idx1-ubyte.gz", 10, "mnist");
 * ```
 */
export async function readIdxPair(
  imagesPath: string,
  labelsPath: string,
  numClasses: number,
  what: string,
): Promise<{ split: Split; rows: number; cols: number }> {
  const images = await readFileOrUserError(imagesPath, what);
  const labels = await readFileOrUserError(labelsPath, what);
  return readIdxPairFromBytes(images, imagesPath, labels, labelsPath, numClasses);
}

/**
 * Like {@linkcode readIdxPair} for bytes already in memory (gzipped or not);
 * the paths only name the files in error messages.
 */
export function readIdxPairFromBytes(
  imageBytes: Uint8Array,
  imagesPath: string,
  labelBytes: Uint8Array,
  labelsPath: string,
  numClasses: number,
): { split: Split; rows: number; cols: number } {
  const images = parseIdxImages(gunzipIfNeeded(imageBytes, imagesPath), imagesPath);
  const labels = parseIdxLabels(gunzipIfNeeded(labelBytes, labelsPath), labelsPath, numClasses);
  if (labels.length !== images.n) {
    throw new UserError(`${labelsPath}: ${labels.length} labels but ${imagesPath} has ${images.n} images`);
  }
  return { split: { data: images.data, labels, n: images.n }, rows: images.rows, cols: images.cols };
}

async function locate(name: IdxDatasetName, root: string): Promise<string[]> {
  const dirs = [root, joinPath(root, TORCHVISION_FOLDER[name])];
  const found: string[] = [];
  for (const base of FILES) {
    const candidates = dirs.flatMap((d) => [joinPath(d, base), joinPath(d, base + ".gz")]);
    const path = await firstExisting(candidates);
    if (path === null) {
      const hint = name === "fashion-mnist"
        ? "install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) or use --dataset fashion-mnist-subset"
        : "copy the four MNIST IDX files there (a torchvision MNIST/raw folder works too)";
      throw new UserError(
        `${name}: missing ${base}[.gz] under ${root} (expected ${FILES.join(", ")}, gzipped or not); ${hint}`,
      );
    }
    found.push(path);
  }
  return found;
}

/**
 * Loads MNIST or Fashion-MNIST from `root`: train (90% of the official
 * training set), val (10%, chosen by `splitSeed`), test (official), each
 * `[n, 28, 28, 1]` bytes.
 *
 * @example
 * ```ts
 * const ds = await loadIdxDataset("fashion-mnist", "/usr/share/datasets/fashion-mnist");
 * ds.train.n; // 54 000
 * ```
 */
export async function loadIdxDataset(
  name: IdxDatasetName,
  root: string = IDX_DEFAULT_ROOTS[name],
  splitSeed: number = DEFAULT_SPLIT_SEED,
): Promise<Dataset> {
  const [trainImages, trainLabels, testImages, testLabels] = await locate(name, root);
  const official = await readIdxPair(trainImages, trainLabels, 10, name);
  const test = await readIdxPair(testImages, testLabels, 10, name);
  if (test.rows !== official.rows || test.cols !== official.cols) {
    throw new UserError(
      `${testImages}: images are ${test.rows}×${test.cols} but ${trainImages} has ${official.rows}×${official.cols}`,
    );
  }
  const sampleSize = official.rows * official.cols;
  const { train, val } = splitTrainVal(official.split, sampleSize, splitSeed);
  return {
    name,
    numClasses: 10,
    sampleShape: [official.rows, official.cols, 1],
    normalization: IDX_NORMALIZATION[name],
    train,
    val,
    test: test.split,
    sources: await describeFiles([trainImages, trainLabels, testImages, testLabels]),
  };
}
