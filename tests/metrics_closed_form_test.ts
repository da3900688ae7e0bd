/**
 * Neural-collapse metrics on inputs whose values are known in closed form:
 * exact simplex ETFs (scaled, rotated, offset), hand-computed NC1 and CDNV,
 * a rank-deficient Σ_B, and every degenerate case the accumulator documents.
 */
import { assert, assertClose, assertThrows } from "./_assert.ts";
import { NeuralCollapseAccumulator, neuralCollapseMetrics, simplexEtfDistance } from "../src/metrics/mod.ts";
import { UserError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";
import { etfPlaneWithNoise } from "./_metrics_cases.ts";

/** A random d × d orthogonal matrix (Gram–Schmidt of Gaussian columns), row-major. */
function randomRotation(rng: Rng, d: number): Float64Array {
  const q = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    const v = new Float64Array(d);
    for (let i = 0; i < d; i++) v[i] = rng.normal();
    for (let p = 0; p < c; p++) {
      let dp = 0;
      for (let i = 0; i < d; i++) dp += v[i] * q[i * d + p];
      for (let i = 0; i < d; i++) v[i] -= dp * q[i * d + p];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < d; i++) q[i * d + c] = v[i] / norm;
  }
  return q;
}

/**
 * K class means on a simplex ETF in ℝ^d (d ≥ K): vertex k is
 * R·α·√(K/(K−1))·(e_k − 1/K), plus the offset c. Returns the means [K, d].
 */
function etfMeans(k: number, d: number, alpha: number, rotation: Float64Array, offset: number): Float64Array {
  const mu = new Float64Array(k * d);
  const s = alpha * Math.sqrt(k / (k - 1));
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v += rotation[i * d + j] * s * ((j === c ? 1 : 0) - 1 / k);
      mu[c * d + i] = v + offset;
    }
  }
  return mu;
}

for (const [k, d] of [[2, 2], [3, 5], [10, 10], [10, 16]]) {
  Deno.test(`exact simplex ETF, K=${k}, d=${d}, scaled, rotated and offset: every NC metric is 0`, () => {
    const rng = new Rng(k * 100 + d);
    const rotation = randomRotation(rng, d);
    const offset = 2.5;
    const mu = etfMeans(k, d, 3, rotation, offset);
    const perClass = 4;
    const n = k * perClass;
    const labels = new Int32Array(n);
    const features = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      labels[i] = (i * 7) % k;
      features.set(mu.subarray(labels[i] * d, (labels[i] + 1) * d), i * d);
    }
    // W aligned with the centred means (scale 0.7), b = −W c cancels the offset.
    const w = new Float64Array(k * d);
    const b = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < d; i++) {
        w[c * d + i] = 0.7 * (mu[c * d + i] - offset);
        b[c] -= w[c * d + i] * offset;
      }
    }
    const m = neuralCollapseMetrics(features, labels, w, b);
    const tol = 1e-12;
    assertClose(m.nc1, 0, { abs: tol }, "nc1");
    assertClose(m.nc2, 0, { abs: 1e-7 }, "nc2");
    assertClose(m.nc3, 0, { abs: 1e-7 }, "nc3");
    assertClose(m.nc4_bias, 0, { abs: 1e-11 }, "nc4_bias");
    assertClose(m.nc4_ncc, 0, { abs: 0 }, "nc4_ncc");
    assertClose(m.equinorm_means, 0, { abs: 1e-7 }, "equinorm_means");
    assertClose(m.equinorm_weights, 0, { abs: 1e-7 }, "equinorm_weights");
    assertClose(m.equiangularity, 0, { abs: 1e-7 }, "equiangularity");
    assertClose(m.max_angle, 0, { abs: 1e-12 }, "max_angle");
    assertClose(m.cdnv, 0, { abs: tol }, "cdnv");
    assertClose(m.top1, 100, { abs: 0 }, "top1");
    assertClose(m.top5, 100, { abs: 0 }, "top5");
  });
}

Deno.test("K=2, d=1: NC1 = s²/2 and CDNV = s²/4 by hand", () => {
  // Class 0 at 1 ± s, class 1 at −1 ± s: μ_G = 0, Σ_B = 1, Σ_W = s².
  const s = 0.3;
  const features = new Float64Array([1 + s, 1 - s, -1 + s, -1 - s]);
  const labels = [0, 0, 1, 1];
  const m = neuralCollapseMetrics(features, labels, new Float64Array([1, -1]), null);
  assertClose(m.nc1, s * s / 2, { abs: 1e-15 }, "nc1");
  // σ_k² = s², ‖μ_0 − μ_1‖² = 4: (s² + s²)/(2·4).
  assertClose(m.cdnv, s * s / 4, { abs: 1e-15 }, "cdnv");
  assertClose(m.nc2, 0, { abs: 1e-15 }, "nc2");
  assertClose(m.nc3, 0, { abs: 1e-15 }, "nc3");
  assertClose(m.top1, 100, { abs: 0 }, "top1");
  assertClose(m.top5, 100, { abs: 0 }, "top5 (K < 5)");
  // K = 2: the one cosine is −1, so max_angle = |−1 + 1| = 0 and equiangularity = 0.
  assertClose(m.max_angle, 0, { abs: 1e-15 }, "max_angle");
  assertClose(m.equiangularity, 0, { abs: 0 }, "equiangularity");
});

Deno.test("K=3 ETF in the plane with noise along x: NC1 = 2s²/(3r²)", () => {
  // Means at radius r, angles 90°, 210°, 330°: Σ_B = (r²/2) I, Σ_B^† = (2/r²) I; Σ_W = diag(s², 0).
  const r = 2;
  const s = 0.25;
  const { features, labels, w } = etfPlaneWithNoise(r, s);
  const m = neuralCollapseMetrics(features, labels, w, null);
  assertClose(m.nc1, (2 * s * s) / (3 * r * r), { abs: 1e-14 }, "nc1");
  assertClose(m.nc2, 0, { abs: 1e-7 }, "nc2");
  assertClose(m.nc3, 0, { abs: 1e-7 }, "nc3");
  assertClose(m.equinorm_means, 0, { abs: 1e-7 }, "equinorm_means");
  assertClose(m.max_angle, 0, { abs: 1e-14 }, "max_angle");
});

Deno.test("rank-deficient Σ_B (three collinear class means): noise off the line is ignored", () => {
  // Means at x = −1, 0, 1 on the x-axis: Σ_B = (2/3) e_x e_xᵀ, Σ_B^† = (3/2) e_x e_xᵀ.
  // Noise ±a in x and ±c in y: Σ_W = diag(a², c²), so NC1 = (1/3)(3/2)a² = a²/2 whatever c is.
  const a = 0.2;
  for (const c of [0, 0.5, 3]) {
    const features: number[] = [];
    const labels: number[] = [];
    for (let k = 0; k < 3; k++) {
      for (const [sx, sy] of [[1, 1], [-1, -1], [1, -1], [-1, 1]]) {
        features.push(k - 1 + sx * a, sy * c);
        labels.push(k);
      }
    }
    const m = neuralCollapseMetrics(new Float64Array(features), labels, new Float64Array([-1, 0, 0, 0, 1, 0]), null);
    assertClose(m.nc1, a * a / 2, { abs: 1e-14 }, `nc1 with c = ${c}`);
  }
});

Deno.test("classifier opposite to the ETF: top-1 0, top-5 100 for K < 5, every sample disagrees with NCC", () => {
  const k = 3;
  const d = 3;
  const mu = etfMeans(k, d, 1, new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), 0);
  const w = mu.map((v) => -v);
  const m = neuralCollapseMetrics(mu, [0, 1, 2], w, null);
  assertClose(m.top1, 0, { abs: 0 }, "top1");
  assertClose(m.top5, 100, { abs: 0 }, "top5");
  assertClose(m.nc4_ncc, 1, { abs: 0 }, "nc4_ncc");
  assertClose(m.nc2, 0, { abs: 1e-7 }, "nc2 (−ETF is still an ETF)");
  // W̃H = −(ETF Gram): as far from the ETF as a matrix of unit norm can be.
  assertClose(m.nc3, 2, { abs: 1e-7 }, "nc3");
});

Deno.test("nc4_bias is ‖W μ_G + b‖", () => {
  // μ_G = (1, 2); W μ_G = (1, −2); b = (2, 4): ‖(3, 2)‖ = √13.
  const features = new Float64Array([0, 2, 2, 2]);
  const m = neuralCollapseMetrics(features, [0, 1], new Float64Array([1, 0, 0, -1]), new Float64Array([2, 4]));
  assertClose(m.nc4_bias, Math.sqrt(13), { abs: 1e-15 }, "nc4_bias");
});

Deno.test("top-5 counts ranks 0–4 with ties broken towards the lower class", () => {
  // K = 7, d = 1, one sample h = 1 of class 5; logits = W h: classes 0–4 score 2, class 5 scores 1, class 6 scores 0.
  const w = new Float64Array([2, 2, 2, 2, 2, 1, 0]);
  // Classes 0..6 need samples; only sample 0 is scored against class 5's rank.
  const features = new Float64Array([1, 10, 20, 30, 40, 50, 60]);
  const labels = [5, 0, 1, 2, 3, 4, 6];
  const m = neuralCollapseMetrics(features, labels, w, null);
  // Sample 0: five classes ahead → rank 5 → not top-5. Samples of classes 0–4: logit 2h is the max,
  // ties resolved towards class 0, so classes 1–4 have ranks 1–4 (top-5, not top-1); class 6 rank 6.
  assertClose(m.top1, (100 * 1) / 7, { abs: 1e-12 }, "top1");
  assertClose(m.top5, (100 * 5) / 7, { abs: 1e-12 }, "top5");
});

Deno.test("simplexEtfDistance: hand values and the zero-matrix convention", () => {
  assertClose(simplexEtfDistance(new Float64Array([5, -5, -5, 5]), 2), 0, { abs: 1e-15 }, "ETF K=2");
  // ‖I/√2 − T‖² = 2 − 2⟨I/√2, T⟩ = 2 − √2.
  assertClose(
    simplexEtfDistance(new Float64Array([1, 0, 0, 1]), 2),
    Math.sqrt(2 - Math.SQRT2),
    { abs: 1e-15 },
    "identity",
  );
  assertClose(simplexEtfDistance(new Float64Array(9), 3), 1, { abs: 1e-15 }, "zero matrix");
  assertThrows(() => simplexEtfDistance(new Float64Array(4), 3), RangeError);
});

Deno.test("identical features: every metric finite, with the documented values", () => {
  const k = 4;
  const features = new Float64Array(8 * 3).fill(0.5);
  const labels = [0, 1, 2, 3, 0, 1, 2, 3];
  const w = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
  const m = neuralCollapseMetrics(features, labels, w, null);
  for (const [key, v] of Object.entries(m)) assert(Number.isFinite(v), `${key} = ${v}`);
  assertClose(m.nc1, 0, { abs: 0 }, "nc1 (Σ_B^† = 0)");
  assertClose(m.nc3, 1, { abs: 1e-15 }, "nc3 (W̃H = 0)");
  assertClose(m.equinorm_means, 0, { abs: 0 }, "equinorm_means");
  assertClose(m.equiangularity, 0, { abs: 0 }, "equiangularity");
  assertClose(m.max_angle, 1 / (k - 1), { abs: 1e-15 }, "max_angle");
  assertClose(m.cdnv, 0, { abs: 0 }, "cdnv");
  // All samples sit on every class centre: NCC picks class 0, the classifier picks class 3 (largest logit).
  assertClose(m.nc4_ncc, 1, { abs: 0 }, "nc4_ncc");
});

Deno.test("classifier with equal rows: NC2 = 1; zero classifier: equinorm_weights = 0", () => {
  const features = new Float64Array([1, 0, 0, 1, -1, -1]);
  const labels = [0, 1, 2];
  const equalRows = neuralCollapseMetrics(features, labels, new Float64Array([1, 2, 1, 2, 1, 2]), null);
  assertClose(equalRows.nc2, 1, { abs: 1e-15 }, "nc2");
  assertClose(equalRows.nc3, 1, { abs: 1e-15 }, "nc3");
  assertClose(equalRows.equinorm_weights, 0, { abs: 1e-15 }, "equinorm_weights");
  const zero = neuralCollapseMetrics(features, labels, new Float64Array(6), null);
  assertClose(zero.equinorm_weights, 0, { abs: 0 }, "equinorm_weights of W = 0");
});

function throwsUserError(f: () => unknown, pattern: RegExp): void {
  assertThrows(f, UserError, pattern);
}

Deno.test("bad inputs raise one-line UserErrors naming the problem", () => {
  const w = new Float64Array([1, 0, 0, 1, -1, -1]);
  const f = new Float64Array([1, 0, 0, 1, -1, -1, 2, 2]);
  throwsUserError(
    () => neuralCollapseMetrics(f, [0, 1, 0, 1], w, null),
    /labels: class 2 has no samples, so its mean μ_2 is undefined \(K = 3 classes from the 3 rows of weights;/,
  );
  throwsUserError(() => neuralCollapseMetrics(f, [0, 1, 2, 3], w, null), /label 3 at index 3/);
  throwsUserError(() => neuralCollapseMetrics(f, [0, 1, -1, 2], w, null), /label -1 at index 2/);
  throwsUserError(() => neuralCollapseMetrics(f, [0, 1, 2, 0.5], w, null), /label 0.5/);
  throwsUserError(() => neuralCollapseMetrics(f, [0, 1, 2], w, null), /do not form 3 rows/);
  throwsUserError(() => neuralCollapseMetrics(f, [0, 1, 2, 0], new Float64Array(5), null), /feature dimension/);
  throwsUserError(
    () => neuralCollapseMetrics(f, [0, 1, 2, 0], w, new Float64Array(2)),
    /bias: expected K = 3 values, got 2/,
  );
  throwsUserError(() => neuralCollapseMetrics(f, [0, 0, 0, 0], new Float64Array([1, 1]), null), /at least 2 classes/);
  const nan = f.slice();
  nan[5] = NaN;
  throwsUserError(
    () => neuralCollapseMetrics(nan, [0, 1, 2, 0], w, null),
    /features: non-finite value NaN at row 2, column 1/,
  );
  const inf = w.slice();
  inf[1] = -Infinity;
  throwsUserError(
    () => neuralCollapseMetrics(f, [0, 1, 2, 0], inf, null),
    /weights: non-finite value -Infinity at row 0, column 1/,
  );
  throwsUserError(
    () => neuralCollapseMetrics(f, [0, 1, 2, 0], w, new Float64Array([0, NaN, 0])),
    /bias: non-finite value NaN at index 1/,
  );
  throwsUserError(() => neuralCollapseMetrics(new Float64Array(0), [], w, null), /no samples/);
  // Classes 0 and 1 share the mean (0, 0) but have spread: the CDNV would be infinite.
  throwsUserError(
    () => neuralCollapseMetrics(new Float64Array([1, 0, -1, 0, 0, 1, 0, -1, 5, 5]), [0, 0, 1, 1, 2], w, null),
    /classes 0 and 1 have identical means/,
  );
  // Custom names reach the messages.
  throwsUserError(
    () => neuralCollapseMetrics(f, [0, 1, 2, 7], w, null, { names: { labels: "y.npy" } }),
    /^y\.npy: label 7/,
  );
});

Deno.test("accumulator misuse (wrong pass order, different samples in pass 2) is a programming error", () => {
  const acc = new NeuralCollapseAccumulator(2, 1, new Float64Array([1, -1]), null);
  assertThrows(() => acc.addPass2(new Float64Array([1]), [0]), Error, /startPass2/);
  assertThrows(() => acc.result(), Error, /startPass2/);
  acc.addPass1(new Float64Array([1, -1]), [0, 1]);
  acc.startPass2();
  assertThrows(() => acc.addPass1(new Float64Array([1]), [0]), Error, /after startPass2/);
  acc.addPass2(new Float64Array([1]), [0]);
  assertThrows(() => acc.result(), Error, /pass 2 saw 0 samples of class 1, pass 1 saw 1/);
});
