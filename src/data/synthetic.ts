/**
 * A seeded Gaussian-mixture dataset for fast experiments and tests: K classes
 * in d dimensions, class k's samples are x = μ_k + ε with ε ~ N(0, σ²I), and
 * the class means μ_k = s·u_k lie at distance `separation` (s) from the
 * origin along random unit directions u_k. Data is `Float32Array` `[n, d]`,
 * already final (no normalisation).
 */
import { UserError } from "../errors.ts";
import { Rng } from "../rng.ts";
import type { Dataset, Split } from "./types.ts";

/** Parameters of the synthetic Gaussian mixture. */
export interface SyntheticOptions {
  /** Number of classes K (default 10). */
  numClasses?: number;
  /** Dimension d (default 32). */
  dim?: number;
  /** Training samples per class (default 100). */
  trainPerClass?: number;
  /** Validation samples per class (default 20). */
  valPerClass?: number;
  /** Test samples per class (default 100). */
  testPerClass?: number;
  /** Norm of each class mean ‖μ_k‖ (default 4). */
  separation?: number;
  /** Standard deviation σ of the within-class noise (default 1). */
  noise?: number;
  /** Sampling seed (default 1). */
  seed?: number;
}

/** The defaults of {@linkcode SyntheticOptions}, in one place. */
export const SYNTHETIC_DEFAULTS: Required<SyntheticOptions> = {
  numClasses: 10,
  dim: 32,
  trainPerClass: 100,
  valPerClass: 20,
  testPerClass: 100,
  separation: 4,
  noise: 1,
  seed: 1,
};

function sample(rng: Rng, means: Float32Array, k: number, d: number, perClass: number, noise: number): Split {
  const n = k * perClass;
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  // Classes interleaved (0, 1, …, K−1, 0, 1, …) so any prefix is balanced.
  for (let i = 0; i < n; i++) {
    const y = i % k;
    labels[i] = y;
    for (let j = 0; j < d; j++) data[i * d + j] = means[y * d + j] + noise * rng.normal();
  }
  return { data, labels, n };
}

/**
 * Draws the synthetic dataset: means first, then train, val and test
 * samples, all from one `Rng(seed)`, so a seed fixes everything.
 *
 * @example
 * ```ts
 * const ds = makeSyntheticDataset({ numClasses: 4, dim: 8, seed: 3 });
 * ds.sampleShape; // [8]; ds.train.data is Float32Array [400, 8]
 * ```
 */
export function makeSyntheticDataset(options: SyntheticOptions = {}): Dataset {
  // Fields set to `undefined` (e.g. an unset flag) keep their defaults.
  const o: Required<SyntheticOptions> = { ...SYNTHETIC_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (o as unknown as Record<string, number>)[key] = value as number;
  }
  for (const key of ["numClasses", "dim", "trainPerClass", "valPerClass", "testPerClass"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new UserError(`synthetic: ${key} must be a positive integer, got ${o[key]}`);
    }
  }
  if (o.numClasses < 2) throw new UserError(`synthetic: numClasses must be at least 2, got ${o.numClasses}`);
  if (!(o.separation >= 0) || !(o.noise >= 0)) {
    throw new UserError(`synthetic: separation and noise must be non-negative, got ${o.separation}, ${o.noise}`);
  }
  const rng = new Rng(o.seed);
  const { numClasses: k, dim: d } = o;
  const means = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    let norm = 0;
    const u = new Float64Array(d);
    do {
      norm = 0;
      for (let j = 0; j < d; j++) {
        u[j] = rng.normal();
        norm += u[j] * u[j];
      }
    } while (norm === 0);
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) means[c * d + j] = (o.separation * u[j]) / norm;
  }
  return {
    name: "synthetic",
    numClasses: k,
    sampleShape: [d],
    train: sample(rng, means, k, d, o.trainPerClass, o.noise),
    val: sample(rng, means, k, d, o.valPerClass, o.noise),
    test: sample(rng, means, k, d, o.testPerClass, o.noise),
    sources: [
      `synthetic Gaussian mixture: K=${k} d=${d} train/val/test per class ${o.trainPerClass}/${o.valPerClass}/${o.testPerClass} separation=${o.separation} noise=${o.noise} seed=${o.seed}`,
    ],
  };
}
