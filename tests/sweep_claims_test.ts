/**
 * The claims on hand-made grids of run records: each verdict (PASS, FAIL,
 * INCONCLUSIVE) reached by its own case, both checkpoint kinds read from
 * where `info.json` keeps them, the terminal-phase checks, the grid table,
 * and the claims block of a configuration.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "./_assert.ts";
import type { RunRecord } from "../src/plot/mod.ts";
import { UserError } from "../src/errors.ts";
import {
  checkClaims,
  claimsGridMarkdown,
  claimsOf,
  defaultClaims,
  runValues,
  sweepPreset,
  validateSweepConfig,
} from "../src/sweep/mod.ts";

const LOSSES = ["cross_entropy", "label_smoothing", "focal_loss", "mean_square_error"] as const;
type Loss = typeof LOSSES[number];
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
/** Seed-to-seed wobble, the same pattern in every cell and loss but shifted per loss so losses are not identical. */
const WOBBLE = [0.3, -0.2, 0.1, -0.4, 0.25, 0, -0.15, 0.35];

interface Cell {
  width: number;
  epochs: number;
  /** Offsets from CE of LS, FL, MSE (best-validation); `last` the same for the last epoch. */
  best: [number, number, number];
  last?: [number, number, number];
  /** Seed noise scale. */
  noise?: number;
  train?: number;
  nc1?: number;
}

function records(cells: Cell[], seeds = SEEDS): RunRecord[] {
  const out: RunRecord[] = [];
  for (const c of cells) {
    LOSSES.forEach((loss, li) => {
      seeds.forEach((seed, si) => {
        const w = (c.noise ?? 1) * WOBBLE[(si + 3 * li) % WOBBLE.length];
        const best = 80 + (li === 0 ? 0 : c.best[li - 1]) + w;
        const last = 79 + (li === 0 ? 0 : (c.last ?? c.best)[li - 1]) + w;
        out.push({
          dir: `runs/${loss}-${c.width}-${c.epochs}-${seed}`,
          info: {
            run: { model: "mlp", width: c.width, loss, epochs: c.epochs, seed, dataset: "fashion-mnist-subset" },
            epochs: [1, c.epochs],
            metrics: { nc1: [1, c.nc1 ?? 0.01], train_top1: [50, c.train ?? 100], test_top1: [40, last] },
            best: { epoch: c.epochs, test_top1: best },
          },
        } as RunRecord);
      });
    });
  }
  return out;
}

const GAP: [number, number, number] = [-1, -1.5, -3];
const NONE: [number, number, number] = [0.05, -0.05, 0.02];
const GRID = (narrow: Cell["best"], short: Cell["best"], wide: Cell["best"], extra: Partial<Cell> = {}): Cell[] => [
  { width: 0.5, epochs: 200, best: narrow },
  { width: 2, epochs: 20, best: short },
  { width: 2, epochs: 200, best: wide, ...extra },
  { width: 0.5, epochs: 20, best: GAP },
];
const CLAIMS = defaultClaims([0.5, 2], [20, 200]);
const statistical = (runs: RunRecord[]) =>
  checkClaims(runs, CLAIMS, { resamples: 999 }).filter((c) => c.loss === "all");

Deno.test("claims: a trend with a closed wide-long gap passes every claim, for both checkpoint kinds", () => {
  const checks = checkClaims(records(GRID(GAP, GAP, NONE)), CLAIMS, { resamples: 999 });
  // Four losses × (train, NC1), then per kind: width, length, equivalence.
  assertEquals(checks.length, 8 + 2 * 3);
  assert(checks.every((c) => c.verdict === "PASS"), checks.map((c) => `${c.verdict} ${c.claim}`).join("\n"));
  const width = checks[8];
  assertEquals(width.run, "width 0.5, 200 epochs → width 2, 200 epochs");
  assertMatch(width.claim, /^\[best-validation checkpoint\] the gap between losses shrinks along the width axis/);
  assertMatch(width.measured, /^√Ĝ \d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\] \(floor \d+\.\d\d\) → .*Holm [<\d]/);
  assertMatch(width.measured, /\(8 seeds\)$/);
  assertMatch(checks[11].claim, /^\[last epoch\]/);
});

Deno.test("claims: a reversed trend FAILs both contrasts and the equivalence; no trend is INCONCLUSIVE", () => {
  const reversed = statistical(records(GRID(NONE, NONE, GAP)));
  assertEquals(reversed.map((c) => c.verdict), ["FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL"]);
  const flat = statistical(records(GRID(NONE, NONE, NONE)));
  assertEquals(flat.map((c) => c.verdict), [
    "INCONCLUSIVE",
    "INCONCLUSIVE",
    "PASS",
    "INCONCLUSIVE",
    "INCONCLUSIVE",
    "PASS",
  ]);
});

Deno.test("claims: best-validation and last epoch are read separately (a gap at the last epoch only)", () => {
  const cells = GRID(GAP, GAP, NONE);
  cells[2] = { ...cells[2], last: [-2, -2, -2] };
  const v = statistical(records(cells)).map((c) => c.verdict);
  assertEquals(v.slice(0, 3), ["PASS", "PASS", "PASS"]);
  assertEquals(v[5], "FAIL");
  const run = records(cells)[0];
  assertEquals(runValues(run).best, 80 + 0.3);
  assertEquals(runValues(run).last, 79 + 0.3);
  // A run evaluated before its last epoch has no last-epoch accuracy.
  const partial = { ...run, info: { ...run.info, epochs: [1, 100] } };
  assertEquals(runValues(partial).last, null);
});

Deno.test("claims: fewer than three seeds decide nothing statistical; no runs fail", () => {
  const v = statistical(records(GRID(GAP, GAP, NONE), [1, 2])).map((c) => c.verdict);
  assertEquals(v.filter((x) => x !== "INCONCLUSIVE" && x !== "PASS"), []);
  assertEquals(v[0], "INCONCLUSIVE");
  assertEquals(checkClaims([], CLAIMS).map((c) => c.verdict), ["FAIL"]);
});

Deno.test("claims: terminal phase fails below 100% training accuracy and without NC1 collapse", () => {
  const checks = checkClaims(records(GRID(GAP, GAP, NONE, { train: 99.98, nc1: 0.5 })), CLAIMS, { resamples: 199 });
  assertEquals(checks.filter((c) => c.claim.startsWith("train top-1")).map((c) => c.verdict), [
    "FAIL",
    "FAIL",
    "FAIL",
    "FAIL",
  ]);
  assertEquals(checks.filter((c) => c.claim.startsWith("NC1")).map((c) => c.verdict), ["FAIL", "FAIL", "FAIL", "FAIL"]);
});

Deno.test("claimsGridMarkdown: per cell the accuracies, |CE − loss|, √Ĝ with its interval, the floor and seeds", () => {
  const table = claimsGridMarkdown(records(GRID(GAP, GAP, NONE)), "best", { resamples: 199 }).split("\n");
  assertEquals(
    table[0],
    "| width | epochs | CE | LS | FL | MSE | \\|CE − LS\\| | \\|CE − FL\\| | \\|CE − MSE\\| | √Ĝ [95%] | noise floor | seeds |",
  );
  assertEquals(table.length, 2 + 4);
  // Width 0.5, 200 epochs: CE mean 80 + mean wobble 0.03125; MSE − CE = −3 on average.
  assertMatch(
    table[3],
    /^\| 0\.5 \| 200 \| 80\.03 ± \d\.\d\d \|.* \| \d\.\d\d \[\d\.\d\d, \d\.\d\d\] \| \d\.\d\d \| 8 \|$/,
  );
});

Deno.test("claims block: presets declare theirs, others derive the corners; bad blocks are user errors", () => {
  const medium = sweepPreset("medium");
  assert(medium.claims !== undefined);
  const paper = sweepPreset("paper-cifar10");
  assertEquals(claimsOf(paper), {
    widthContrast: { from: { width: 0.25, epochs: 800 }, to: { width: 2, epochs: 800 } },
    lengthContrast: { from: { width: 2, epochs: 100 }, to: { width: 2, epochs: 800 } },
    equivalence: { cell: { width: 2, epochs: 800 }, margin: 1 },
  });
  const bad = structuredClone(medium);
  bad.claims!.widthContrast.from = { width: 3, epochs: 200 };
  assertThrows(() => validateSweepConfig(bad), UserError, "claims.widthContrast.from: width 3, 200 epochs");
  const zero = structuredClone(medium);
  zero.claims!.equivalence.margin = 0;
  assertThrows(() => validateSweepConfig(zero), UserError, "claims.equivalence.margin");
});
