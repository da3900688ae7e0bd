/**
 * Builds the shipped Fashion-MNIST subset (`data/fashion-mnist-subset/`) from
 * the official IDX files, e.g. those of Debian's `dataset-fashion-mnist`
 * package. Deterministic: the same source files and seed give the same bytes
 * (gzip via `node:zlib` with level 9 and no timestamp), hence the same SHA-256.
 *
 * Selection: walk a permutation of the 60 000 official training images from
 * `new Rng(seed)`; an image goes to the subset's training split while its
 * class has fewer than 500 there, else to validation while its class has
 * fewer than 100 there (so the two are disjoint). The official 10 000 test
 * images are kept whole, their `.gz` files copied byte for byte.
 */
import { gzipSync } from "node:zlib";
import { UserError } from "../errors.ts";
import { joinPath, writeFileAtomic, writeJsonAtomic } from "../io.ts";
import { Rng } from "../rng.ts";
import { firstExisting, gunzipIfNeeded, hexDigest } from "./_files.ts";
import { encodeIdxImages, encodeIdxLabels } from "./idx.ts";
import { readIdxPair } from "./mnist.ts";
import { takeSamples } from "./split.ts";

/** How the shipped subset is chosen. */
export const SUBSET_SPEC = {
  seed: 1,
  trainPerClass: 500,
  valPerClass: 100,
} as const;

/** File names in the subset folder, in the order of `SHA256SUMS`. */
export const SUBSET_FILE_NAMES = [
  "train-images-idx3-ubyte.gz",
  "train-labels-idx1-ubyte.gz",
  "val-images-idx3-ubyte.gz",
  "val-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz",
  "t10k-labels-idx1-ubyte.gz",
] as const;

const MIT_LICENSE = `The MIT License (MIT) Copyright © [2017] Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the “Software”), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED “AS IS”, WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`;

/**
 * Picks the subset's training and validation indices into the official
 * training set (see the module doc). `labels` is `[60 000]`.
 *
 * @example
 * ```ts
 * const { train, val } = selectSubset(labels, 10); // 5 000 and 1 000 indices
 * ```
 */
export function selectSubset(
  labels: Int32Array,
  numClasses: number,
  seed: number = SUBSET_SPEC.seed,
  trainPerClass: number = SUBSET_SPEC.trainPerClass,
  valPerClass: number = SUBSET_SPEC.valPerClass,
): { train: Int32Array; val: Int32Array } {
  const perm = new Rng(seed).permutation(labels.length);
  const nTrain = new Int32Array(numClasses);
  const nVal = new Int32Array(numClasses);
  const train: number[] = [];
  const val: number[] = [];
  for (const i of perm) {
    const y = labels[i];
    if (nTrain[y] < trainPerClass) {
      nTrain[y]++;
      train.push(i);
    } else if (nVal[y] < valPerClass) {
      nVal[y]++;
      val.push(i);
    }
  }
  for (let k = 0; k < numClasses; k++) {
    if (nTrain[k] < trainPerClass || nVal[k] < valPerClass) {
      throw new UserError(`class ${k} has too few training images for ${trainPerClass} + ${valPerClass} per class`);
    }
  }
  return { train: Int32Array.from(train), val: Int32Array.from(val) };
}

/** What {@linkcode buildFashionMnistSubset} wrote: file name → SHA-256 of its bytes. */
export type SubsetChecksums = Record<string, string>;

/**
 * Writes the subset's six `.gz` IDX files, `SHA256SUMS`, `manifest.json`
 * (provenance, selection rule, licence) and `LICENSE` into `outDir`.
 *
 * @example
 * ```ts
 * await buildFashionMnistSubset("/usr/share/datasets/fashion-mnist", "data/fashion-mnist-subset");
 * ```
 */
export async function buildFashionMnistSubset(
  sourceRoot: string,
  outDir: string,
  provenance: { sourcePackage?: string } = {},
): Promise<SubsetChecksums> {
  const source = async (base: string): Promise<string> => {
    const p = await firstExisting([joinPath(sourceRoot, base + ".gz"), joinPath(sourceRoot, base)]);
    if (p === null) throw new UserError(`make_subset: missing ${base}[.gz] under ${sourceRoot}`);
    return p;
  };
  const trainImagesPath = await source("train-images-idx3-ubyte");
  const trainLabelsPath = await source("train-labels-idx1-ubyte");
  const testImagesPath = await source("t10k-images-idx3-ubyte");
  const testLabelsPath = await source("t10k-labels-idx1-ubyte");
  const official = await readIdxPair(trainImagesPath, trainLabelsPath, 10, "make_subset");
  const { rows, cols } = official;
  const { train, val } = selectSubset(official.split.labels, 10);
  const sampleSize = rows * cols;
  const trainSplit = takeSamples(official.split, train, sampleSize);
  const valSplit = takeSamples(official.split, val, sampleSize);
  // mtime is 0 in node:zlib's gzip header, so the output depends only on the input bytes.
  const gz = (bytes: Uint8Array): Uint8Array => new Uint8Array(gzipSync(bytes, { level: 9 }));
  // The test files are copied as they are (already gzip); gzip them only if the source was not.
  const asGzip = async (path: string): Promise<Uint8Array> => {
    const bytes = await Deno.readFile(path);
    return path.endsWith(".gz") ? bytes : gz(bytes);
  };
  const contents: Uint8Array[] = [
    gz(encodeIdxImages(trainSplit.data as Uint8Array, trainSplit.n, rows, cols)),
    gz(encodeIdxLabels(trainSplit.labels)),
    gz(encodeIdxImages(valSplit.data as Uint8Array, valSplit.n, rows, cols)),
    gz(encodeIdxLabels(valSplit.labels)),
    await asGzip(testImagesPath),
    await asGzip(testLabelsPath),
  ];
  await Deno.mkdir(outDir, { recursive: true });
  const checksums: SubsetChecksums = {};
  for (let i = 0; i < SUBSET_FILE_NAMES.length; i++) {
    await writeFileAtomic(joinPath(outDir, SUBSET_FILE_NAMES[i]), contents[i]);
    checksums[SUBSET_FILE_NAMES[i]] = hexDigest("sha256", contents[i]);
  }
  await writeFileAtomic(
    joinPath(outDir, "SHA256SUMS"),
    SUBSET_FILE_NAMES.map((f) => `${checksums[f]}  ${f}\n`).join(""),
  );
  const sourceFiles: Record<string, { sha256: string; sha256Uncompressed: string }> = {};
  for (const p of [trainImagesPath, trainLabelsPath, testImagesPath, testLabelsPath]) {
    const bytes = await Deno.readFile(p);
    sourceFiles[p.slice(p.lastIndexOf("/") + 1)] = {
      sha256: hexDigest("sha256", bytes),
      sha256Uncompressed: hexDigest("sha256", gunzipIfNeeded(bytes, p)),
    };
  }
  await writeJsonAtomic(joinPath(outDir, "manifest.json"), {
    name: "fashion-mnist-subset",
    description:
      `A fixed subset of Fashion-MNIST: ${SUBSET_SPEC.trainPerClass} training and ${SUBSET_SPEC.valPerClass} ` +
      "validation images per class (disjoint, both drawn from the official training set) and the full official " +
      "test set, as gzipped IDX files.",
    splits: { train: trainSplit.n, val: valSplit.n, test: 10000 },
    selection: {
      ...SUBSET_SPEC,
      rule: "walk new Rng(seed).permutation(60000) over the official training images (src/rng.ts); an image joins " +
        "train while its class has fewer than trainPerClass there, else val while its class has fewer than " +
        "valPerClass there; both keep that order",
    },
    source: {
      dataset: "Fashion-MNIST, https://github.com/zalandoresearch/fashion-mnist",
      package: provenance.sourcePackage ?? "unknown",
      root: sourceRoot,
      files: sourceFiles,
    },
    license: "MIT, Copyright (c) 2017 Zalando SE (see LICENSE in this folder)",
    builtBy: "deno run --allow-read --allow-write --allow-run scripts/make_subset.ts",
    sha256: checksums,
  });
  await writeFileAtomic(joinPath(outDir, "LICENSE"), MIT_LICENSE);
  return checksums;
}
