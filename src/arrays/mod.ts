/**
 * Arrays on disk: `.npy` files as NumPy writes them (C or Fortran order,
 * either byte order, float16/32/64, every integer type, versions 1–3; read
 * and written by `npy.ts`), members of `.npz` archives (stored or deflated),
 * JSON arrays (`json_array.ts`); read whole or in batches of rows, several
 * files (shards) as one set.
 *
 * @example
 * ```ts
 * import { openArrayFile, sampleSource } from "./src/arrays/mod.ts";
 * const shards = [{ features: await openArrayFile("h.npy"), labels: await openArrayFile("y.npy") }];
 * const source = sampleSource(shards, 10, 512, 4096); // K = 10, d = 512, 4096 rows a batch
 * for await (const batch of source.batches()) console.log(batch.labels.length);
 * ```
 *
 * @module
 */
export {
  fortranToC,
  isIntegerDtype,
  type NdArray,
  type NpyData,
  type NpyDtype,
  type NpyHeader,
  npyHeader,
  numericData,
  parseNpyHeader,
  readNpy,
  writeNpy,
} from "./npy.ts";
export { parseJsonArray } from "./json_array.ts";
export { readArrayFile } from "./read_array_file.ts";
export { type ArrayFile, openArrayFile, openNpzMember, type RowCursor } from "./open_array_file.ts";
export { expandPaths } from "./expand_paths.ts";
export {
  classLabels,
  type FeatureSource,
  featureSource,
  featureValues,
  type SampleBatch,
  type SampleSource,
  sampleSource,
  type Shard,
} from "./sample_batches.ts";
