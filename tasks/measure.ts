/**
 * `deno task measure`: every neural-collapse metric of arrays on disk, read
 * in batches of rows (memory O(K·d + batch·d) whatever N is).
 *
 *   deno task measure --features H.npy --labels y.npy --weights W.npy [--bias b.npy] [--json]
 *   deno task measure --npz run.npz                       (keys features, labels, W, b)
 *   deno task measure --features 'h_rank*.npy' --labels 'y_rank*.npy' --weights W.npy
 *   deno task measure ... --ood-features ood.npy          (adds NC5)
 *                     [--projection float32 [--backend auto|tensorflow|wasm|cpu]]
 *
 * Arrays are `.npy` as NumPy writes them (C or Fortran order, either byte
 * order, float16/32/64, any integer labels, versions 1–3), members of `.npz`
 * archives (`file.npz:key`), or JSON arrays. Feature and label lists (comma
 * lists or globs, one file per shard, paired in order) are measured as one
 * set. With --json prints one JSON object, otherwise a table; on a terminal a
 * progress bar shows samples/s. `--projection float32` does the N·d·K
 * products as float32 matrix products on a tfjs backend (several times
 * faster on large inputs, ≈ 1e-6 relative on NC1); the default is float64
 * JavaScript on two threads.
 */
import { METRICS } from "../src/metrics/table.ts";
import {
  measureBatches,
  type MeasuredMetrics,
  measurementBytes,
  pass2UsesNativeKernels,
  type ProjectorFactory,
} from "../src/metrics/mod.ts";
import {
  type ArrayFile,
  expandPaths,
  featureSource,
  featureValues,
  openArrayFile,
  sampleSource,
  type Shard,
} from "../src/arrays/mod.ts";
import { UserError } from "../src/errors.ts";
import { gigabytes, memoryBudget } from "../src/run/budget.ts";
import { defineFlags, runTask } from "../src/cli.ts";
import { ProgressBar } from "./_progress.ts";

const USAGE = "deno task measure (--features F.npy --labels L.npy --weights W.npy [--bias B.npy] | --npz A.npz) " +
  "[--ood-features O.npy] [--json] [--projection float64|float32] [--backend auto|tensorflow|wasm|cpu]";

const BACKEND_CHOICES = ["auto", "tensorflow", "wasm", "cpu"] as const;

const SPECS = defineFlags([
  {
    name: "features",
    type: "paths",
    expect: "file",
    help: "features [N, d]: .npy, .npz:key or .json; a comma list or glob of shards is one set",
  },
  { name: "labels", type: "paths", expect: "file", help: "integer labels [N] in [0, K), one file per features file" },
  { name: "weights", type: "path", expect: "file", help: "classifier weights W [K, d]" },
  { name: "bias", type: "path", expect: "file", help: "classifier bias b [K] (default: zeros)" },
  {
    name: "npz",
    type: "path",
    expect: "file",
    help: "archive with keys features, labels, W and optionally b (flags above override)",
  },
  {
    name: "ood-features",
    type: "paths",
    expect: "file",
    help: "out-of-distribution features [M, d] for NC5 (list or glob)",
  },
  { name: "batch-rows", type: "int", min: 1, help: "rows read at a time (default: about 8 M values' worth)" },
  { name: "json", type: "boolean", default: false, help: "print one JSON object" },
  {
    name: "projection",
    type: "choice",
    choices: ["float64", "float32"],
    default: "float64",
    help: "pass 2's N·d·K products: float64 JavaScript, or float32 matrix products on a tfjs backend",
  },
  {
    name: "backend",
    type: "choice",
    choices: BACKEND_CHOICES,
    help: "tfjs backend of --projection float32 (default auto: native, else wasm)",
  },
]);

/** Output rows: the metric table's rows that are measured from features. */
const ROWS = METRICS.filter((m) => m.features).map((m) =>
  [m.key, m.key as keyof MeasuredMetrics, m.definition] as const
);

/** Values read at a time: 32 MB of float32, enough for full-speed matrix products. */
const BATCH_VALUES = 1 << 23;

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

async function readVector(file: ArrayFile, what: string, shape: number): Promise<Float32Array | Float64Array> {
  const a = await file.readAll();
  if (a.shape.length !== shape) {
    throw new UserError(`${file.name}: ${what} must be ${shape}-dimensional, got shape [${a.shape.join(", ")}]`);
  }
  return featureValues(a.data, file.name, a.dtype);
}

if (import.meta.main) {
  await runTask(USAGE, SPECS, async (flags) => {
    const npz = flags.npz;
    const fromNpz = (key: string) => (npz === undefined ? undefined : `${npz}:${key}`);
    const featureSpecs = flags.features ?? (npz ? [fromNpz("features")!] : undefined);
    const labelSpecs = flags.labels ?? (npz ? [fromNpz("labels")!] : undefined);
    const weightSpec = flags.weights ?? fromNpz("W");
    for (const [name, v] of [["features", featureSpecs], ["labels", labelSpecs], ["weights", weightSpec]] as const) {
      if (v === undefined || v.length === 0) throw new UserError(`--${name} is required (or --npz); usage: ${USAGE}`);
    }
    let biasSpec = flags.bias;
    if (biasSpec === undefined && npz !== undefined) {
      // b is optional in an archive: use it when present.
      const probe = await openArrayFile(fromNpz("b")!).catch((e) => {
        if (e instanceof UserError && e.message.includes("no array 'b'")) return null;
        throw e;
      });
      if (probe !== null) {
        probe.close();
        biasSpec = fromNpz("b");
      }
    }

    const open: ArrayFile[] = [];
    try {
      const featureFiles = await openAll(featureSpecs!, "--features");
      open.push(...featureFiles);
      const labelFiles = await openAll(labelSpecs!, "--labels");
      open.push(...labelFiles);
      const weightsFile = (await openAll([weightSpec!], "--weights"))[0];
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
      if (biasSpec !== undefined) {
        const biasFile = (await openAll([biasSpec], "--bias"))[0];
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
      const batchRows = flags["batch-rows"] ?? Math.max(1, Math.floor(BATCH_VALUES / d));
      const source = sampleSource(shards, k, d, batchRows);
      const oodFiles = flags["ood-features"] ? await openAll(flags["ood-features"], "--ood-features") : [];
      open.push(...oodFiles);
      const ood = oodFiles.length > 0 ? featureSource(oodFiles, d, batchRows) : undefined;

      let projector: ProjectorFactory | undefined;
      let projectionNote = "float64";
      if (flags.projection === "float32") {
        // Loaded only here: the default path needs no tfjs and no permissions beyond reading.
        const { selectBackend } = await import("../src/backend/mod.ts");
        const backend = await selectBackend((flags.backend ?? "auto") as typeof BACKEND_CHOICES[number], {
          needsConvTraining: false,
        });
        projector = (await import("../src/backend/projector.ts")).tfProjector;
        projectionNote = `float32 products on tfjs ${backend.name}`;
      } else if (flags.backend !== undefined) {
        throw new UserError("--backend applies only with --projection float32");
      } else if (pass2UsesNativeKernels(k, true)) {
        // Many classes: the float64 products are worth loading the native backend for, when it is installed.
        const { loadNativeBackend } = await import("../src/backend/native.ts");
        if ((await loadNativeBackend()).ok) {
          const { selectBackend } = await import("../src/backend/mod.ts");
          await selectBackend("tensorflow", { needsConvTraining: false });
          // Registered only where FFI may open TensorFlow's C library (the task's --allow-ffi names native/).
          if (pass2UsesNativeKernels(k)) projectionNote = "float64 on TensorFlow's double-precision kernels";
        }
      }

      const bars = new Map<string, ProgressBar>();
      const started = new Map<string, number>();
      const m = await measureBatches(source, d, weights, bias, {
        names: {
          features: featureFiles.map((f) => f.name).join(", "),
          labels: labelFiles.map((f) => f.name).join(", "),
          weights: weightsFile.name,
          bias: biasSpec ?? "bias",
        },
        projector,
        outOfDistribution: ood,
        onProgress: (pass, done, total) => {
          let bar = bars.get(pass);
          if (bar === undefined) {
            for (const b of bars.values()) b.done();
            bar = new ProgressBar(pass, total);
            bars.set(pass, bar);
            started.set(pass, performance.now());
          }
          const seconds = (performance.now() - started.get(pass)!) / 1000;
          bar.update(done, seconds > 0 ? `${Math.round(done / seconds)} samples/s` : "");
        },
      });
      for (const b of bars.values()) b.done();

      const rows = ROWS.filter(([, field]) => m[field] !== undefined);
      if (flags.json) {
        console.log(JSON.stringify(Object.fromEntries(rows.map(([key, field]) => [key, m[field]]))));
        return;
      }
      const shardNote = shards.length > 1 ? ` in ${shards.length} shards` : "";
      console.log(
        `N = ${source.count}${shardNote}, K = ${k}, d = ${d}${bias === null ? ", b = 0" : ""}` +
          `${ood ? `, ${ood.count} out-of-distribution samples` : ""}; projections ${projectionNote}`,
      );
      for (const [key, field, description] of rows) {
        console.log(`${key.padEnd(18)}${formatValue(m[field]!).padStart(14)}   ${description}`);
      }
    } finally {
      for (const f of open) f.close();
    }
  });
}

function formatValue(v: number): string {
  return v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(4) : v.toFixed(6);
}
