/**
 * `deno task reproduce --preset medium --report-only` on existing runs of the
 * preset's own grid: the claims (both axes, best-validation and last epoch)
 * are printed and decide the exit status, and the report carries them, the
 * grid tables of both checkpoint kinds and the √Ĝ heatmaps.
 */
import { assertEquals, assertMatch } from "./_assert.ts";
import { grid, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { runTask } from "./_task.ts";
import { claimsOf, sweepPreset } from "../src/sweep/mod.ts";

Deno.test("reproduce --preset medium --report-only: claims, exit status, tables and gap heatmaps", async () => {
  const root = await Deno.makeTempDir();
  try {
    const config = sweepPreset("medium");
    const c = claimsOf(config);
    // At most one checkpoint per epoch, so the shortest length still has strictly ascending epochs.
    // Synthetic runs have no checkpoint at epoch 1 and stop short of 100% training accuracy: those claims fail.
    await writeSyntheticRuns(
      `${root}/runs`,
      grid(config.widths, config.epochs, [1, 2, 3], undefined, Math.min(5, ...config.epochs)),
    );
    const out = await runTask("reproduce", ["--preset", "medium", "--out", root, "--report-only", "--no-setup"]);
    assertEquals(out.code, 1, out.stderr);
    const where = (g: { width: number; epochs: number }) => `width ${g.width}, ${g.epochs} epochs`;
    assertMatch(out.stdout, new RegExp(`FAIL +CE +${where(c.equivalence.cell)} +NC1\\(last\\) / NC1\\(epoch 1\\)`));
    for (const kind of ["best-validation checkpoint", "last epoch"]) {
      for (const [axis, k] of [["width", c.widthContrast], ["length", c.lengthContrast]] as const) {
        assertMatch(
          out.stdout,
          new RegExp(
            `(PASS|FAIL|INCONCLUSIVE) +all +${where(k.from)} → ${where(k.to)} +\\[${kind}\\] the gap between ` +
              `losses shrinks along the ${axis} axis.*√Ĝ \\d+\\.\\d\\d \\[.*Holm [<\\d].*\\(3 seeds\\)`,
          ),
        );
      }
      assertMatch(
        out.stdout,
        new RegExp(`(PASS|FAIL|INCONCLUSIVE) +all +${where(c.equivalence.cell)} +\\[${kind}\\] every loss within`),
      );
    }
    assertMatch(out.stdout, /FAIL: \d+ claim\(s\) do not hold/);
    const md = await Deno.readTextFile(`${root}/report.md`);
    assertMatch(md, /Test top-1 of the best-validation checkpoint per cell/);
    assertMatch(md, /Test top-1 of the last epoch per cell/);
    assertMatch(md, /\| width \| epochs \| CE \| LS \| FL \| MSE \| .* \| √Ĝ \[95%\] \| noise floor \| seeds \|/);
    assertMatch(md, /heatmap-gap-best\.svg/);
    assertMatch(md, /heatmap-gap-last\.svg/);
    assertMatch(md, /seeds 1, 2, 3/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
