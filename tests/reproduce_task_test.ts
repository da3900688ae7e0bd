/**
 * `deno task reproduce --preset medium --report-only` on existing runs: the
 * trend claims are printed and decide the exit status, and the report carries
 * the claims and the grid table (accuracy ± half-width per cell and loss).
 */
import { assertEquals, assertMatch } from "./_assert.ts";
import { grid, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { runTask } from "./_task.ts";

Deno.test("reproduce --preset medium --report-only: trend claims, exit status and the grid table", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Synthetic runs have no checkpoint at epoch 1 and stop short of 100% training accuracy: those claims fail.
    await writeSyntheticRuns(`${root}/runs`, grid([0.25, 2], [100, 800], [1, 2, 3], undefined, 5));
    const out = await runTask("reproduce", ["--preset", "medium", "--out", root, "--report-only", "--no-setup"]);
    assertEquals(out.code, 1, out.stderr);
    assertMatch(out.stdout, /FAIL +CE +width 2, 800 epochs +NC1\(last\) \/ NC1\(epoch 1\)/);
    assertMatch(
      out.stdout,
      /(PASS|FAIL|INCONCLUSIVE) +all +width 0\.25, 100 epochs → width 2, 800 epochs +spread across/,
    );
    assertMatch(out.stdout, /FAIL: \d+ claim\(s\) do not hold/);
    const md = await Deno.readTextFile(`${root}/report.md`);
    assertMatch(md, /\| width \| epochs \| CE \| LS \| FL \| MSE \| spread \(max − min\) \|/);
    assertMatch(md, /\n\| 0\.25 \| 100 \| \d+\.\d\d ± \d+\.\d\d \| .* \| \d+\.\d\d \[-?\d+\.\d\d, \d+\.\d\d\] \|\n/);
    assertMatch(md, /seeds 1, 2, 3/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
