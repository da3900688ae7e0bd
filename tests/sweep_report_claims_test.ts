/**
 * The sweep report (what `sweep --slurm-report` and a finished local sweep
 * draw) decides a grid with several seeds by its claims: those of the
 * manifest's configuration (a paper preset's), or the grid's corners without
 * a manifest; a grid of one seed gets no claims section.
 */
import { assertEquals, assertMatch } from "./_assert.ts";
import { grid, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { drawSweepReport, expandGrid, newManifest, sweepPreset, writeManifest } from "../src/sweep/mod.ts";

Deno.test("drawSweepReport: the paper preset's claims from the manifest, the corners without one", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeSyntheticRuns(root, grid([0.25, 2], [100, 800], [1, 2, 3], undefined, 5));
    const plain = await drawSweepReport(root);
    assertEquals(plain.checks.filter((c) => c.loss === "all").length, 6);
    assertMatch(plain.checks.find((c) => c.loss === "all")!.run, /^width 0\.25, 800 epochs → width 2, 800 epochs$/);
    // A manifest whose claims compare other cells: the report follows them.
    const config = sweepPreset("paper-cifar100");
    config.widths = [0.25, 2];
    config.epochs = [100, 800];
    config.seeds = [1, 2, 3];
    config.claims = {
      widthContrast: { from: { width: 0.25, epochs: 100 }, to: { width: 2, epochs: 800 } },
      lengthContrast: { from: { width: 2, epochs: 100 }, to: { width: 2, epochs: 800 } },
      equivalence: { cell: { width: 2, epochs: 800 }, margin: 0.5 },
    };
    await writeManifest(root, newManifest(config, expandGrid(root, config), "paper-cifar100"));
    const r = await drawSweepReport(root);
    const statistical = r.checks.filter((c) => c.loss === "all");
    assertMatch(statistical[0].run, /^width 0\.25, 100 epochs → width 2, 800 epochs$/);
    assertMatch(statistical[2].claim, /within ±0\.5 point of CE/);
    const md = await Deno.readTextFile(r.markdown);
    assertMatch(md, /## Claims\n/);
    assertMatch(md, /\[last epoch\] the gap between losses shrinks along the length axis/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("drawSweepReport: one seed per cell gets no claims section", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeSyntheticRuns(root, grid([0.25, 2], [100, 800], [1], undefined, 5));
    const r = await drawSweepReport(root);
    assertEquals(r.checks, []);
    assertEquals((await Deno.readTextFile(r.markdown)).includes("## Claims"), false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
