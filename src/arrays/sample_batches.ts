/**
 * Feature and label files (one pair per data-loader shard or rank) read as
 * one set of samples in batches of rows, each batch converted to what the
 * metrics take: features as float32 or float64 rows, labels as class indices
 * checked against K.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { NpyData } from "./npy.ts";
import type { ArrayFile } from "./open_array_file.ts";

/** One shard: features [n, d] and labels [n]. */
export interface Shard {
  features: ArrayFile;
  labels: ArrayFile;
}

/** One batch of samples: features [n, d] row-major and labels [n]. */
export interface SampleBatch {
  features: Float32Array | Float64Array;
  labels: Int32Array;
}

/** Samples that can be read again from the start, as often as needed (once per pass). */
export interface SampleSource {
  /** Total samples N. */
  readonly count: number;
  /** The batches from the first sample on. */
  batches(): AsyncIterable<SampleBatch>;
}

/** Features only, for out-of-distribution sets. */
export interface FeatureSource {
  readonly count: number;
  batches(): AsyncIterable<Float32Array | Float64Array>;
}

/**
 * Features as rows of numbers: float32 and float64 as they are (float16
 * arrives widened to float32), integers converted to float64; bool is
 * refused. `name` is the file in messages.
 *
 * @example
 * ```ts
 * featureValues(new Int16Array([1, 2]), "h.npy"); // Float64Array [1, 2]
 * ```
 */
export function featureValues(data: NpyData, name: string, dtype: string): Float32Array | Float64Array {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    if (dtype === "bool") throw new UserError(`${name}: expected numbers, got dtype bool`);
    return data;
  }
  if (dtype === "bool") throw new UserError(`${name}: expected numbers, got dtype bool`);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  return Float64Array.from(data);
}

/**
 * Labels as class indices in [0, K): any integer dtype (64-bit ones compared
 * exactly), or floats holding whole numbers (JSON). A label outside the
 * range is a UserError naming the file, the row (`firstRow` + index) and the
 * value.
 *
 * @example
 * ```ts
 * classLabels(new BigInt64Array([0n, 2n]), 3, "y.npy", 0); // Int32Array [0, 2]
 * ```
 */
export function classLabels(data: NpyData, k: number, name: string, firstRow: number): Int32Array {
  const out = new Int32Array(data.length);
  const bad = (i: number): never => {
    throw new UserError(`${name}: label ${data[i]} at row ${firstRow + i} is not a class in [0, ${k})`);
  };
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const big = BigInt(k);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < 0n || v >= big) bad(i);
      out[i] = Number(v);
    }
    return out;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v < k && Number.isInteger(v))) bad(i);
    out[i] = v;
  }
  return out;
}

/**
 * Checks that every shard's features are [n, d] and its labels [n] of an
 * integer (or float, for JSON) dtype; returns the shards as one
 * {@linkcode SampleSource} read `batchRows` rows at a time, labels checked
 * against K.
 *
 * @example
 * ```ts
 * const source = sampleSource([{ features, labels }], 10, 512, 4096);
 * for await (const { features, labels } of source.batches()) console.log(labels.length);
 * ```
 */
export function sampleSource(shards: Shard[], k: number, d: number, batchRows: number): SampleSource {
  let count = 0;
  for (const { features, labels } of shards) {
    checkFeatureShape(features, d);
    const fh = features.header;
    const lh = labels.header;
    if (lh.shape.length !== 1) {
      throw new UserError(`${labels.name}: labels must be 1-dimensional, got shape [${lh.shape.join(", ")}]`);
    }
    if (lh.dtype === "bool" || lh.dtype === "float16" || lh.dtype === "float32") {
      throw new UserError(`${labels.name}: labels must have an integer dtype, got ${lh.dtype}`);
    }
    if (lh.shape[0] !== fh.shape[0]) {
      throw new UserError(`${labels.name}: ${lh.shape[0]} labels for ${fh.shape[0]} feature rows in ${features.name}`);
    }
    count += fh.shape[0];
  }
  return {
    count,
    async *batches(): AsyncIterable<SampleBatch> {
      for (const { features, labels } of shards) {
        const fRows = await features.rows();
        const lRows = await labels.rows();
        try {
          for (let row = 0; row < features.header.shape[0]; row += batchRows) {
            // Both reads are issued before either is awaited, so they overlap.
            const [f, y] = await Promise.all([fRows.next(batchRows), lRows.next(batchRows)]);
            yield {
              features: finiteRows(featureValues(f, features.name, features.header.dtype), features.name, row, d),
              labels: classLabels(y, k, labels.name, row),
            };
          }
        } finally {
          await fRows.close();
          await lRows.close();
        }
      }
    },
  };
}

/**
 * Feature files [n, d] (no labels) as one {@linkcode FeatureSource}, read
 * `batchRows` rows at a time.
 */
export function featureSource(files: ArrayFile[], d: number, batchRows: number): FeatureSource {
  let count = 0;
  for (const f of files) {
    checkFeatureShape(f, d);
    count += f.header.shape[0];
  }
  return {
    count,
    async *batches(): AsyncIterable<Float32Array | Float64Array> {
      for (const f of files) {
        const rows = await f.rows();
        try {
          for (let row = 0; row < f.header.shape[0]; row += batchRows) {
            yield finiteRows(featureValues(await rows.next(batchRows), f.name, f.header.dtype), f.name, row, d);
          }
        } finally {
          await rows.close();
        }
      }
    },
  };
}

/**
 * `values` (rows `firstRow`… of `name`, `d` values a row) when every value is
 * finite; else a UserError naming the file, the row within it and the column
 * of the first NaN or infinity, so that a shard or an out-of-distribution file
 * is named, not the set it belongs to.
 */
function finiteRows<T extends Float32Array | Float64Array>(values: T, name: string, firstRow: number, d: number): T {
  // x − x is 0 for finite x and NaN otherwise: one cheap pass, and the slow search only when it fails.
  let bad = 0;
  for (let i = 0; i < values.length; i++) bad += values[i] - values[i];
  if (bad === 0) return values;
  const i = values.findIndex((x) => !Number.isFinite(x));
  throw new UserError(
    `${name}: non-finite value ${values[i]} at row ${firstRow + Math.floor(i / d)}, column ${i % d}`,
  );
}

function checkFeatureShape(f: ArrayFile, d: number): void {
  const s = f.header.shape;
  if (s.length !== 2) throw new UserError(`${f.name}: features must be 2-dimensional, got shape [${s.join(", ")}]`);
  if (s[1] !== d) {
    throw new UserError(`${f.name}: features of dimension ${s[1]}, but the classifier's rows have d = ${d}`);
  }
  if (f.header.dtype === "bool") throw new UserError(`${f.name}: expected numbers, got dtype bool`);
}
