/**
 * The light entry point of the package: Neural Collapse metrics of any
 * features (NC1–NC4 of the reference, the extended metrics, top-1/top-5) and
 * NumPy `.npy` reading and writing, without TensorFlow. It needs no
 * permission at all for arrays already in memory; `measureBatches` streams
 * larger sets batch by batch.
 *
 * @example
 * ```ts
 * import { neuralCollapseMetrics } from "@nc-losses/nc-losses/metrics";
 * // Two classes in two dimensions, classifier W [K, d] = [2, 2], no bias.
 * const features = new Float64Array([1.1, 0, 0.9, 0, -0.9, 0, -1.1, 0]); // [N, d] = [4, 2]
 * const labels = new Int32Array([0, 0, 1, 1]);
 * const W = new Float64Array([1, 0, -1, 0]);
 * const m = neuralCollapseMetrics(features, labels, W, null);
 * console.log(m.nc1, m.nc2, m.top1); // NC1 = tr(Σ_W Σ_B^†)/K = 0.01 / 2, NC2 = 0, top-1 100
 * ```
 *
 * @module
 */
export * from "./src/metrics/mod.ts";
export { type NdArray, type NpyDtype, readNpy, writeNpy } from "./src/arrays/npy.ts";
export { UserError } from "./src/errors.ts";
