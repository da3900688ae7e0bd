/** The reproduction checks on hand-made run records: passing, failing and missing cases. */
import { assert, assertEquals } from "./_assert.ts";
import type { RunRecord } from "../src/plot/mod.ts";
import { checkReproduction, reproductionMarkdown, reproductionTable } from "../src/sweep/mod.ts";

function run(
  loss: string,
  epochs: number,
  m: { nc1: number[]; nc2: number[]; nc3: number[]; train: number; test: number },
): RunRecord {
  return {
    dir: `runs/${loss}`,
    info: {
      run: { model: "mlp", width: 1, loss, epochs, seed: 1, dataset: "fashion-mnist-subset" },
      epochs: [1, epochs],
      metrics: {
        nc1: m.nc1,
        nc2: m.nc2,
        nc3: m.nc3,
        train_top1: [60, m.train],
        test_top1: [50, m.test],
      },
    },
  };
}

const GOOD = { nc1: [2, 0.1], nc2: [0.5, 0.2], nc3: [0.8, 0.1], train: 100, test: 80 };

Deno.test("collapsed runs of every loss pass; the spread across losses is reported", () => {
  const runs = ["cross_entropy", "mean_square_error", "focal_loss", "label_smoothing"].map((l, i) =>
    run(l, 10, { ...GOOD, test: 80 + i / 2 })
  );
  // A shorter run that would fail is ignored: the checks use the longest setting.
  runs.push(run("cross_entropy", 5, { ...GOOD, train: 90 }));
  const checks = checkReproduction(runs);
  assertEquals(checks.length, 4 * 4 + 1);
  assert(checks.every((c) => c.verdict !== "FAIL"), reproductionTable(checks));
  const spread = checks.at(-1)!;
  assertEquals(spread.verdict, "info");
  assert(spread.measured.startsWith("1.50 points"), spread.measured);
  assert(reproductionMarkdown(checks).includes("| **PASS** |"));
});

Deno.test("each claim fails on its own, and a missing loss fails", () => {
  const runs = [
    run("cross_entropy", 10, { ...GOOD, train: 99.9 }),
    run("mean_square_error", 10, { ...GOOD, nc1: [2, 0.21] }),
    run("focal_loss", 10, { ...GOOD, nc2: [0.5, 0.5] }),
  ];
  const failed = checkReproduction(runs).filter((c) => c.verdict === "FAIL").map((c) => `${c.loss}: ${c.claim}`);
  assertEquals(failed, [
    "CE: train top-1 = 100% at the last epoch (10)",
    "LS: an evaluated run of the largest setting exists",
    "FL: NC2(last) < NC2(epoch 1)",
    "MSE: NC1(last) ≤ 1/10 × NC1(epoch 1)",
  ]);
});

Deno.test("without a checkpoint at epoch 1 the NC claims fail and say why", () => {
  const r = run("cross_entropy", 10, GOOD);
  r.info.epochs = [5, 10];
  const nc = checkReproduction([r]).filter((c) => c.claim.startsWith("NC"));
  assertEquals(nc.length, 3);
  assert(nc.every((c) => c.verdict === "FAIL" && c.measured === "no checkpoint at epoch 1"));
});
