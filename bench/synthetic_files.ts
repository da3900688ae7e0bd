/**
 * Seeded synthetic features written straight to `.npy` files in pieces, so
 * that benchmarks can make ImageNet-sized inputs (10.5 GB) without holding
 * them: the distribution of `syntheticFeatures` (class means N(0, 1), noise
 * N(0, noise²) per coordinate, an offset of 1, W = means + N(0, 0.25)), drawn
 * row block by row block.
 *
 * @module
 */
import { Rng } from "../src/rng.ts";
import { npyHeader, writeNpy } from "../src/arrays/npy.ts";
import { joinPath } from "../src/io.ts";
import type { SyntheticFeatures } from "../src/metrics/mod.ts";

/** The files written: features.npy [N, d] float32, labels.npy [N] int64, weights.npy [K, d], bias.npy [K]. */
export interface SyntheticFiles {
  features: string;
  labels: string;
  weights: string;
  bias: string;
}

/** Rows generated and written at a time. */
const BLOCK_ROWS = 4096;

/**
 * Writes N samples of K classes in d dimensions into `dir`; `onProgress`
 * gets the rows written so far.
 *
 * @example
 * ```ts
 * const files = await writeSyntheticFiles(".cache/b", 1, 50_000, 100, 2048, 20);
 * ```
 */
export async function writeSyntheticFiles(
  dir: string,
  seed: number,
  n: number,
  k: number,
  d: number,
  noise: number,
  onProgress: (rows: number) => void = () => {},
): Promise<SyntheticFiles> {
  await Deno.mkdir(dir, { recursive: true });
  const files = syntheticFileNames(dir);
  const rng = new Rng(seed);
  const means = new Float32Array(k * d);
  for (let i = 0; i < means.length; i++) means[i] = rng.normal();
  const labels = new BigInt64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i % k;
  rng.shuffle(order);
  for (let i = 0; i < n; i++) labels[i] = BigInt(order[i]);
  await Deno.writeFile(files.labels, writeNpy({ dtype: "int64", shape: [n], data: labels }));
  const weights = new Float32Array(k * d);
  for (let i = 0; i < weights.length; i++) weights[i] = means[i] + 0.5 * rng.normal();
  await Deno.writeFile(files.weights, writeNpy({ dtype: "float32", shape: [k, d], data: weights }));
  const bias = new Float32Array(k);
  for (let i = 0; i < k; i++) bias[i] = 0.1 * rng.normal();
  await Deno.writeFile(files.bias, writeNpy({ dtype: "float32", shape: [k], data: bias }));

  const file = await Deno.open(files.features, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, npyHeader("float32", [n, d]));
    const block = new Float32Array(BLOCK_ROWS * d);
    for (let start = 0; start < n; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, n - start);
      for (let r = 0; r < rows; r++) {
        const m = order[start + r] * d;
        for (let j = 0; j < d; j++) block[r * d + j] = 1 + means[m + j] + noise * rng.normal();
      }
      await writeAll(file, new Uint8Array(block.buffer, 0, rows * d * 4));
      onProgress(start + rows);
    }
  } finally {
    file.close();
  }
  return files;
}

/**
 * Writes `syntheticFeatures` output (N samples, K classes, d dimensions) into the existing folder `dir` as the files
 * `bench/metrics_numpy.py` and `bench/reference/reference_bench.py` read: features [N, d], weights [K, d] and bias
 * [K] float32, labels [N] int32.
 *
 * @example
 * ```ts
 * await writeFeatureFiles(dir, syntheticFeatures(1, 1000, 10, 64), 1000, 10, 64);
 * ```
 */
export async function writeFeatureFiles(
  dir: string,
  data: SyntheticFeatures,
  n: number,
  k: number,
  d: number,
): Promise<SyntheticFiles> {
  const files = syntheticFileNames(dir);
  await Deno.writeFile(files.features, writeNpy({ dtype: "float32", shape: [n, d], data: data.features }));
  await Deno.writeFile(files.labels, writeNpy({ dtype: "int32", shape: [n], data: data.labels }));
  await Deno.writeFile(files.weights, writeNpy({ dtype: "float32", shape: [k, d], data: data.weights }));
  await Deno.writeFile(files.bias, writeNpy({ dtype: "float32", shape: [k], data: data.bias }));
  return files;
}

function syntheticFileNames(dir: string): SyntheticFiles {
  return {
    features: joinPath(dir, "features.npy"),
    labels: joinPath(dir, "labels.npy"),
    weights: joinPath(dir, "weights.npy"),
    bias: joinPath(dir, "bias.npy"),
  };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}
