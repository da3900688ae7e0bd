/**
 * The medium preset's trend claims on hand-made grids of run records: each
 * verdict (PASS, FAIL, INCONCLUSIVE) reached by its own case, with the
 * intervals computed by hand (t(0.975, 2) = 4.302652729749464).
 */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import type { RunRecord } from "../src/plot/mod.ts";
import { checkTrend, EQUIVALENCE_MARGIN, intervalVerdict, trendMarkdown, type Verdict } from "../src/sweep/mod.ts";

const LOSSES = ["cross_entropy", "label_smoothing", "focal_loss", "mean_square_error"] as const;
type Loss = typeof LOSSES[number];

interface Cell {
  width: number;
  epochs: number;
  /** Test accuracy per loss, one value per seed. */
  test: Record<Loss, number[]>;
  train?: number;
  /** NC1 at the last epoch per seed (epoch 1 is 1). */
  nc1?: number[];
}

function records(cells: Cell[]): RunRecord[] {
  const out: RunRecord[] = [];
  for (const c of cells) {
    for (const loss of LOSSES) {
      c.test[loss].forEach((acc, i) => {
        out.push({
          dir: `runs/${loss}-${c.width}-${c.epochs}-${i + 1}`,
          info: {
            run: { model: "mlp", width: c.width, loss, epochs: c.epochs, seed: i + 1, dataset: "fashion-mnist-subset" },
            epochs: [1, c.epochs],
            metrics: { nc1: [1, c.nc1?.[i] ?? 0.01], train_top1: [50, c.train ?? 100], test_top1: [40, acc] },
            best: { epoch: c.epochs, test_top1: acc },
          },
        } as RunRecord);
      });
    }
  }
  return out;
}

/** Test accuracies `base` + each loss's offsets (one per seed). */
function around(base: number, offsets: Record<Loss, number[]>): Record<Loss, number[]> {
  return Object.fromEntries(LOSSES.map((loss) => [loss, offsets[loss].map((o) => base + o)])) as Record<Loss, number[]>;
}

/** Small cell: spreads 5, 6, 7 per seed. Large cell: spreads 0.2, 0.4, 0.1 and every loss within 0.4 of CE. */
const SMALL: Cell = {
  width: 0.25,
  epochs: 5,
  test: {
    cross_entropy: [80, 81, 82],
    label_smoothing: [79, 80, 80],
    focal_loss: [77, 78, 78],
    mean_square_error: [75, 75, 75],
  },
};
const LARGE: Cell = {
  width: 2,
  epochs: 100,
  test: around(88, {
    cross_entropy: [0, 0.1, 0.2],
    label_smoothing: [0.1, 0.2, 0.1],
    focal_loss: [-0.1, 0, 0.2],
    mean_square_error: [0, -0.2, 0.15],
  }),
};
const MIDDLE: Cell = { ...LARGE, width: 1, epochs: 20, train: 95 };

const verdicts = (checks: ReturnType<typeof checkTrend>) => checks.map((c) => `${c.verdict} ${c.loss}: ${c.claim}`);

Deno.test("trend: a clear trend with collapsed wide runs passes every claim, with the hand-computed interval", () => {
  const checks = checkTrend(records([SMALL, MIDDLE, LARGE]));
  // Four losses × (train, NC1), equivalence, the smallest cell's gaps (info), the trend.
  assertEquals(checks.length, 4 * 2 + 3);
  assert(checks.every((c) => c.verdict === "PASS" || c.verdict === "info"), verdicts(checks).join("\n"));
  const trend = checks.at(-1)!;
  // Differences of spreads 4.8, 5.6, 6.9: mean 5.7667, s = √1.12333 = 1.05987, half = 4.30265 · s / √3 = 2.6329.
  assertMatch(trend.measured, /difference 5\.77 \[3\.13, 8\.40\] points \(3 seeds\)/);
  assertMatch(checks.at(-2)!.measured, /MSE − CE -6\.00 \[-8\.48, -3\.52\]/);
  assertEquals(checks.at(-2)!.verdict, "info");
});

Deno.test("trend: noisy seeds leave the trend INCONCLUSIVE; a reversed trend FAILS", () => {
  // Small-cell spreads 0.5, 6, 0.4: the differences' interval reaches below 0.
  const noisy: Cell = {
    ...SMALL,
    test: { ...SMALL.test, mean_square_error: [79.5, 75, 81.6], focal_loss: [80, 78, 81.7] },
  };
  assertEquals(checkTrend(records([noisy, LARGE])).at(-1)!.verdict, "INCONCLUSIVE");
  // The large cell spread wider than the small one, consistently.
  const reversed = checkTrend(records([{ ...LARGE, width: 0.25, epochs: 5 }, { ...SMALL, width: 2, epochs: 100 }]));
  assertEquals(reversed.at(-1)!.verdict, "FAIL");
});

Deno.test("trend: equivalence fails for a consistent gap above the margin and is INCONCLUSIVE for a noisy one", () => {
  const gap = EQUIVALENCE_MARGIN + 1;
  const apart: Cell = {
    ...LARGE,
    test: { ...LARGE.test, mean_square_error: LARGE.test.cross_entropy.map((a) => a - gap) },
  };
  const eq = (cells: Cell[]) => checkTrend(records(cells)).find((c) => c.claim.startsWith("test top-1 of every"))!;
  assertEquals(eq([SMALL, apart]).verdict, "FAIL");
  const noisy: Cell = { ...LARGE, test: { ...LARGE.test, focal_loss: [88, 87, 89.4] } };
  assertEquals(eq([SMALL, noisy]).verdict, "INCONCLUSIVE");
});

Deno.test("trend: terminal phase fails below 100% training accuracy; NC1 near the limit is INCONCLUSIVE", () => {
  const checks = checkTrend(records([SMALL, { ...LARGE, train: 99.98, nc1: [0.05, 0.2, 0.08] }]));
  const of = (claim: RegExp) => checks.filter((c) => claim.test(c.claim)).map((c) => c.verdict);
  assertEquals(of(/^train top-1/), ["FAIL", "FAIL", "FAIL", "FAIL"]);
  assertEquals(of(/^NC1/), ["INCONCLUSIVE", "INCONCLUSIVE", "INCONCLUSIVE", "INCONCLUSIVE"]);
  const notCollapsed = checkTrend(records([SMALL, { ...LARGE, nc1: [0.5, 0.4, 0.6] }]));
  assertEquals(notCollapsed.filter((c) => c.claim.startsWith("NC1")).map((c) => c.verdict), [
    "FAIL",
    "FAIL",
    "FAIL",
    "FAIL",
  ]);
});

Deno.test("trend: one seed decides nothing statistical; no runs fail", () => {
  const one = (c: Cell): Cell => ({
    ...c,
    test: Object.fromEntries(LOSSES.map((l) => [l, c.test[l].slice(0, 1)])) as Record<Loss, number[]>,
  });
  const checks = checkTrend(records([one(SMALL), one(LARGE)]));
  const statistical = checks.filter((c) => c.loss === "all" && c.verdict !== "info").map((c) => c.verdict);
  assertEquals(statistical, ["INCONCLUSIVE", "INCONCLUSIVE"]);
  assert(checks.filter((c) => c.claim.startsWith("NC1")).every((c) => c.verdict === "INCONCLUSIVE"));
  assertEquals(checkTrend([]).map((c) => c.verdict), ["FAIL"]);
});

Deno.test("intervalVerdict: decided only by an interval wholly on one side", () => {
  const i = (lo: number, hi: number) => ({ mean: (lo + hi) / 2, lo, hi, half: (hi - lo) / 2, n: 3 });
  const cases: [number, number, Verdict][] = [[0.1, 2, "PASS"], [-2, -0.1, "FAIL"], [-0.1, 2, "INCONCLUSIVE"]];
  for (const [lo, hi, v] of cases) assertEquals(intervalVerdict(i(lo, hi), 0, "above"), v);
  assertEquals(intervalVerdict({ mean: 1, lo: null, hi: null, half: null, n: 1 }, 0, "above"), "INCONCLUSIVE");
  assertEquals(intervalVerdict(i(-3, -2), -1, "below"), "PASS");
});

Deno.test("trendMarkdown: one row per cell, accuracy ± half-width and the spread with its interval", () => {
  const table = trendMarkdown(records([SMALL, LARGE])).split("\n");
  assertEquals(table[0], "| width | epochs | CE | LS | FL | MSE | spread (max − min) |");
  // 2 × 2 cells (the grid's widths × lengths); the missing ones read "–".
  assertEquals(table.length, 2 + 4);
  // CE 80, 81, 82: half-width 4.30265 / √3 = 2.484; spreads 5, 6, 7: 6 ± 2.484.
  assertEquals(
    table[2],
    "| 0.25 | 5 | 81.00 ± 2.48 | 79.67 ± 1.43 | 77.67 ± 1.43 | 75.00 ± 0.00 | 6.00 [3.52, 8.48] |",
  );
  assertEquals(table[3], "| 0.25 | 100 | – | – | – | – | – |");
});
