/**
 * The metrics across the whole float64 range: features or W scaled far from 1
 * (× 1e±100, × 2^±1000, one entry of 1e160, W × 1e200) give the scale-invariant
 * metrics of the unscaled data, on the float64 path and the float32 projection
 * (which sees the data after its power-of-two scaling near 1, so it represents
 * every such input); a scale-dependent value that does not fit in float64
 * (nc4_bias, logits) is a UserError, and `deno task measure` never writes null.
 *
 * Tolerances: a power-of-two scale is exact, so 1e-12 relative covers it with
 * room to spare; × 1e±100 rounds every input once (1e-16 relative), which moves
 * the float64 metrics by far less than 1e-12 and the float32 projection's by up
 * to its own accuracy (≈ 1e-6, see the accumulator's notes).
 */
import { assert, assertClose, assertEquals, assertMatch, assertThrows } from "./_assert.ts";
import { selectBackend } from "../src/backend/mod.ts";
import { tfProjector } from "../src/backend/projector.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import {
  type MeasuredMetrics,
  NeuralCollapseAccumulator,
  neuralCollapseMetrics,
  type ProjectorFactory,
  syntheticFeatures,
} from "../src/metrics/mod.ts";
import { writeNpy } from "../src/arrays/npy.ts";
import { measure, MEASURED_KEYS } from "./_measure_task.ts";

type Key = keyof MeasuredMetrics;

/** Unchanged when the features are scaled (b fixed): every metric but nc4_bias and the classifier's decisions. */
const FEATURE_INVARIANT: Key[] = MEASURED_KEYS.filter((k) => !["nc4_bias", "nc4_ncc", "top1", "top5"].includes(k));
/** Unchanged when W is scaled (b = 0): every metric but nc4_bias. */
const WEIGHT_INVARIANT: Key[] = MEASURED_KEYS.filter((k) => k !== "nc4_bias");

const N = 600;
const K = 7;
const D = 11;
const data = syntheticFeatures(5, N, K, D, 0.5);
const features = Float64Array.from(data.features);
const weights = Float64Array.from(data.weights);
const bias = Float64Array.from(data.bias);
const base: MeasuredMetrics = neuralCollapseMetrics(features, data.labels, weights, bias, { threads: 1 });

const times = (a: Float64Array, s: number) => a.map((x) => x * s);

function assertSame(got: MeasuredMetrics, want: MeasuredMetrics, keys: Key[], rel: number, what: string) {
  for (const key of keys) assertClose(got[key]!, want[key]!, { rel }, `${what}: ${key}`);
}

const SCALES: [string, number][] = [
  ["1e-100", 1e-100],
  ["1e100", 1e100],
  ["2^-1000", 2 ** -1000],
  ["2^1000", 2 ** 1000],
];

Deno.test("features × 1e±100 and 2^±1000: scale-invariant metrics as unscaled, within 1e-12 (float64)", () => {
  for (const [name, s] of SCALES) {
    const f = times(features, s);
    assert(f.every(Number.isFinite), `${name}: features finite`);
    const m = neuralCollapseMetrics(f, data.labels, weights, bias, { threads: 1 });
    assertSame(m, base, FEATURE_INVARIANT, 1e-12, `features × ${name}`);
    // With b scaled alike, the logits are the unscaled ones × s: the decisions stay and nc4_bias scales.
    const ms = neuralCollapseMetrics(f, data.labels, weights, times(bias, s), { threads: 1 });
    assertSame(ms, base, ["top1", "top5", "nc4_ncc"], 0, `features and b × ${name}`);
    assertClose(ms.nc4_bias, base.nc4_bias * s, { rel: 1e-12 }, `features and b × ${name}: nc4_bias`);
  }
});

Deno.test("power-of-two scales are exact: the float64 metrics are bit for bit those of the unscaled data", () => {
  for (const s of [2 ** -1000, 2 ** -40, 2 ** 40, 2 ** 1000]) {
    const m: MeasuredMetrics = neuralCollapseMetrics(times(features, s), data.labels, weights, times(bias, s), {
      threads: 1,
    });
    for (const key of Object.keys(base) as Key[]) {
      assertEquals(m[key], key === "nc4_bias" ? base[key]! * s : base[key], `× 2^${Math.log2(s)}: ${key}`);
    }
  }
});

Deno.test("one feature entry of 1e160: finite metrics, the same at every scale of that data", () => {
  const f = features.slice();
  f[3 * D + 2] = 1e160;
  const m = neuralCollapseMetrics(f, data.labels, weights, bias, { threads: 1 });
  for (const [key, v] of Object.entries(m)) assert(Number.isFinite(v), `${key} = ${v}`);
  // nc1_svd keeps eigenvalues of any size (Han et al.'s truncated SVD); here all but one are ~1e-320 of the
  // largest, below float64's resolution, so it is as ill-conditioned as the reference's and only checked finite.
  const keys = FEATURE_INVARIANT.filter((k) => k !== "nc1_svd");
  for (const s of [2 ** -600, 2 ** 100]) {
    const ms = neuralCollapseMetrics(times(f, s), data.labels, weights, bias, { threads: 1 });
    assertSame(ms, m, keys, 1e-12, `entry 1e160, all × 2^${Math.log2(s)}`);
  }
  // × 1e-100 rounds every entry; the classes without the large entry are then ~1e-160 of the scale, their
  // squared distances (CDNV) subnormal in float64: resolved to ~1e-8 only, the other metrics to 1e-12.
  const ms = neuralCollapseMetrics(times(f, 1e-100), data.labels, weights, bias, { threads: 1 });
  assertSame(ms, m, keys.filter((k) => k !== "cdnv"), 1e-12, "entry 1e160, all × 1e-100");
  assertClose(ms.cdnv, m.cdnv, { rel: 1e-6 }, "entry 1e160, all × 1e-100: cdnv");
  // One class mean dominates: NC1 and the CDNV are large but defined.
  assert(m.nc1 > base.nc1);
});

Deno.test("W × 1e200 and × 1e-200 (b = 0): NC2, NC3 and every other scale-invariant metric unchanged", () => {
  const want = neuralCollapseMetrics(features, data.labels, weights, null, { threads: 1 });
  for (const s of [1e200, 1e-200, 2 ** 1000]) {
    const m = neuralCollapseMetrics(features, data.labels, times(weights, s), null, { threads: 1 });
    assertSame(m, want, WEIGHT_INVARIANT, 1e-12, `W × ${s}`);
    assertClose(m.nc4_bias, want.nc4_bias * s, { rel: 1e-12 }, `W × ${s}: nc4_bias`);
  }
  // Both scaled far: the metrics still match.
  const both = neuralCollapseMetrics(times(features, 1e-150), data.labels, times(weights, 1e200), null, {
    threads: 1,
  });
  assertSame(both, want, WEIGHT_INVARIANT, 1e-12, "features × 1e-150, W × 1e200");
});

Deno.test("nc4_bias or the logits beyond float64: a one-line UserError, never Infinity", () => {
  // ‖W μ_G + b‖ ≈ 2^2000 · ‖W μ_G‖: not a float64.
  const e = assertThrows(
    () => neuralCollapseMetrics(times(features, 2 ** 1000), data.labels, times(weights, 2 ** 1000), null),
    UserError,
    "nc4_bias",
  );
  assert(!e.message.includes("\n"));
  // b = 1e300 against W h ≈ 2^-2000: the logits cannot share one float64 scale.
  const b = new Float64Array(K).fill(1e300);
  b[0] = -1e300;
  const e2 = assertThrows(
    () => neuralCollapseMetrics(times(features, 2 ** -1000), data.labels, times(weights, 2 ** -1000), b),
    UserError,
    "logits",
  );
  assert(!e2.message.includes("\n"));
});

Deno.test("non-finite features, W or b are refused naming the input and the entry", () => {
  const f = features.slice();
  f[5 * D + 1] = NaN;
  assertThrows(() => neuralCollapseMetrics(f, data.labels, weights, bias), UserError, "row 5, column 1");
  const big = features.slice();
  big[2] = 1e160;
  big[9 * D] = Infinity;
  assertThrows(() => neuralCollapseMetrics(big, data.labels, weights, bias), UserError, "row 9, column 0");
  const w = weights.slice();
  w[D + 3] = -Infinity;
  assertThrows(() => neuralCollapseMetrics(features, data.labels, w, bias), UserError, "weights: non-finite");
  const b = bias.slice();
  b[2] = NaN;
  assertThrows(() => neuralCollapseMetrics(features, data.labels, weights, b), UserError, "bias: non-finite");
  const acc = new NeuralCollapseAccumulator(K, D, weights, bias);
  assertThrows(
    () => acc.addOutOfDistribution(new Float64Array(D).fill(Infinity)),
    UserError,
    "out-of-distribution features: non-finite",
  );
});

/** Runs the accumulator over `batches` row splits, pass 2 partly through fromPass2State, with OOD features. */
function streamed(f: Float64Array, ood: Float64Array, splits: number[]): MeasuredMetrics {
  const acc = new NeuralCollapseAccumulator(K, D, weights, bias);
  const bounds = [0, ...splits, N];
  for (let i = 0; i + 1 < bounds.length; i++) {
    acc.addPass1(f.subarray(bounds[i] * D, bounds[i + 1] * D), data.labels.slice(bounds[i], bounds[i + 1]));
  }
  acc.addOutOfDistribution(ood.subarray(0, 10 * D));
  acc.addOutOfDistribution(ood.subarray(10 * D));
  acc.startPass2();
  const part = NeuralCollapseAccumulator.fromPass2State(acc.pass2State());
  part.addPass2(f.subarray(0, 100 * D), data.labels.slice(0, 100));
  acc.addPass2(f.subarray(100 * D), data.labels.slice(100));
  acc.mergePass2(part.pass2Sums());
  return acc.result();
}

Deno.test("streaming: the feature scale follows the batches (rescaled sums), pass-2 state carries it, NC5 too", () => {
  const ood = Float64Array.from(syntheticFeatures(9, 40, K, D, 3).features, (x) => x + 2);
  const oneShot = streamed(features, ood, []);
  for (const [name, s] of SCALES) {
    const got = streamed(times(features, s), times(ood, s), [50, 333]);
    assertSame(got, oneShot, [...FEATURE_INVARIANT, "nc5"], 1e-12, `streamed × ${name}`);
  }
  // A batch far larger than the first ones changes the scale mid pass 1; OOD features at another scale.
  const f = features.slice();
  f[400 * D + 4] = 1e160;
  // Features and OOD features then have different shifts (≈ −531 and 0; ≈ 69 and 600 after × 2^-600).
  const want = streamed(f, ood, []);
  const got = streamed(times(f, 2 ** -600), times(ood, 2 ** -600), [30, 200]);
  assertSame(got, want, [...FEATURE_INVARIANT.filter((k) => k !== "nc1_svd"), "nc5"], 1e-12, "scale change");
  assertEquals(got.nc1_svd, want.nc1_svd);
});

Deno.test("float32 projection: features × 1e±100 and 2^±1000 as unscaled", async () => {
  await selectBackend("cpu", { needsConvTraining: false });
  const projector: ProjectorFactory = tfProjector;
  const want = neuralCollapseMetrics(features, data.labels, weights, bias, { projector });
  assertSame(want, base, ["nc1"], 1e-5, "float32 against float64");
  for (const [name, s] of SCALES) {
    const m = neuralCollapseMetrics(times(features, s), data.labels, weights, bias, { projector });
    assertSame(m, want, FEATURE_INVARIANT, Number.isInteger(Math.log2(s)) ? 1e-12 : 1e-6, `float32, × ${name}`);
  }
  const w = neuralCollapseMetrics(features, data.labels, times(weights, 1e200), null, { projector });
  const w0 = neuralCollapseMetrics(features, data.labels, weights, null, { projector });
  assertSame(w, w0, WEIGHT_INVARIANT, 1e-6, "float32, W × 1e200");
});

Deno.test("deno task measure --json on .npy far from 1: no null, exit 0; an overflowing nc4_bias exits 2 with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = (name: string) => joinPath(dir, name);
    const npy = (name: string, a: Float64Array, shape: number[]) =>
      Deno.writeFile(p(name), writeNpy({ dtype: "float64", shape, data: a }));
    await Deno.writeFile(p("y.npy"), writeNpy({ dtype: "int32", shape: [N], data: Int32Array.from(data.labels) }));
    await npy("w.npy", weights, [K, D]);
    await npy("w_big.npy", times(weights, 1e200), [K, D]);
    await npy("w_huge.npy", times(weights, 2 ** 1000), [K, D]);
    const one = features.slice();
    one[7] = 1e160;
    const cases: [string, Float64Array, string][] = [
      ["f_small.npy", times(features, 1e-100), "w.npy"],
      ["f_large.npy", times(features, 1e100), "w.npy"],
      ["f_one.npy", one, "w.npy"],
      ["f.npy", features, "w_big.npy"],
    ];
    for (const [name, f, w] of cases) {
      await npy(name, f, [N, D]);
      const r = await measure(["--features", p(name), "--labels", p("y.npy"), "--weights", p(w), "--json"]);
      assertEquals(r.code, 0, `${name}, ${w}: ${r.stderr}`);
      assert(!r.stdout.includes("null"), r.stdout);
      const got = JSON.parse(r.stdout) as Record<string, number>;
      const want: MeasuredMetrics = neuralCollapseMetrics(
        f,
        data.labels,
        w === "w_big.npy" ? times(weights, 1e200) : weights,
        null,
      );
      // The task reads in batches on two threads: the same sums in another order.
      for (const key of FEATURE_INVARIANT) {
        // nc1_svd of the 1e160 case is below float64's resolution (see above): checked finite only.
        if (key === "nc1_svd" && name === "f_one.npy") assert(Number.isFinite(got[key]));
        else assertClose(got[key], want[key]!, { rel: 1e-12 }, `${name}, ${w}: ${key}`);
      }
      if (name !== "f_one.npy") assertClose(got.nc1, base.nc1, { rel: 1e-12 }, `${name}, ${w}: nc1 as unscaled`);
    }
    await npy("f_huge.npy", times(features, 2 ** 1000), [N, D]);
    const r = await measure(["--features", p("f_huge.npy"), "--labels", p("y.npy"), "--weights", p("w_huge.npy")]);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assertMatch(r.stderr, /w_huge\.npy.*nc4_bias.*overflows float64/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
