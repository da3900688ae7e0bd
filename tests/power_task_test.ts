/**
 * The power analysis: the pilot table's CSV round trip and its errors, the
 * simulator keeping the pilot's means and within-seed correlation, and
 * `deno task power` as a user runs it (from run folders with
 * `--write-pilot`, then from the pilot file).
 */
import { assert, assertClose, assertEquals, assertMatch, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";
import { defaultClaims, sweepPreset } from "../src/sweep/mod.ts";
import {
  parsePilotCsv,
  pilotCsv,
  pilotModel,
  type PilotRow,
  powerAnalysis,
  simulateCells,
} from "../src/sweep/power.ts";
import { grid, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { runTask } from "./_task.ts";

const LOSSES = ["cross_entropy", "label_smoothing", "focal_loss", "mean_square_error"] as const;

/**
 * A 2 × 2 pilot: each loss's offset from CE in the narrow and short cells, none in the wide-long one. Seeds come
 * in pairs with opposite noise, so the pilot's means are exactly 80 + the offsets.
 */
function pilot(seeds: number, offsets: number[], sigma: number, seed = 1): PilotRow[] {
  const rng = new Rng(seed);
  const rows: PilotRow[] = [];
  for (const [width, epochs] of [[1, 20], [1, 200], [2, 20], [2, 200]]) {
    let noise: number[] = [];
    for (let s = 1; s <= seeds; s++) {
      // Odd seeds draw a shared seed effect and one noise per loss; even seeds mirror them.
      noise = s % 2 === 1 ? [rng.normal(), ...LOSSES.map(() => sigma * rng.normal())] : noise.map((v) => -v);
      LOSSES.forEach((loss, l) => {
        const off = width === 2 && epochs === 200 ? 0 : offsets[l];
        const acc = 80 + off + noise[0] + noise[l + 1];
        rows.push({
          width,
          epochs,
          loss,
          seed: s,
          test_top1_best: acc,
          test_top1_last: acc - 0.5,
          train_top1_last: 100,
          nc1_ratio: s === 1 ? null : 0.05,
        });
      });
    }
  }
  return rows;
}

const CLAIMS = defaultClaims([1, 2], [20, 200]);

Deno.test("pilot CSV: round trip, and one-line errors naming the file and line", () => {
  const rows = pilot(2, [0, -1, -1, -2], 0.5);
  assertEquals(parsePilotCsv(pilotCsv(rows), "p.csv"), rows);
  const header = pilotCsv([]).trim();
  assertThrows(() => parsePilotCsv("width,epochs\n", "p.csv"), UserError, "p.csv: line 1 must be the header");
  assertThrows(() => parsePilotCsv(`${header}\n1,20,ce,1,80\n`, "p.csv"), UserError, "p.csv: line 2: 5 fields");
  assertThrows(() => parsePilotCsv(`${header}\n1,20,xx,1,80,80,100,\n`, "p.csv"), UserError, "p.csv: line 2: loss");
  assertThrows(() => parsePilotCsv(`${header}\n1,20,ce,1,abc,80,100,\n`, "p.csv"), UserError, "test_top1_best 'abc'");
  // Abbreviations are accepted.
  assertEquals(parsePilotCsv(`${header}\n1,20,mse,1,80,,,\n`, "p.csv")[0].loss, "mean_square_error");
});

Deno.test("simulator: the pilot's means and the covariance of its residuals, within-seed correlation kept", () => {
  const model = pilotModel(pilot(4, [0, -1, -1.5, -3], 0.3), CLAIMS, "best");
  assertEquals(model.seeds, [1, 2, 3, 4]);
  const rng = new Rng(5);
  const n = 4000;
  const cells = simulateCells(model, n, rng);
  const narrow = cells.get("1|200")!;
  const c = model.cells.findIndex((x) => x.width === 1 && x.epochs === 200);
  for (let l = 0; l < 4; l++) {
    const mean = narrow[l].reduce((t, v) => t + v, 0) / n;
    assertClose(mean, model.mean[c][l], { abs: 0.1 });
  }
  // Covariance of CE and MSE in the simulation against the pilot's sample covariance.
  const cov = (x: number[], y: number[]) => {
    const mx = x.reduce((t, v) => t + v, 0) / x.length;
    const my = y.reduce((t, v) => t + v, 0) / y.length;
    return x.reduce((t, v, i) => t + (v - mx) * (y[i] - my), 0) / (x.length - 1);
  };
  const pilotCov = model.residuals.reduce((t, r) => t + r[c][0] * r[c][3], 0) / (model.residuals.length - 1);
  assertClose(cov(narrow[0], narrow[3]), pilotCov, { abs: 0.1 * Math.abs(pilotCov) + 0.05 });
  assert(pilotCov > 0.3, `the shared seed effect correlates losses: ${pilotCov}`);
  assertThrows(() => pilotModel(pilot(1, [0, 0, 0, 0], 0.3), CLAIMS, "best"), UserError, "at least 2");
});

Deno.test("power: rises with seeds for a clear gap, stays near zero without one", () => {
  const clear = powerAnalysis(pilot(4, [0, -1, -1.5, -3], 0.4), CLAIMS, { seeds: [3, 8], grids: 40, resamples: 199 });
  assertEquals(clear.map((r) => r.kind), ["best", "last"]);
  const [few, many] = clear[0].rows;
  const text = JSON.stringify(clear[0]);
  assert(many.width >= few.width && many.width >= 0.9, text);
  assert(many.length >= few.length && many.length >= 0.9, text);
  assert(many.equivalence >= few.equivalence && many.all >= few.all, text);
  const none = powerAnalysis(pilot(4, [0, 0, 0, 0], 0.4), CLAIMS, { seeds: [8], grids: 40, resamples: 199 });
  assert(none[0].rows[0].width <= 0.1 && none[0].rows[0].length <= 0.1, JSON.stringify(none[0].rows[0]));
});

Deno.test("deno task power: --runs with --write-pilot, then --pilot, a table per checkpoint kind", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeSyntheticRuns(`${root}/runs`, grid([0.25, 2], [100, 800], [1, 2, 3], undefined, 5));
    const args = ["--seeds", "4,6", "--grids", "10", "--resamples", "99"];
    const a = await runTask("power", ["--runs", `${root}/runs`, "--write-pilot", `${root}/pilot.csv`, ...args]);
    assertEquals(a.code, 0, a.stderr);
    assertMatch(a.stdout, /48 pilot rows written/);
    assertMatch(a.stdout, /best-validation checkpoint \(pilot seeds 1, 2, 3; 10 simulated grids/);
    assertMatch(a.stdout, /last epoch \(pilot seeds 1, 2, 3;/);
    assertMatch(a.stdout, /seeds +width contrast +length contrast +TOST +all three\n +4 +\d\.\d{3}/);
    const b = await runTask("power", ["--pilot", `${root}/pilot.csv`, ...args]);
    assertEquals(b.code, 0, b.stderr);
    // The same pilot and seed give the same table.
    const table = (s: string) => s.split("\n").filter((l) => !l.startsWith("power:")).join("\n");
    assertEquals(table(b.stdout), table(a.stdout.replace(/^power: 48 pilot rows.*\n/, "")));
    const both = await runTask("power", ["--pilot", `${root}/pilot.csv`, "--runs", `${root}/runs`]);
    assertEquals(both.code, 2);
    assertMatch(both.stderr, /^error: give exactly one of --runs DIR and --pilot FILE\n$/);
    // The medium preset's claims name cells of its own grid, none of which the synthetic pilot has.
    const mediumFrom = sweepPreset("medium").claims!.widthContrast.from;
    const preset = await runTask("power", ["--pilot", `${root}/pilot.csv`, "--preset", "medium", ...args]);
    assertEquals(preset.code, 2);
    assertMatch(
      preset.stderr,
      new RegExp(
        `^error: claims\\.widthContrast\\.from: width ${mediumFrom.width}, ${mediumFrom.epochs} epochs is not a cell`,
      ),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
