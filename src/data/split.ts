/**
 * The train/validation split and the per-class training subset.
 *
 * The reference holds out 10% of the official training set for validation,
 * chosen by shuffling the indices with a fixed seed (1) — the common
 * `SubsetRandomSampler` recipe: `split = floor(0.1·n)`, validation =
 * `indices[:split]`, training = `indices[split:]`. We do the same with our
 * {@linkcode Rng} seeded by the *split* seed, which is independent of the run
 * seed, so every run of a sweep sees the same 45 000 / 5 000 images. Both
 * splits keep the shuffled order.
 */
import { UserError } from "../errors.ts";
import { Rng } from "../rng.ts";
import type { Split } from "./types.ts";

/** The reference's fixed split seed. */
export const DEFAULT_SPLIT_SEED = 1;
/** Fraction of the official training set held out for validation. */
export const VALIDATION_FRACTION = 0.1;

/**
 * Copies the samples at `indices` (in that order) out of `split`.
 * `sampleSize` is the number of values per sample (H·W·C, or d).
 *
 * @example
 * ```ts
 * const firstTwo = takeSamples(split, Int32Array.of(0, 1), 784); // n = 2
 * ```
 */
export function takeSamples(split: Split, indices: ArrayLike<number>, sampleSize: number): Split {
  const n = indices.length;
  const data = split.data instanceof Float32Array ? new Float32Array(n * sampleSize) : new Uint8Array(n * sampleSize);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    data.set(split.data.subarray(j * sampleSize, (j + 1) * sampleSize), i * sampleSize);
    labels[i] = split.labels[j];
  }
  return { data, labels, n };
}

/**
 * Splits the official training set into training and validation splits:
 * a permutation from `new Rng(splitSeed)`, the first ⌊fraction·n⌋ indices
 * validate, the rest train (50 000 → 45 000 + 5 000; 60 000 → 54 000 + 6 000).
 *
 * @example
 * ```ts
 * const { train, val } = splitTrainVal(official, 3072); // seed 1, 10%
 * ```
 */
export function splitTrainVal(
  official: Split,
  sampleSize: number,
  splitSeed: number = DEFAULT_SPLIT_SEED,
  fraction: number = VALIDATION_FRACTION,
): { train: Split; val: Split } {
  const perm = new Rng(splitSeed).permutation(official.n);
  const nVal = Math.floor(fraction * official.n);
  return {
    val: takeSamples(official, perm.subarray(0, nVal), sampleSize),
    train: takeSamples(official, perm.subarray(nVal), sampleSize),
  };
}

/**
 * Keeps the first `perClass` samples of each class, in split order (the
 * split shuffle makes them a seeded random choice). This is `--train-subset N`.
 * A class with fewer than `perClass` samples is a {@linkcode UserError}, since
 * the result would silently be unbalanced.
 *
 * @example
 * ```ts
 * const small = firstPerClass(ds.train, 10, 100, 3072, "cifar10"); // n = 1 000
 * ```
 */
export function firstPerClass(
  split: Split,
  numClasses: number,
  perClass: number,
  sampleSize: number,
  datasetName: string,
): Split {
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new UserError(`--train-subset: expected a positive integer, got ${perClass}`);
  }
  const taken = new Int32Array(numClasses);
  const keep: number[] = [];
  for (let i = 0; i < split.n && keep.length < perClass * numClasses; i++) {
    const y = split.labels[i];
    if (taken[y] < perClass) {
      taken[y]++;
      keep.push(i);
    }
  }
  for (let k = 0; k < numClasses; k++) {
    if (taken[k] < perClass) {
      throw new UserError(
        `--train-subset ${perClass}: ${datasetName} has only ${taken[k]} training images of class ${k}`,
      );
    }
  }
  return takeSamples(split, keep, sampleSize);
}
