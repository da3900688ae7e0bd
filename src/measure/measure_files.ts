/**
 * Measuring every neural-collapse metric of arrays on disk, as
 * `deno task measure` does: features, labels, classifier weights and bias
 * named as the user typed them (`.npy`, `.json`, `archive.npz:key`, comma
 * lists and globs of shards), opened and checked against each other, read in
 * batches of rows (memory O(K·d + batch·d) whatever N is), and measured in
 * two passes with float64 JavaScript products, float64 TensorFlow kernels
 * (many classes, native backend installed) or float32 products on a tfjs
 * backend.
 *
 * Loads no TensorFlow unless the products need it: the default path needs no
 * permission beyond reading the files.
 *
 * @example
 * ```ts
 * const r = await measureFiles({ features: ["h.npy"], labels: ["y.npy"], weights: "W.npy" });
 * r.metrics.nc1;
 * ```
 *
 * @module
 */
import {
  type ArrayFile,
  expandPaths,
  type FeatureSource,
  featureSource,
  featureValues,
  openArrayFile,
  type SampleSource,
  sampleSource,
  type Shard,
} from "../arrays/mod.ts";
import { UserError } from "../errors.ts";
import {
  measureBatches,
  type MeasuredMetrics,
  measurementBytes,
  pass2UsesNativeKernels,
  type ProjectorFactory,
} from "../metrics/mod.ts";
import { gigabytes, memoryBudget } from "../run/budget.ts";

/** The tfjs backends `--projection float32` may use. */
export const MEASURE_BACKENDS = ["auto", "tensorflow", "wasm", "cpu"] as const;

/** Values read at a time: 32 MB of float32, enough for full-speed matrix products. */
const BATCH_VALUES = 1 << 23;

/** What to measure, as `deno task measure`'s flags name it. */
export interface MeasureFilesOptions {
  /** Features [N, d]: one file per shard (paths, `.npz:key` members or globs). */
  features?: string[];
  /** Integer labels [N] in [0, K), one file per features file. */
  labels?: string[];
  /** Classifier weights W [K, d]. */
  weights?: string;
  /** Classifier bias b [K] (default: zeros, or the archive's `b`). */
  bias?: string;
  /** An archive with keys `features`, `labels`, `W` and optionally `b`; the fields above override it. */
  npz?: string;
  /** Out-of-distribution features [M, d] for NC5. */
  oodFeatures?: string[];
  /** Rows read at a time (default: about 8 M values' worth). */
  batchRows?: number;
  /** Pass 2's N·d·K products: float64 JavaScript (default), or float32 on a tfjs backend. */
  projection?: "float64" | "float32";
  /** The tfjs backend of `projection: "float32"` (default auto). */
  backend?: typeof MEASURE_BACKENDS[number];
  /** How a missing input is explained (the task's usage line). */
  usage?: string;
  /** Rows done of each pass. */
  onProgress?: (pass: "pass 1" | "pass 2" | "ood", done: number, total: number) => void;
}

/** What {@linkcode measureFiles} measured, and on what. */
export interface MeasuredFiles {
  metrics: MeasuredMetrics;
  /** Samples N, over all shards. */
  n: number;
  shards: number;
  k: number;
  d: number;
  /** false when no bias was given (b = 0). */
  hasBias: boolean;
  /** Out-of-distribution samples, when given. */
  oodCount?: number;
  /** How pass 2's products ran, in words. */
  projection: string;
}

/** The input files, the archive's members filled in where no flag names them. */
interface InputSpecs {
  features: string[];
  labels: string[];
  weights: string;
  bias?: string;
}

/**
 * The files to open: the given ones, else the archive's members (its `b`
 * only when present). Throws {@linkcode UserError} when an input is missing.
 */
async function inputSpecs(o: MeasureFilesOptions): Promise<InputSpecs> {
  const npz = o.npz;
  const fromNpz = (key: string) => (npz === undefined ? undefined : `${npz}:${key}`);
  const features = o.features ?? (npz ? [fromNpz("features")!] : undefined);
  const labels = o.labels ?? (npz ? [fromNpz("labels")!] : undefined);
  const weights = o.weights ?? fromNpz("W");
  for (const [name, v] of [["features", features], ["labels", labels], ["weights", weights]] as const) {
    if (v === undefined || v.length === 0) throw new UserError(`--${name} is required (or --npz); usage: ${o.usage}`);
  }
  let bias = o.bias;
  if (bias === undefined && npz !== undefined) {
    // b is optional in an archive: use it when present.
    const probe = await openArrayFile(fromNpz("b")!).catch((e) => {
      if (e instanceof UserError && e.message.includes("no array 'b'")) return null;
      throw e;
    });
    if (probe !== null) {
      probe.close();
      bias = fromNpz("b");
    }
  }
  return { features: features!, labels: labels!, weights: weights!, bias };
}

/** Opens every file of `specs` (expanded lists and globs); on an error closes those already open. */
async function openAll(specs: string[], flag: string): Promise<ArrayFile[]> {
  const files: ArrayFile[] = [];
  try {
    for (const spec of await expandPaths(specs, flag)) files.push(await openArrayFile(spec));
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
  return files;
}

/** The whole array of `file` as numbers, which must have `shape` dimensions. */
async function readVector(file: ArrayFile, what: string, shape: number): Promise<Float32Array | Float64Array> {
  const a = await file.readAll();
  if (a.shape.length !== shape) {
    throw new UserError(`${file.name}: ${what} must be ${shape}-dimensional, got shape [${a.shape.join(", ")}]`);
  }
  return featureValues(a.data, file.name, a.dtype);
}

/** The opened inputs, checked against each other. */
interface OpenInputs {
  featureFiles: ArrayFile[];
  labelFiles: ArrayFile[];
  weightsFile: ArrayFile;
  weights: Float32Array | Float64Array;
  bias: Float32Array | Float64Array | null;
  k: number;
  d: number;
  source: SampleSource;
  shards: Shard[];
  ood?: FeatureSource;
}

/**
 * Opens the inputs into `open` (which the caller closes) and checks them:
 * the metrics' K × K matrices fit this machine's memory, the bias has K
 * entries, the features d columns, one labels file per features file.
 */
async function openInputs(
  specs: InputSpecs,
  o: MeasureFilesOptions,
  open: ArrayFile[],
): Promise<OpenInputs> {
  const featureFiles = await openAll(specs.features, "--features");
  open.push(...featureFiles);
  const labelFiles = await openAll(specs.labels, "--labels");
  open.push(...labelFiles);
  const weightsFile = (await openAll([specs.weights], "--weights"))[0];
  open.push(weightsFile);
  const weights = await readVector(weightsFile, "weights", 2);
  const [k, d] = weightsFile.header.shape;
  const need = measurementBytes(k, d);
  // Checked where --allow-sys lets us read the machine's memory (the task's does; a bare --allow-read does not).
  const budget = memoryBudget() ?? Infinity;
  if (need > budget) {
    throw new UserError(
      `${weightsFile.name}: K = ${k} classes in d = ${d} need about ${gigabytes(need)} for the ` +
        `metrics' K x K float64 matrices, more than the ${gigabytes(budget)} this machine can give`,
    );
  }
  let bias: Float32Array | Float64Array | null = null;
  if (specs.bias !== undefined) {
    const biasFile = (await openAll([specs.bias], "--bias"))[0];
    open.push(biasFile);
    bias = await readVector(biasFile, "bias", 1);
    if (bias.length !== k) throw new UserError(`${biasFile.name}: ${bias.length} entries for K = ${k} classes`);
  }
  const fShape = featureFiles[0].header.shape;
  if (fShape.length === 2 && fShape[1] !== d) {
    throw new UserError(
      `${weightsFile.name}: shape [${k}, ${d}] does not match feature dimension d = ${fShape[1]} ` +
        `of ${featureFiles[0].name}`,
    );
  }
  if (featureFiles.length !== labelFiles.length) {
    throw new UserError(
      `--labels: ${labelFiles.length} label file(s) for ${featureFiles.length} feature file(s); ` +
        "give one labels file per features file, in the same order",
    );
  }
  const shards: Shard[] = featureFiles.map((features, i) => ({ features, labels: labelFiles[i] }));
  const batchRows = o.batchRows ?? Math.max(1, Math.floor(BATCH_VALUES / d));
  const source = sampleSource(shards, k, d, batchRows);
  const oodFiles = o.oodFeatures ? await openAll(o.oodFeatures, "--ood-features") : [];
  open.push(...oodFiles);
  const ood = oodFiles.length > 0 ? featureSource(oodFiles, d, batchRows) : undefined;
  return { featureFiles, labelFiles, weightsFile, weights, bias, k, d, source, shards, ood };
}

/**
 * How pass 2's products run for K = `k` classes: the projector of
 * `projection: "float32"` (loading the tfjs backend), or float64, on
 * TensorFlow's double-precision kernels when there are many classes and the
 * native backend is installed. Throws {@linkcode UserError} for a backend
 * without `float32`.
 */
async function chooseProjection(
  o: MeasureFilesOptions,
  k: number,
): Promise<{ projector?: ProjectorFactory; note: string }> {
  if (o.projection === "float32") {
    // Loaded only here: the default path needs no tfjs and no permissions beyond reading.
    const { selectBackend } = await import("../backend/mod.ts");
    const backend = await selectBackend(o.backend ?? "auto", { needsConvTraining: false });
    const projector = (await import("../backend/projector.ts")).tfProjector;
    return { projector, note: `float32 products on tfjs ${backend.name}` };
  }
  if (o.backend !== undefined) throw new UserError("--backend applies only with --projection float32");
  if (pass2UsesNativeKernels(k, true)) {
    // Many classes: the float64 products are worth loading the native backend for, when it is installed.
    const { loadNativeBackend } = await import("../backend/native.ts");
    if ((await loadNativeBackend()).ok) {
      const { selectBackend } = await import("../backend/mod.ts");
      await selectBackend("tensorflow", { needsConvTraining: false });
      // Registered only where FFI may open TensorFlow's C library (the task's --allow-ffi names native/).
      if (pass2UsesNativeKernels(k)) return { note: "float64 on TensorFlow's double-precision kernels" };
    }
  }
  return { note: "float64" };
}

/**
 * Every metric of the arrays `o` names. Throws {@linkcode UserError} naming
 * the file or flag of a missing, unreadable or mismatched input.
 */
export async function measureFiles(o: MeasureFilesOptions): Promise<MeasuredFiles> {
  const specs = await inputSpecs(o);
  const open: ArrayFile[] = [];
  try {
    const inputs = await openInputs(specs, o, open);
    const { k, d, source, ood } = inputs;
    const projection = await chooseProjection(o, k);
    const metrics = await measureBatches(source, d, inputs.weights, inputs.bias, {
      names: {
        features: inputs.featureFiles.map((f) => f.name).join(", "),
        labels: inputs.labelFiles.map((f) => f.name).join(", "),
        weights: inputs.weightsFile.name,
        bias: specs.bias ?? "bias",
      },
      projector: projection.projector,
      outOfDistribution: ood,
      onProgress: o.onProgress,
    });
    return {
      metrics,
      n: source.count,
      shards: inputs.shards.length,
      k,
      d,
      hasBias: inputs.bias !== null,
      oodCount: ood?.count,
      projection: projection.note,
    };
  } finally {
    for (const f of open) f.close();
  }
}
