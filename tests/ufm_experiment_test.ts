/** The UFM experiment record and its figure specifications on a small instance. */
import { assert, assertEquals } from "./_assert.ts";
import { sweepUfm, ufmExperiment } from "../src/ufm/mod.ts";

const BASE = { K: 3, d: 4, n: 4, lambdaW: 5e-3, lambdaH: 5e-3, lambdaB: 5e-3 };

Deno.test("ufmExperiment: one run per loss, sweeps and figures as plain JSON data", () => {
  const losses = ["cross_entropy", "mean_square_error"];
  const rec = ufmExperiment({ base: BASE, losses, gammas: [0, 2], smoothings: [0.1], lambdas: [1e-3, 1e-2] });
  assertEquals(rec.runs.map((r) => r.options.loss), losses);
  assert(rec.runs.every((r) => !("x" in r)), "parameter vectors stay out of the record");
  assertEquals(rec.sweeps.gamma.length, 2);
  assertEquals(rec.sweeps.smoothing.length, 1);
  assertEquals(rec.sweeps.lambda.length, 4);
  const names = rec.figures.map((f) => f.name);
  for (const n of ["ufm-dynamics-nc1", "ufm-dynamics-nc2", "ufm-dynamics-nc3", "ufm-sweep-focal_loss-gamma-nc"]) {
    assert(names.includes(n), n);
  }
  const nc2 = rec.figures.find((f) => f.name === "ufm-dynamics-nc2")!;
  assertEquals(nc2.kind, "line");
  assertEquals(nc2.series.map((s) => s.label), ["CE", "MSE"]);
  // Each loss's NC2 series starts high and ends near zero.
  for (const s of nc2.series) {
    const [first, last] = [s.points[0].y!, s.points[s.points.length - 1].y!];
    assert(first > 0.1 && last < 1e-5, `${s.label}: ${first} → ${last}`);
  }
  // Plain JSON: nothing (typed arrays, undefined, NaN, functions) changes on a round trip.
  assertEquals(JSON.parse(JSON.stringify(rec)), rec);
});

Deno.test("sweepUfm: the FL optimum stays a simplex ETF while its norms shrink as γ grows", () => {
  const pts = sweepUfm(BASE, "gamma", [0, 1, 3], ["focal_loss"]);
  for (const p of pts) assert(p.nc2 < 1e-5 && p.nc3 < 1e-5, `γ=${p.value}: NC2 ${p.nc2}, NC3 ${p.nc3}`);
  assert(pts[0].normW > pts[1].normW && pts[1].normW > pts[2].normW, pts.map((p) => p.normW).join(", "));
  for (const p of pts) assert(Math.abs(p.normW - p.referenceNormW) < 1e-6 * p.referenceNormW);
});
