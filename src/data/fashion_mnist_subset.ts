/**
 * The Fashion-MNIST subset shipped in the repository
 * (`data/fashion-mnist-subset/`, built by `scripts/make_subset.ts`): 5 000
 * training and 1 000 validation images (500 and 100 per class, disjoint,
 * from the official training set) and the official 10 000 test images, as
 * gzipped IDX files. It needs no download and no dataset root; every file's
 * SHA-256 is checked on load against the values below, so a corrupted or
 * edited copy cannot silently change results.
 */
import { UserError } from "../errors.ts";
import { joinPath } from "../io.ts";
import { hexDigest, readFileOrUserError } from "./_files.ts";
import { SUBSET_FILE_NAMES } from "./build_subset.ts";
import { IDX_NORMALIZATION, readIdxPairFromBytes } from "./mnist.ts";
import type { Dataset } from "./types.ts";

/** SHA-256 of each shipped file, as printed by `scripts/make_subset.ts` (also in `SHA256SUMS`). */
export const SUBSET_SHA256: Readonly<Record<(typeof SUBSET_FILE_NAMES)[number], string>> = {
  "train-images-idx3-ubyte.gz": "1c9dd18dd70011d6bd14f89f8dda90e82c15f8ddab74e82f71c8db7115729c85",
  "train-labels-idx1-ubyte.gz": "de10bbd61a8808d81f0b62740ddeddd2603a4905286a0815aa11b9ffffa12b34",
  "val-images-idx3-ubyte.gz": "aabdd69f80516526b1e9e4b0fc2b88de6d1ae7c07a19e23bb4e7bdc381d3279c",
  "val-labels-idx1-ubyte.gz": "49a666713fa4deb15ff68978bc33689683f0b1c68fdb136e790740cb10cbb763",
  "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
  "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
};

/** The shipped folder, found relative to this module so no root is needed. */
export const SUBSET_ROOT: string = decodeURIComponent(
  new URL("../../data/fashion-mnist-subset/", import.meta.url).pathname,
);

/**
 * Loads the shipped subset, verifying each file's SHA-256 first (a mismatch
 * is a {@linkcode UserError} naming the file). `root` overrides the folder
 * (tests use a corrupted copy). Splits are `[n, 28, 28, 1]` bytes: train
 * 5 000, val 1 000, test 10 000; normalisation is Fashion-MNIST's.
 *
 * @example
 * ```ts
 * const ds = await loadFashionMnistSubset();
 * ds.train.n; // 5 000
 * ```
 */
export async function loadFashionMnistSubset(root: string = SUBSET_ROOT): Promise<Dataset> {
  const bytes: Record<string, Uint8Array> = {};
  for (const f of SUBSET_FILE_NAMES) {
    const path = joinPath(root, f);
    const b = await readFileOrUserError(path, "fashion-mnist-subset");
    const sha = hexDigest("sha256", b);
    if (sha !== SUBSET_SHA256[f]) {
      throw new UserError(
        `${path}: SHA-256 mismatch (got ${sha}, expected ${SUBSET_SHA256[f]}); the shipped subset is damaged — ` +
          "restore it from git or rebuild it with scripts/make_subset.ts",
      );
    }
    bytes[f] = b;
  }
  const pair = (images: string, labels: string) =>
    readIdxPairFromBytes(bytes[images], joinPath(root, images), bytes[labels], joinPath(root, labels), 10);
  const train = pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
  const val = pair("val-images-idx3-ubyte.gz", "val-labels-idx1-ubyte.gz");
  const test = pair("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
  return {
    name: "fashion-mnist-subset",
    numClasses: 10,
    sampleShape: [train.rows, train.cols, 1],
    normalization: IDX_NORMALIZATION["fashion-mnist"],
    train: train.split,
    val: val.split,
    test: test.split,
    sources: SUBSET_FILE_NAMES.map((f) => `${joinPath(root, f)} (sha256 ${SUBSET_SHA256[f]}, verified)`),
  };
}
