/**
 * The UFM solver against the paper's theory: every loss reaches Neural
 * Collapse from a random start, the numerical optimum matches the reduction's
 * objective and norms, a perturbed optimum returns to it, the objective's
 * gradient matches finite differences, and bad options are UserErrors.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";
import {
  minimizeLbfgs,
  mseClosedForm,
  ncPoint,
  reducedOptimum,
  solveUfm,
  ufmLayout,
  ufmLoss,
  ufmObjective,
  type UfmOptions,
  ufmProblem,
} from "../src/ufm/mod.ts";
import { productNT } from "./_matrix.ts";

const LOSSES = ["cross_entropy", "mean_square_error", "focal_loss", "label_smoothing"];
const SMALL: Partial<UfmOptions> = { K: 4, d: 6, n: 5, lambdaW: 5e-3, lambdaH: 1e-3, lambdaB: 2e-3, seed: 11 };

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
}

/** W Wᵀ `[K, K]` of a flat UFM point: invariant to rotations of feature space, unique at the optimum. */
function gramW(x: Float64Array, K: number, d: number): Float64Array {
  return productNT(x, x, K, K, d);
}

Deno.test("L-BFGS: minimises the Rosenbrock function to its minimiser (1, 1)", () => {
  const r = minimizeLbfgs(
    (x, g) => {
      const [a, b] = x;
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    },
    new Float64Array([-1.2, 1]),
    { maxIters: 200, gradTol: 1e-10 },
  );
  assert(Math.abs(r.x[0] - 1) < 1e-8 && Math.abs(r.x[1] - 1) < 1e-8, `${r.x} after ${r.iters} iterations`);
});

Deno.test("ufmObjective: gradient matches central finite differences for every loss (float64)", () => {
  const rng = new Rng(5);
  for (const name of LOSSES) {
    const p = ufmProblem(3, 4, 2, 0.01, 0.02, 0.03, ufmLoss(name, { gamma: 2, smoothing: 0.1, rescale: 3 }));
    const L = ufmLayout(p);
    const x = new Float64Array(L.size);
    for (let i = 0; i < L.size; i++) x[i] = rng.normal();
    const g = new Float64Array(L.size);
    ufmObjective(p, x, g);
    for (let t = 0; t < L.size; t++) {
      const h = 1e-6;
      const xp = Float64Array.from(x), xm = Float64Array.from(x);
      xp[t] += h;
      xm[t] -= h;
      const fd = (ufmObjective(p, xp, null) - ufmObjective(p, xm, null)) / (2 * h);
      assert(Math.abs(fd - g[t]) < 1e-8, `${name}: coordinate ${t}: ${g[t]} vs ${fd}`);
    }
  }
});

Deno.test("reduction: the Neural-Collapse point it predicts is a critical point of the full UFM with its objective", () => {
  for (const name of LOSSES) {
    for (const [K, d] of [[4, 3], [4, 6]]) {
      const p = ufmProblem(K, d, 5, 5e-3, 1e-3, 2e-3, ufmLoss(name));
      const opt = reducedOptimum(p);
      const x = ncPoint(p, opt);
      const g = new Float64Array(ufmLayout(p).size);
      const f = ufmObjective(p, x, g);
      assert(relErr(f, opt.objective) < 1e-13, `${name} K=${K} d=${d}: f ${f} vs ${opt.objective}`);
      const gn = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      assert(gn < 1e-9, `${name} K=${K} d=${d}: ‖∇f‖ at the predicted optimum ${gn}`);
    }
  }
});

Deno.test("reduction: the MSE closed form agrees with the numerical 1-D reduction", () => {
  for (const lambda of [1e-4, 5e-4, 1e-2]) {
    const p = ufmProblem(10, 32, 50, lambda, lambda, lambda, ufmLoss("mean_square_error", { rescale: 15 }));
    const exact = mseClosedForm(p, 15), numeric = reducedOptimum(p);
    assertEquals(exact.meanOffset, 0);
    for (const k of ["s", "beta", "objective", "normW", "normH", "normB"] as const) {
      assert(relErr(numeric[k], exact[k]) < 1e-10, `λ=${lambda} ${k}: ${numeric[k]} vs ${exact[k]}`);
    }
  }
  // An expensive bias with d ≥ K: part of the offset moves into W and H, in both solutions alike.
  const p = ufmProblem(4, 6, 5, 5e-3, 1e-3, 2e-3, ufmLoss("mean_square_error", { rescale: 15 }));
  const exact = mseClosedForm(p, 15), numeric = reducedOptimum(p);
  assert(exact.meanOffset > 0);
  for (const k of ["s", "beta", "meanOffset", "objective", "normW", "normH", "normB"] as const) {
    assert(relErr(numeric[k], exact[k]) < 1e-10, `offset case ${k}: ${numeric[k]} vs ${exact[k]}`);
  }
});

Deno.test("solveUfm: every loss reaches Neural Collapse from a random start (NC1 < 1e-3, NC2, NC3 < 1e-2)", () => {
  for (const loss of LOSSES) {
    const r = solveUfm({ ...SMALL, loss });
    assert(r.nc.nc1 < 1e-3, `${loss}: NC1 ${r.nc.nc1}`);
    assert(r.nc.nc2 < 1e-2, `${loss}: NC2 ${r.nc.nc2}`);
    assert(r.nc.nc3 < 1e-2, `${loss}: NC3 ${r.nc.nc3}`);
    // The rest of the collapsed geometry: equinorm, maximal angles, classifier = nearest class centre, 100 % top-1.
    for (const k of ["equinorm_means", "equinorm_weights", "equiangularity", "max_angle", "nc4_ncc"] as const) {
      assert(r.nc[k] < 1e-6, `${loss}: ${k} ${r.nc[k]}`);
    }
    assertEquals(r.nc.top1, 100, `${loss}: top-1 ${r.nc.top1}`);
    assert(r.gradNorm < 1e-7, `${loss}: ‖∇f‖ ${r.gradNorm}`);
    // The start was far from collapse: the history must show the metrics falling.
    assert(r.history[0].nc2 > 0.1 && r.history[0].nc1 > 1e-2, `${loss}: start ${JSON.stringify(r.history[0])}`);
  }
});

Deno.test("solveUfm: objective and norms match the reduction (‖h‖/‖w‖ = √(λ_W/(λ_H n)), λ_W‖W‖² = λ_H‖H‖²)", () => {
  for (const loss of LOSSES) {
    const r = solveUfm({ ...SMALL, loss, lossParams: { gamma: 2, smoothing: 0.1 } });
    const ref = r.reference;
    assertEquals(ref.method, loss === "mean_square_error" ? "closed form (exact)" : "1-D reduction (numerical)");
    assert(
      r.objective >= ref.objective - 1e-12,
      `${loss}: below the global optimum? ${r.objective} < ${ref.objective}`,
    );
    assert(relErr(r.objective, ref.objective) < 1e-12, `${loss}: f ${r.objective} vs ${ref.objective}`);
    assert(relErr(r.normW, ref.normW) < 1e-6, `${loss}: ‖W‖ ${r.normW} vs ${ref.normW}`);
    assert(relErr(r.normH, ref.normH) < 1e-6, `${loss}: ‖H‖ ${r.normH} vs ${ref.normH}`);
    assert(Math.abs(r.normB - ref.normB) < 1e-6 * Math.max(1, ref.normB), `${loss}: ‖b‖ ${r.normB} vs ${ref.normB}`);
    assert(relErr(r.featureToClassifierRatio, r.predictedRatio) < 1e-6);
    const { lambdaW, lambdaH } = r.options;
    assert(relErr(lambdaW * r.normW ** 2, lambdaH * r.normH ** 2) < 1e-6, `${loss}: balance`);
  }
});

Deno.test("solveUfm: MSE with an expensive bias and d ≥ K moves the offset into W, H; closed form still exact", () => {
  for (const d of [3, 8]) {
    const r = solveUfm({ K: 4, d, n: 5, lambdaW: 5e-4, lambdaH: 5e-4, lambdaB: 0.1, loss: "mean_square_error" });
    const ref = r.reference;
    assertEquals(ref.meanOffset > 0, d >= 4, `d=${d}: meanOffset ${ref.meanOffset}`);
    assert(relErr(r.objective, ref.objective) < 1e-12, `d=${d}: f ${r.objective} vs ${ref.objective}`);
    assert(relErr(r.normW, ref.normW) < 1e-6 && relErr(r.normB, ref.normB) < 1e-6, `d=${d}: norms`);
    assert(r.nc.nc1 < 1e-10 && r.nc.nc2 < 1e-6 && r.nc.nc3 < 1e-6, `d=${d}: ${JSON.stringify(r.nc)}`);
  }
});

Deno.test("solveUfm: a perturbed optimum returns to the same optimum", () => {
  const rng = new Rng(99);
  for (const loss of LOSSES) {
    const p = ufmProblem(4, 6, 5, 5e-3, 1e-3, 2e-3, ufmLoss(loss));
    const star = ncPoint(p, reducedOptimum(p));
    const start = star.map((v) => v + 0.3 * rng.normal());
    const r = solveUfm({ ...SMALL, loss, init: start });
    const { K, d } = SMALL as Required<UfmOptions>;
    const G0 = gramW(star, K, d), G1 = gramW(r.x, K, d), Gs = gramW(start, K, d);
    let moved = 0, back = 0;
    for (let t = 0; t < K * K; t++) {
      moved = Math.max(moved, Math.abs(Gs[t] - G0[t]));
      back = Math.max(back, Math.abs(G1[t] - G0[t]));
    }
    assert(moved > 1e-2, `${loss}: the perturbation did not move W Wᵀ (${moved})`);
    assert(back < 1e-6 * Math.max(1, G0[0]), `${loss}: W Wᵀ is ${back} away after re-solving`);
    assert(relErr(r.objective, ufmObjective(p, star, null)) < 1e-12, `${loss}: objective`);
    const L = ufmLayout(p);
    for (let k = 0; k < K; k++) assert(Math.abs(r.x[L.b + k] - star[L.b + k]) < 1e-6, `${loss}: b`);
  }
});

Deno.test("solveUfm: bad input is a one-line UserError naming the flag", () => {
  const cases: [Partial<UfmOptions>, RegExp][] = [
    [{ K: 10, d: 8 }, /^--d: must be an integer >= K - 1 = 9, got 8$/],
    [{ K: 1, d: 4 }, /^--K: /],
    [{ n: 0 }, /^--n: /],
    [{ lambdaW: 0 }, /^--lambda-w: must be a positive number/],
    [{ lambdaH: -1e-3 }, /^--lambda-h: /],
    [{ lambdaB: 0 }, /^--lambda-b: /],
    [{ loss: "hinge" }, /^--loss: unknown loss 'hinge'/],
  ];
  for (const [opts, re] of cases) {
    assertThrows(() => solveUfm({ ...SMALL, ...opts, maxIters: 1 }), UserError, re, JSON.stringify(opts));
  }
});
