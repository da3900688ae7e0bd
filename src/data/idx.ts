/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 * a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte), the
 * number of dimensions, then each dimension as a 32-bit integer — followed by
 * the values row-major. Images are magic 2051 (0x00000803, `[n, rows, cols]`),
 * labels magic 2049 (0x00000801, `[n]`).
 */
import { UserError } from "../errors.ts";

/** Magic number of an IDX image file (`ubyte`, 3 dimensions). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX label file (`ubyte`, 1 dimension). */
export const IDX_LABELS_MAGIC = 2049;

/** Decoded IDX images: `data` is `[n, rows, cols]` row-major bytes (0–255). */
export interface IdxImages {
  data: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

function readHeader(bytes: Uint8Array, path: string, magic: number, ndims: number): number[] {
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < 4) throw new UserError(`${path}: truncated IDX file (${bytes.length} bytes, no header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The magic number first: a label file passed as images should say so, not "truncated".
  const got = view.getUint32(0, false);
  if (got !== magic) {
    throw new UserError(
      `${path}: wrong IDX magic number ${got} (expected ${magic} for ${
        magic === IDX_IMAGES_MAGIC ? "images" : "labels"
      })`,
    );
  }
  if (bytes.length < headerLen) {
    throw new UserError(`${path}: truncated IDX file (${bytes.length} bytes, header alone needs ${headerLen})`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = headerLen + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw new UserError(
      `${path}: ${bytes.length < expected ? "truncated" : "wrong-sized"} IDX file: header [${
        dims.join(", ")
      }] needs ${expected} bytes, file has ${bytes.length}`,
    );
  }
  return dims;
}

/**
 * Decodes an (already gunzipped) IDX image file. `data` is a view into `bytes`.
 *
 * @example
 * ```ts
 * const { data, n, rows, cols } = parseIdxImages(bytes, "train-images-idx3-ubyte"); // [n, 28, 28]
 * ```
 */
export function parseIdxImages(bytes: Uint8Array, path: string): IdxImages {
  const [n, rows, cols] = readHeader(bytes, path, IDX_IMAGES_MAGIC, 3);
  if (n === 0 || rows === 0 || cols === 0) {
    throw new UserError(`${path}: empty IDX image file [${n}, ${rows}, ${cols}]`);
  }
  return { data: bytes.subarray(16), n, rows, cols };
}

/**
 * Decodes an (already gunzipped) IDX label file into `[n]` class indices,
 * checking each is in `[0, numClasses)`.
 *
 * @example
 * ```ts
 * const labels = parseIdxLabels(bytes, "train-labels-idx1-ubyte", 10); // Int32Array [n]
 * ```
 */
export function parseIdxLabels(bytes: Uint8Array, path: string, numClasses: number): Int32Array {
  const [n] = readHeader(bytes, path, IDX_LABELS_MAGIC, 1);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = bytes[8 + i];
    if (y >= numClasses) {
      throw new UserError(`${path}: label ${y} of sample ${i} is out of range (expected 0..${numClasses - 1})`);
    }
    labels[i] = y;
  }
  return labels;
}

/**
 * Encodes `[n, rows, cols]` images as an IDX file (uncompressed); the inverse of
 * {@linkcode parseIdxImages}, used to build the shipped subset and test files.
 */
export function encodeIdxImages(data: Uint8Array, n: number, rows: number, cols: number): Uint8Array {
  if (data.length !== n * rows * cols) {
    throw new RangeError(`encodeIdxImages: ${data.length} bytes ≠ ${n}×${rows}×${cols}`);
  }
  const out = new Uint8Array(16 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_IMAGES_MAGIC, false);
  view.setUint32(4, n, false);
  view.setUint32(8, rows, false);
  view.setUint32(12, cols, false);
  out.set(data, 16);
  return out;
}

/** Encodes `[n]` labels (each 0–255) as an IDX label file; the inverse of {@linkcode parseIdxLabels}. */
export function encodeIdxLabels(labels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_LABELS_MAGIC, false);
  view.setUint32(4, labels.length, false);
  for (let i = 0; i < labels.length; i++) out[8 + i] = labels[i];
  return out;
}
