/**
 * The shapes every loader returns and the training loop consumes.
 */

/** One split of a dataset, decoded once into typed arrays. */
export interface Split {
  /**
   * Raw samples, `[n, ...sampleShape]` row-major (images are NHWC).
   * Image datasets keep their bytes (`Uint8Array`, 0–255) and are normalised
   * batch by batch; vector datasets (synthetic) are `Float32Array`, already final.
   */
  data: Uint8Array | Float32Array;
  /** Class index per sample, `[n]`, each in `[0, numClasses)`. */
  labels: Int32Array;
  /** Number of samples. */
  n: number;
}

/** A dataset ready for training: three splits and how to normalise them. */
export interface Dataset {
  /** `cifar10`, `cifar100`, `fashion-mnist`, `mnist`, `synthetic`, `fashion-mnist-subset`. */
  name: string;
  numClasses: number;
  /** Shape of one sample: `[H, W, C]` for images, `[d]` for vectors. */
  sampleShape: number[];
  /** Per-channel mean and std applied to `data / 255` (images only). */
  normalization?: { mean: number[]; std: number[] };
  train: Split;
  val: Split;
  test: Split;
  /** Files read, for `config.json` (path and size or checksum). */
  sources: string[];
}
