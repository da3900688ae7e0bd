/**
 * Measuring the neural-collapse metrics of arrays on disk (`deno task
 * measure`): features, labels and a classifier as `.npy`, `.npz` members or
 * JSON, in shards, read in batches.
 *
 * @example
 * ```ts
 * import { measureFiles } from "./mod.ts";
 * const r = await measureFiles({ npz: "run.npz" });
 * console.log(r.metrics.nc1, r.projection);
 * ```
 *
 * @module
 */
export { MEASURE_BACKENDS, type MeasuredFiles, measureFiles, type MeasureFilesOptions } from "./measure_files.ts";
