/**
 * Mini-batches for training and evaluation. Each batch is written into one
 * preallocated `Float32Array` (NHWC, normalised) and one `Int32Array`, reused
 * from batch to batch, so an epoch allocates nothing per batch: consume (or
 * copy into a tensor) a batch before asking for the next.
 *
 * Augmentation follows the reference's torchvision pipeline
 * `RandomCrop(size, padding=4) → RandomHorizontalFlip() → ToTensor() → Normalize(mean, std)`:
 * the image is zero-padded in *raw* pixel space, so a padded pixel becomes
 * (0 − mean_c)/std_c after normalisation, not 0.
 */
import { UserError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import type { Dataset, Split } from "./types.ts";

/** One mini-batch: `x` is `[n, ...sampleShape]` normalised, `y` is `[n]`. Views into reused buffers. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** How {@linkcode batches} orders and transforms samples. */
export interface BatchOptions {
  /** Samples per batch; the last batch may be smaller. */
  batchSize: number;
  /** Visit samples in a random order drawn from `rng` (default false: split order). */
  shuffle?: boolean;
  /** Random crop of the zero-padded image and random horizontal flip (images only; default false). */
  augment?: boolean;
  /** Zero padding of the random crop, in pixels (default 4). */
  padding?: number;
  /** The run's generator, for the shuffle and the augmentation; required when either is on. */
  rng?: Rng;
  /**
   * Allocates the batch buffer (default a plain `Float32Array`); evaluation
   * passes `graphInputArray`, whose memory TensorFlow reads in place.
   */
  allocate?: (length: number) => Float32Array;
  /**
   * The split already normalised ({@linkcode normaliseSplit}), for splits
   * visited again and again: without augmentation, samples are copied from it
   * instead of normalised anew (the same values).
   */
  normalised?: Float32Array;
}

/** Largest split worth keeping normalised for a whole run or evaluation (64 MiB of float32). */
export const NORMALISED_SPLIT_VALUES = 16 * 1024 * 1024;

/** Whether `split` is small enough to keep normalised ({@linkcode NORMALISED_SPLIT_VALUES}). */
export function keepsNormalised(ds: Pick<Dataset, "sampleShape">, split: Pick<Split, "n">): boolean {
  return split.n * ds.sampleShape.reduce((a, b) => a * b, 1) <= NORMALISED_SPLIT_VALUES;
}

/** Number of batches of size `batchSize` needed to cover `n` samples. */
export function numBatches(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/**
 * `lut[v·C + c] = (v/255 − mean_c)/std_c`: normalisation as a table lookup,
 * which is both faster than the arithmetic and exactly what `ToTensor` +
 * `Normalize` compute (in float32).
 */
function normalisationTable(channels: number, normalization: Dataset["normalization"]): Float32Array {
  const lut = new Float32Array(256 * channels);
  for (let v = 0; v < 256; v++) {
    for (let c = 0; c < channels; c++) {
      const mean = normalization?.mean[c] ?? 0;
      const std = normalization?.std[c] ?? 1;
      lut[v * channels + c] = (v / 255 - mean) / std;
    }
  }
  return lut;
}

/**
 * Iterates over `split` in mini-batches. Image data (`Uint8Array`,
 * `sampleShape` `[H, W, C]`) is normalised per channel with
 * `ds.normalization`; vector data (`Float32Array`) is copied as it is.
 * Random draws, in order: one permutation of the split (if `shuffle`), then
 * per image the crop offsets and the flip (if `augment`).
 *
 * @example
 * ```ts
 * const rng = new Rng(config.seed);
 * for (const { x, y, n } of batches(ds, ds.train, { batchSize: 100, shuffle: true, augment: true, rng })) {
 *   const xs = tf.tensor4d(x, [n, 32, 32, 3]); // x is reused: copy before the next batch
 * }
 * ```
 */
export function* batches(
  ds: Pick<Dataset, "sampleShape" | "normalization">,
  split: Split,
  options: BatchOptions,
): Generator<Batch, void, undefined> {
  const { batchSize, shuffle = false, augment = false, padding = 4, rng, allocate, normalised } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  }
  if ((shuffle || augment) && rng === undefined) throw new Error("batches: shuffle and augment need an rng");
  const sampleSize = ds.sampleShape.reduce((a, b) => a * b, 1);
  const isImage = split.data instanceof Uint8Array;
  if (augment && (!isImage || ds.sampleShape.length !== 3)) {
    throw new UserError(`augmentation needs image data [H, W, C], got samples of shape [${ds.sampleShape.join(", ")}]`);
  }
  if (split.data.length !== split.n * sampleSize) {
    throw new Error(`batches: split holds ${split.data.length} values, expected ${split.n}×${sampleSize}`);
  }
  if (normalised !== undefined && normalised.length !== split.n * sampleSize) {
    throw new Error(
      `batches: the normalised split holds ${normalised.length} values, expected ${split.n}×${sampleSize}`,
    );
  }
  const from = augment ? undefined : normalised ?? (isImage ? undefined : split.data as Float32Array);
  const order = shuffle ? rng!.permutation(split.n) : null;
  const size = Math.min(batchSize, split.n);
  const x = allocate ? allocate(size * sampleSize) : new Float32Array(size * sampleSize);
  if (x.length !== size * sampleSize) {
    throw new Error(`batches: allocate gave ${x.length} values, not ${size * sampleSize}`);
  }
  const y = new Int32Array(size);
  const [h, w, c] = isImage ? ds.sampleShape : [0, 0, 0];
  const lut = isImage ? normalisationTable(c, ds.normalization) : new Float32Array(0);

  for (let start = 0; start < split.n; start += batchSize) {
    const n = Math.min(batchSize, split.n - start);
    for (let b = 0; b < n; b++) {
      const i = order ? order[start + b] : start + b;
      y[b] = split.labels[i];
      const dst = b * sampleSize;
      if (from !== undefined) {
        x.set(from.subarray(i * sampleSize, (i + 1) * sampleSize), dst);
      } else if (!augment) {
        normaliseImage(split.data as Uint8Array, i * sampleSize, x, dst, sampleSize, c, lut);
      } else {
        const dy = rng!.int(2 * padding + 1) - padding;
        const dx = rng!.int(2 * padding + 1) - padding;
        const flip = rng!.uniform() < 0.5;
        cropFlipImage(split.data as Uint8Array, i * sampleSize, x, dst, h, w, c, dy, dx, flip, lut);
      }
    }
    yield { x: x.subarray(0, n * sampleSize), y: y.subarray(0, n), n };
  }
}

/**
 * All of `split` as {@linkcode batches} without augmentation writes it (images
 * normalised through the same table, vector data as it is), in one array from
 * `allocate`: computed once, then batched without a copy by
 * {@linkcode normalisedBatches}. For splits measured again and again (every
 * checkpoint of an evaluation).
 *
 * @example
 * ```ts
 * const x = normaliseSplit(ds, ds.test);
 * for (const b of normalisedBatches(x, ds.test, ds.sampleShape, 4096)) console.log(b.n);
 * ```
 */
export function normaliseSplit(
  ds: Pick<Dataset, "sampleShape" | "normalization">,
  split: Split,
  allocate: (length: number) => Float32Array = (length) => new Float32Array(length),
): Float32Array {
  const sampleSize = ds.sampleShape.reduce((a, b) => a * b, 1);
  if (split.data.length !== split.n * sampleSize) {
    throw new Error(`normaliseSplit: split holds ${split.data.length} values, expected ${split.n}×${sampleSize}`);
  }
  const x = allocate(split.n * sampleSize);
  if (x.length !== split.n * sampleSize) {
    throw new Error(`normaliseSplit: allocate gave ${x.length} values, not ${split.n * sampleSize}`);
  }
  if (!(split.data instanceof Uint8Array)) {
    x.set(split.data);
    return x;
  }
  const c = ds.sampleShape.length === 3 ? ds.sampleShape[2] : 1;
  normaliseImage(split.data, 0, x, 0, split.n * sampleSize, c, normalisationTable(c, ds.normalization));
  return x;
}

/**
 * Batches of `batchSize` over a split normalised by {@linkcode normaliseSplit}
 * (`x`), in split order: views into `x` and the split's labels, nothing copied.
 */
export function* normalisedBatches(
  x: Float32Array,
  split: Pick<Split, "labels" | "n">,
  sampleShape: number[],
  batchSize: number,
): Generator<Batch, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  }
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  if (x.length !== split.n * sampleSize) {
    throw new Error(`normalisedBatches: ${x.length} values for ${split.n} samples of ${sampleSize}`);
  }
  for (let start = 0; start < split.n; start += batchSize) {
    const n = Math.min(batchSize, split.n - start);
    yield {
      x: x.subarray(start * sampleSize, (start + n) * sampleSize),
      y: split.labels.subarray(start, start + n),
      n,
    };
  }
}

function normaliseImage(
  src: Uint8Array,
  from: number,
  x: Float32Array,
  dst: number,
  sampleSize: number,
  c: number,
  lut: Float32Array,
): void {
  if (c === 1) {
    for (let p = 0; p < sampleSize; p++) x[dst + p] = lut[src[from + p]];
    return;
  }
  for (let p = 0; p < sampleSize; p += c) {
    for (let k = 0; k < c; k++) x[dst + p + k] = lut[src[from + p + k] * c + k];
  }
}

/**
 * out(i, j) = padded(i + dy, j' + dx) with j' = W−1−j when flipped, where
 * padded is the raw image surrounded by zeros; i.e. torchvision's crop of the
 * padded image at offset (dy + pad, dx + pad) followed by the flip.
 */
function cropFlipImage(
  src: Uint8Array,
  from: number,
  x: Float32Array,
  dst: number,
  h: number,
  w: number,
  c: number,
  dy: number,
  dx: number,
  flip: boolean,
  lut: Float32Array,
): void {
  for (let i = 0; i < h; i++) {
    const sy = i + dy;
    const rowOut = dst + i * w * c;
    if (sy < 0 || sy >= h) {
      for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) x[rowOut + j * c + k] = lut[k];
      continue;
    }
    const rowIn = from + sy * w * c;
    for (let j = 0; j < w; j++) {
      const sx = (flip ? w - 1 - j : j) + dx;
      const out = rowOut + j * c;
      if (sx < 0 || sx >= w) {
        for (let k = 0; k < c; k++) x[out + k] = lut[k];
      } else {
        const inp = rowIn + sx * c;
        for (let k = 0; k < c; k++) x[out + k] = lut[src[inp + k] * c + k];
      }
    }
  }
}
