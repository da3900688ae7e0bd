/**
 * CIFAR-10 and CIFAR-100 from their official *binary* distributions
 * (https://www.cs.toronto.edu/~kriz/cifar.html):
 *
 * - `<root>/cifar-10-batches-bin/data_batch_{1..5}.bin`, `test_batch.bin`:
 *   records of 1 label byte + 3 072 pixel bytes;
 * - `<root>/cifar-100-binary/train.bin`, `test.bin`: records of 1 coarse label
 *   byte + 1 fine label byte + 3 072 pixel bytes (we use the fine label, 100 classes).
 *
 * Pixels are channel-planar (1 024 red, then green, then blue, each 32×32
 * row-major); we decode once into NHWC `[n, 32, 32, 3]` bytes.
 */
import { UserError } from "../errors.ts";
import { joinPath } from "../io.ts";
import { describeFiles, firstExisting, readFileOrUserError } from "./_files.ts";
import { DEFAULT_SPLIT_SEED, splitTrainVal } from "./split.ts";
import type { Dataset, Split } from "./types.ts";

/** The two CIFAR datasets. */
export type CifarName = "cifar10" | "cifar100";

/** The reference's default dataset root (`../data/`), ours too. */
export const CIFAR_DEFAULT_ROOT = "../data/";

/**
 * The reference's normalisation for both CIFAR datasets (per channel R, G, B,
 * applied to `x/255`). These std values are the often-copied (0.2023, 0.1994,
 * 0.2010), not CIFAR-10's true pixel std (≈0.247, 0.243, 0.261); we keep them
 * to match the reference.
 */
export const CIFAR_NORMALIZATION: { mean: number[]; std: number[] } = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2023, 0.1994, 0.2010],
};

/** Where each CIFAR binary distribution lives and what it holds. */
export interface CifarLayout {
  /** Folder inside the root the archive unpacks to. */
  folder: string;
  trainFiles: string[];
  testFiles: string[];
  /** Label bytes before the pixels (1 for CIFAR-10, 2 for CIFAR-100: coarse then fine). */
  labelBytes: number;
  numClasses: number;
  /** Official archive and its published MD5. */
  url: string;
  md5: string;
}

/** The official layouts and download locations. */
export const CIFAR_LAYOUTS: Readonly<Record<CifarName, CifarLayout>> = {
  cifar10: {
    folder: "cifar-10-batches-bin",
    trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    testFiles: ["test_batch.bin"],
    labelBytes: 1,
    numClasses: 10,
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
  },
  cifar100: {
    folder: "cifar-100-binary",
    trainFiles: ["train.bin"],
    testFiles: ["test.bin"],
    labelBytes: 2,
    numClasses: 100,
    url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    md5: "03b5dce01913d631647c71ecec9e9cb8",
  },
};

const PLANE = 32 * 32;
const PIXELS = 3 * PLANE;

/**
 * Decodes CIFAR binary records into NHWC bytes `[n, 32, 32, 3]` and labels `[n]`
 * (the last label byte of each record: CIFAR-10's label, CIFAR-100's fine label).
 * The file must hold a whole, non-zero number of records.
 *
 * @example
 * ```ts
 * const { data, labels, n } = parseCifarRecords(bytes, "data_batch_1.bin", 1, 10); // n = 10 000
 * ```
 */
export function parseCifarRecords(bytes: Uint8Array, path: string, labelBytes: number, numClasses: number): Split {
  const recordSize = labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    throw new UserError(
      `${path}: truncated or wrong-sized CIFAR file: ${bytes.length} bytes is not a whole number of ${recordSize}-byte records`,
    );
  }
  const n = bytes.length / recordSize;
  const data = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const rec = i * recordSize;
    if (labelBytes === 2 && bytes[rec] >= 20) {
      throw new UserError(`${path}: coarse label ${bytes[rec]} of record ${i} is out of range (expected 0..19)`);
    }
    const y = bytes[rec + labelBytes - 1];
    if (y >= numClasses) {
      throw new UserError(`${path}: label ${y} of record ${i} is out of range (expected 0..${numClasses - 1})`);
    }
    labels[i] = y;
    // Planar CHW → interleaved HWC.
    const src = rec + labelBytes;
    const dst = i * PIXELS;
    for (let p = 0; p < PLANE; p++) {
      data[dst + 3 * p] = bytes[src + p];
      data[dst + 3 * p + 1] = bytes[src + PLANE + p];
      data[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p];
    }
  }
  return { data, labels, n };
}

/** Concatenates splits in order. */
function concatSplits(parts: Split[]): Split {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.n, 0);
  const data = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    data.set(p.data as Uint8Array, at * PIXELS);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { data, labels, n };
}

/** The files a CIFAR dataset needs under `root`, in load order (train files first). */
export function cifarFiles(name: CifarName, root: string): string[] {
  const l = CIFAR_LAYOUTS[name];
  return [...l.trainFiles, ...l.testFiles].map((f) => joinPath(root, l.folder, f));
}

/** Whether every file of `name` is present under `root`. */
export async function cifarPresent(name: CifarName, root: string): Promise<boolean> {
  for (const f of cifarFiles(name, root)) if (await firstExisting([f]) === null) return false;
  return true;
}

/**
 * Loads CIFAR-10 or CIFAR-100 from `root`: train (45 000), val (5 000, chosen
 * by `splitSeed`), test (10 000), each `[n, 32, 32, 3]` bytes.
 * A missing file is a {@linkcode UserError} that says where the files are
 * expected and how to get them.
 *
 * @example
 * ```ts
 * const ds = await loadCifar("cifar10", "../data/");
 * ds.train.n; // 45 000
 * ```
 */
export async function loadCifar(
  name: CifarName,
  root: string = CIFAR_DEFAULT_ROOT,
  splitSeed: number = DEFAULT_SPLIT_SEED,
): Promise<Dataset> {
  const layout = CIFAR_LAYOUTS[name];
  const files = cifarFiles(name, root);
  for (const f of files) {
    if (await firstExisting([f]) === null) {
      throw new UserError(
        `${name}: missing ${f} (expected ${[...layout.trainFiles, ...layout.testFiles].join(", ")} in ${
          joinPath(root, layout.folder)
        }); pass --download to fetch them, or unpack ${layout.url} into ${root}`,
      );
    }
  }
  const parts: Split[] = [];
  for (const f of files) {
    parts.push(parseCifarRecords(await readFileOrUserError(f, name), f, layout.labelBytes, layout.numClasses));
  }
  const nTrainFiles = layout.trainFiles.length;
  const official = concatSplits(parts.slice(0, nTrainFiles));
  const test = concatSplits(parts.slice(nTrainFiles));
  const { train, val } = splitTrainVal(official, PIXELS, splitSeed);
  return {
    name,
    numClasses: layout.numClasses,
    sampleShape: [32, 32, 3],
    normalization: CIFAR_NORMALIZATION,
    train,
    val,
    test,
    sources: await describeFiles(files),
  };
}
