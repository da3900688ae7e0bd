/**
 * The UFM's Neural-Collapse points and the package's metrics (`src/metrics/`, which the UFM uses) on UFM-shaped
 * points whose values are known by hand.
 */
import { assert, assertEquals } from "./_assert.ts";
import { neuralCollapseMetrics } from "../src/metrics/mod.ts";
import { Rng } from "../src/rng.ts";
import { productNT } from "./_matrix.ts";
import { simplexEtf } from "../src/ufm/mod.ts";

Deno.test("simplexEtf: unit rows with pairwise inner products −1/(K−1), also for d = K − 1", () => {
  for (const [K, d] of [[2, 1], [3, 2], [5, 4], [10, 32]]) {
    const M = simplexEtf(K, d);
    const gram = productNT(M, M, K, K, d);
    for (let a = 0; a < K; a++) {
      for (let b = 0; b < K; b++) {
        const s = gram[a * K + b];
        const want = a === b ? 1 : -1 / (K - 1);
        assert(Math.abs(s - want) < 1e-14, `K=${K} d=${d} (${a},${b}): ${s}`);
      }
    }
  }
});

Deno.test("neuralCollapseMetrics: a collapsed, self-dual simplex ETF scores 0 on NC1, NC2, NC3 (any scale, any rotation)", () => {
  const K = 4, d = 6, n = 3;
  const M = simplexEtf(K, d);
  // A random orthogonal transform of the ETF (Gram–Schmidt of a Gaussian matrix), scaled differently for W and H.
  const rng = new Rng(3);
  const Q = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) Q[i] = rng.normal();
  for (let r = 0; r < d; r++) {
    for (let p = 0; p < r; p++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += Q[r * d + j] * Q[p * d + j];
      for (let j = 0; j < d; j++) Q[r * d + j] -= dot * Q[p * d + j];
    }
    let nrm = 0;
    for (let j = 0; j < d; j++) nrm += Q[r * d + j] ** 2;
    for (let j = 0; j < d; j++) Q[r * d + j] /= Math.sqrt(nrm);
  }
  const rot = productNT(M, Q, K, d, d); // M Qᵀ: the rows of M in the orthonormal basis Q's rows
  const W = rot.map((v) => 7 * v);
  const H = new Float64Array(K * n * d);
  const labels = new Int32Array(K * n);
  for (let i = 0; i < K * n; i++) {
    labels[i] = i % K;
    for (let j = 0; j < d; j++) H[i * d + j] = 0.3 * rot[labels[i] * d + j];
  }
  const m = neuralCollapseMetrics(H, labels, W, null);
  assert(m.nc1 < 1e-25, `nc1 ${m.nc1}`);
  assert(m.nc2 < 1e-12, `nc2 ${m.nc2}`);
  assert(m.nc3 < 1e-12, `nc3 ${m.nc3}`);
  // μ_G = 0 for a simplex ETF, so NC4 = ‖Wμ_G + b‖ = 0 with b = 0; equal norms and maximal angles throughout.
  for (const k of ["nc4_bias", "equinorm_means", "equinorm_weights", "equiangularity", "max_angle", "cdnv"] as const) {
    assert(m[k] < 1e-12, `${k} ${m[k]}`);
  }
  assertEquals(m.top1, 100);
  // Same classifier, features dual to the *negated* ETF: NC3 is as far as it gets, NC2 unchanged.
  const Hneg = H.map((v) => -v);
  const m2 = neuralCollapseMetrics(Hneg, labels, W, null);
  assert(m2.nc2 < 1e-12);
  assert(Math.abs(m2.nc3 - 2) < 1e-12, `nc3 ${m2.nc3}`);
});

Deno.test("neuralCollapseMetrics: hand-computed NC1 = ε²/2 (K = 2, d = 1) and NC2 = √(2 − √2) (K = 3, collinear rows)", () => {
  const eps = 0.1;
  const H = new Float64Array([1 + eps, 1 - eps, -1 + eps, -1 - eps]);
  const labels = new Int32Array([0, 0, 1, 1]);
  const m = neuralCollapseMetrics(H, labels, new Float64Array([1, -1]), null);
  assert(Math.abs(m.nc1 - eps * eps / 2) < 1e-15, `nc1 ${m.nc1}`);
  // W rows (1,0), (−1,0), (0,0): W̃W̃ᵀ/‖·‖ = [[.5,−.5,0],[−.5,.5,0],[0,0,0]], inner product with the unit ETF Gram 1/√2.
  const W = new Float64Array([1, 0, -1, 0, 0, 0]);
  const H3 = new Float64Array([1, 0, 0, 1, -1, -1]);
  const m3 = neuralCollapseMetrics(H3, new Int32Array([0, 1, 2]), W, null);
  assert(Math.abs(m3.nc2 - Math.sqrt(2 - Math.SQRT2)) < 1e-14, `nc2 ${m3.nc2}`);
});
