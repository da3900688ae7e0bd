/**
 * `deno task measure`: every neural-collapse metric of arrays on disk.
 *
 *   deno task measure --features H.npy --labels y.npy --weights W.npy [--bias b.npy] [--json]
 *                     [--projection float32 [--backend auto|tensorflow|wasm|cpu]]
 *
 * Arrays are `.npy` (little-endian, C order) or nested JSON arrays: features
 * [N, d], labels [N] (integers in [0, K)), weights [K, d], bias [K]; without
 * --bias, b = 0. With --json prints one JSON object, otherwise a table.
 * `--projection float32` does the N·d·K products as float32 matrix products
 * on a tfjs backend (several times faster on large inputs, ≈ 1e-6 relative
 * on NC1); the default is float64 JavaScript on two threads.
 */
import { type NeuralCollapseMetrics, neuralCollapseMetrics, type ProjectorFactory } from "../src/metrics/mod.ts";
import { isIntegerDtype, type NdArray, numericData, readArrayFile } from "../src/npy.ts";
import { UserError } from "../src/errors.ts";
import { type FlagSpec, runTask } from "./_cli.ts";

const USAGE = "deno task measure --features F.npy --labels L.npy --weights W.npy [--bias B.npy] [--json] " +
  "[--projection float64|float32] [--backend auto|tensorflow|wasm|cpu]   (.npy or .json)";

const BACKEND_CHOICES = ["auto", "tensorflow", "wasm", "cpu"] as const;

const SPECS: FlagSpec[] = [
  { name: "features", type: "path", expect: "file", help: "features [N, d] (.npy or .json)" },
  { name: "labels", type: "path", expect: "file", help: "integer labels [N] in [0, K)" },
  { name: "weights", type: "path", expect: "file", help: "classifier weights W [K, d]" },
  { name: "bias", type: "path", expect: "file", help: "classifier bias b [K] (default: zeros)" },
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
];

/** Output rows: JSON key, metric field, description. */
const ROWS: [string, keyof NeuralCollapseMetrics, string][] = [
  ["nc1", "nc1", "tr(Σ_W Σ_B^†)/K"],
  ["nc2", "nc2", "simplex-ETF distance of the centred classifier"],
  ["nc3", "nc3", "self-duality: ETF distance of W̃H"],
  ["nc4_bias", "nc4_bias", "‖W μ_G + b‖ (reference NC4)"],
  ["nc4_ncc", "nc4_ncc", "classifier vs nearest-class-centre mismatch (fraction)"],
  ["equinorm_means", "equinorm_means", "std/mean of ‖μ_k − μ_G‖"],
  ["equinorm_weights", "equinorm_weights", "std/mean of ‖w_k‖"],
  ["equiangularity", "equiangularity", "std of pairwise cosines of centred means"],
  ["max_angle", "max_angle", "mean |cos + 1/(K−1)|"],
  ["cdnv", "cdnv", "class-distance normalised variance"],
  ["accuracy", "top1", "top-1 accuracy (%)"],
  ["top5", "top5", "top-5 accuracy (%)"],
];

function requirePath(flags: Record<string, unknown>, name: string): string {
  const v = flags[name];
  if (typeof v !== "string" || v === "") throw new UserError(`--${name} is required; usage: ${USAGE}`);
  return v;
}

function requireShape(a: NdArray, path: string, what: string, ndim: number): void {
  if (a.shape.length !== ndim) {
    throw new UserError(`${path}: ${what} must be ${ndim}-dimensional, got shape [${a.shape.join(", ")}]`);
  }
}

function asFloats(a: NdArray, path: string): Float32Array | Float64Array {
  if (a.dtype === "bool") throw new UserError(`${path}: expected numbers, got dtype bool`);
  const d = numericData(a, path);
  return d instanceof Float32Array || d instanceof Float64Array ? d : Float64Array.from(d);
}

runTask(USAGE, SPECS, async (flags) => {
  const paths = {
    features: requirePath(flags, "features"),
    labels: requirePath(flags, "labels"),
    weights: requirePath(flags, "weights"),
    bias: typeof flags.bias === "string" ? flags.bias : "",
  };
  const features = await readArrayFile(paths.features);
  const labels = await readArrayFile(paths.labels);
  const weights = await readArrayFile(paths.weights);
  const bias = paths.bias === "" ? null : await readArrayFile(paths.bias);

  requireShape(features, paths.features, "features", 2);
  requireShape(labels, paths.labels, "labels", 1);
  requireShape(weights, paths.weights, "weights", 2);
  const [n, d] = features.shape;
  const [k, dw] = weights.shape;
  if (labels.shape[0] !== n) {
    throw new UserError(`${paths.labels}: ${labels.shape[0]} labels for ${n} feature rows in ${paths.features}`);
  }
  if (dw !== d) {
    throw new UserError(`${paths.weights}: shape [${k}, ${dw}] does not match feature dimension d = ${d}`);
  }
  if (labels.dtype !== "float64" && !isIntegerDtype(labels.dtype)) {
    throw new UserError(`${paths.labels}: labels must have an integer dtype, got ${labels.dtype}`);
  }
  if (bias !== null) {
    requireShape(bias, paths.bias, "bias", 1);
    if (bias.shape[0] !== k) throw new UserError(`${paths.bias}: ${bias.shape[0]} entries for K = ${k} classes`);
  }

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
  }

  const m = neuralCollapseMetrics(
    asFloats(features, paths.features),
    numericData(labels, paths.labels),
    asFloats(weights, paths.weights),
    bias === null ? null : asFloats(bias, paths.bias),
    { names: paths, projector },
  );

  if (flags.json) {
    console.log(JSON.stringify(Object.fromEntries(ROWS.map(([key, field]) => [key, m[field]]))));
    return;
  }
  console.log(`N = ${n}, K = ${k}, d = ${d}${bias === null ? ", b = 0" : ""}; projections ${projectionNote}`);
  for (const [key, field, description] of ROWS) {
    console.log(`${key.padEnd(18)}${formatValue(m[field]).padStart(14)}   ${description}`);
  }
});

function formatValue(v: number): string {
  return v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(4) : v.toFixed(6);
}
