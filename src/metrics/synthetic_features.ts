/**
 * Seeded synthetic last-layer features for benchmarks and tests: classes
 * partly collapsed around random means, and a classifier partly aligned with
 * them, so every metric has a non-trivial value.
 *
 * @module
 */
import { Rng } from "../rng.ts";

/** Features, labels and a linear classifier, all row-major. */
export interface SyntheticFeatures {
  /** [N, d] features h_i = μ_{y_i} + noise. */
  features: Float32Array;
  /** [N] labels, class i mod K, shuffled (every class has ⌊N/K⌋ or ⌈N/K⌉ samples). */
  labels: Int32Array;
  /** [K, d] classifier W = class means + noise. */
  weights: Float32Array;
  /** [K] bias. */
  bias: Float32Array;
}

/**
 * Draws N samples of K classes in d dimensions. Class means have entries
 * N(0, 1); each feature adds N(0, `noise`²) per coordinate, and a common
 * offset of 1 is added to every feature (as a network's non-negative ReLU
 * features would have), so μ_G ≠ 0.
 *
 * @example
 * ```ts
 * const { features, labels, weights, bias } = syntheticFeatures(1, 1000, 10, 64);
 * ```
 */
export function syntheticFeatures(seed: number, n: number, k: number, d: number, noise = 1): SyntheticFeatures {
  const rng = new Rng(seed);
  const means = new Float64Array(k * d);
  for (let i = 0; i < means.length; i++) means[i] = rng.normal();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % k;
  rng.shuffle(labels);
  const features = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const m = labels[i] * d;
    for (let j = 0; j < d; j++) features[i * d + j] = 1 + means[m + j] + noise * rng.normal();
  }
  const weights = new Float32Array(k * d);
  for (let i = 0; i < weights.length; i++) weights[i] = means[i] + 0.5 * rng.normal();
  const bias = new Float32Array(k);
  for (let i = 0; i < k; i++) bias[i] = 0.1 * rng.normal();
  return { features, labels, weights, bias };
}
