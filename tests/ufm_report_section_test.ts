/** The UFM experiment as a report section: table rows per loss, claims with their numbers, key figures. */
import { assert, assertEquals, assertMatch, assertNotMatch, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { buildReport } from "../src/plot/mod.ts";
import { UFM_DEFAULTS, ufmExperiment, type UfmExperimentRecord, ufmReportSection } from "../src/ufm/mod.ts";
import { lossStyle } from "../src/plot/loss_style.ts";

const LOSSES = ["cross_entropy", "label_smoothing", "focal_loss", "mean_square_error"];
const BASE = { K: 3, d: 4, n: 4, lambdaW: 5e-3, lambdaH: 5e-3, lambdaB: 5e-3, lossParams: { gamma: 2 } };

/** The record as `ufm.json` holds it, i.e. after a JSON round trip. */
function record(sweeps: boolean): UfmExperimentRecord {
  const rec = ufmExperiment({
    base: BASE,
    losses: LOSSES,
    gammas: sweeps ? [0, 2] : [],
    smoothings: sweeps ? [0, 0.1] : [],
    lambdas: sweeps ? [1e-3, 1e-2] : [],
  });
  return JSON.parse(JSON.stringify(rec));
}

Deno.test("ufmReportSection: one table row per loss, both claims confirmed, the key figures as line figures", () => {
  const rec = record(true);
  const s = ufmReportSection(rec);
  assertEquals(s.title, "Unconstrained feature model");
  const md = s.markdown!;
  const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---"));
  assertEquals(rows.length, 1 + LOSSES.length, md);
  assertMatch(rows[0], /^\| loss \| NC1 \| NC2 \| NC3 \| ‖W‖_F.*‖H‖_F \| ‖b‖₂ \| f − f\* \|$/);
  for (const [i, label] of ["CE", "LS", "FL \\(γ = 2\\)", "MSE"].entries()) {
    assertMatch(rows[1 + i], RegExp(`^\\| ${label} \\|`));
  }
  assert(rows.every((r) => r.split("|").length === rows[0].split("|").length), "ragged table");
  assertMatch(
    md,
    /\*\*NC solutions are the global minimisers for every loss solved \(CE, LS, FL \(γ = 2\), MSE\)\.\*\*/,
  );
  assertMatch(md, /\*\*The ETF structure persists across the sweeps while the norms change\.\*\*/);
  assertMatch(md, /FL γ ∈ \{0, 2\}.*LS α ∈ \{0, 0\.1\}.*λ = λ_W = λ_H = λ_b ∈ \{0\.001, 0\.01\}/);
  assertNotMatch(md, /Not confirmed/);
  const names = s.figures!.map((f) => f.name);
  assertEquals(names, [
    "ufm-dynamics-nc1",
    "ufm-dynamics-nc2",
    "ufm-dynamics-gap",
    "ufm-sweep-focal_loss-gamma-nc",
    "ufm-sweep-focal_loss-gamma-norms",
    "ufm-sweep-label_smoothing-smoothing-norms",
    "ufm-sweep-lambda-nc2",
    "ufm-sweep-lambda-normw",
  ]);
  for (const f of s.figures!) {
    assertEquals(f.kind, "line");
    if (f.kind === "line") assert(f.series.length > 0 && f.series.every((l) => l.points.length > 0), f.name);
  }
  // buildReport takes it as it is: the table survives into the HTML, every figure is drawn.
  const report = buildReport([], [s], { generated: "test" });
  assertMatch(report.html, /<td>MSE<\/td>/);
  for (const n of names) assert(report.figures.some((f) => f.path === `figures/${n}.svg`), n);
});

Deno.test("ufmReportSection: without sweeps it says so; a failed solve is reported as not confirmed", () => {
  const rec = record(false);
  const s = ufmReportSection(rec);
  assertMatch(s.markdown!, /No γ, α or λ sweeps were run/);
  assertEquals(s.figures!.map((f) => f.name), ["ufm-dynamics-nc1", "ufm-dynamics-nc2", "ufm-dynamics-gap"]);
  rec.runs[2].nc.nc2 = 0.3;
  assertMatch(ufmReportSection(rec).markdown!, /\*\*Not confirmed for FL \(γ = 2\):\*\*/);
  assertThrows(() => ufmReportSection({ ...rec, runs: [] }), UserError, "deno task ufm");
});

Deno.test("UFM figures: losses get the package's style and short name, reduction lines are dashed", () => {
  const rec = ufmExperiment({
    base: { ...UFM_DEFAULTS, K: 3, d: 4, n: 2, maxIters: 50 },
    losses: ["focal_loss", "cross_entropy"],
    gammas: [],
    smoothings: [],
    lambdas: [1e-3, 1e-2],
  });
  const norms = rec.figures.find((f) => f.name === "ufm-sweep-lambda-normw")!;
  assertEquals(norms.series.map((s) => [s.label, s.dash, s.points.length]), [
    ["FL", undefined, 2],
    ["FL (reduction)", "5,4", 2],
    ["CE", undefined, 2],
    ["CE (reduction)", "5,4", 2],
  ]);
  assertEquals(norms.series[0].color, norms.series[1].color);
  assertEquals(norms.series[0].color, lossStyle({ loss: "focal_loss" }).color);
});
