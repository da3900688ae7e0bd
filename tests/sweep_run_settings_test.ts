/**
 * A sweep counts only run folders trained with its grid's settings: a folder
 * retrained by hand with `--lr 0.05` is refused by the sweep (naming the
 * folder and the setting) and left out of the report that the sweep draws,
 * never averaged into its cell.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { joinPath, writeJsonAtomic } from "../src/io.ts";
import { type RunConfig, writeRunConfig } from "../src/run/config.ts";
import type { RunRecord } from "../src/run/load.ts";
import { expandGrid, newManifest, planSweep, sweepRunsOnly, writeManifest } from "../src/sweep/mod.ts";
import { sweepRunSettings } from "../src/sweep/run_settings.ts";
import { sweep, tinyGrid, tinySweepConfig } from "./_sweep_helpers.ts";
import { runTask } from "./_task.ts";
import { syntheticInfo, type SyntheticRun } from "./fixtures/plot/synthetic_runs.ts";

Deno.test("a grid point's folder trained with another setting is refused by the sweep and left out of its report", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_settings_" });
  try {
    // The grid of tinyGrid({ losses: "ce,mse" }), which the task run below is given.
    const trainArgs = { "synthetic-per-class": 20, "synthetic-dim": 8, "mlp-depth": 1, "mlp-hidden": 16 };
    const config = tinySweepConfig({ trainArgs: { ...trainArgs, "save-interval": 1, "train-subset": 0 } });
    const settings = sweepRunSettings(config);
    const [odd, fine] = expandGrid(root, config);
    const asTrained = (run: typeof odd, changes: Partial<RunConfig> = {}): RunConfig => ({
      ...settings(run),
      load: false,
      extensions: [],
      environment: {},
      ...changes,
    });
    for (const run of [odd, fine]) await Deno.mkdir(run.dir, { recursive: true });
    await writeRunConfig(fine.dir, asTrained(fine));
    await writeRunConfig(odd.dir, asTrained(odd, { lr: 0.05 }));
    await assertRejects(
      () => planSweep({ root, config, runSettings: settings }),
      UserError,
      `${odd.dir}/config.json: trained with lr 0.05, but its sweep trains lr 0.1`,
    );
    // The report path: the odd folder is refused, the others and folders outside the grid are kept.
    const record = (dir: string, cfg?: RunConfig) => ({ dir, info: {}, config: cfg }) as unknown as RunRecord;
    const other = joinPath(root, "elsewhere");
    const { kept, refused } = sweepRunsOnly(
      [record(odd.dir, asTrained(odd, { lr: 0.05 })), record(fine.dir, asTrained(fine)), record(other)],
      root,
      config,
      settings,
    );
    assertEquals(kept.map((r) => r.dir), [fine.dir, other]);
    assertEquals(refused, [{ dir: odd.dir, key: "lr", run: 0.05, sweep: 0.1 }]);

    // The task: one line naming the folder and the setting, exit 2 (the dry run shares the check).
    const r = await sweep(["--runs-dir", root, ...tinyGrid({ losses: "ce,mse" }), "--dry-run"]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert(r.stderr.startsWith(`error: ${odd.dir}/config.json: trained with lr 0.05, but its sweep`), r.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("heatmap, report and plot on a sweep's folder leave out, with a note, a grid point trained otherwise", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_settings_tasks_" });
  try {
    const config = tinySweepConfig({ epochs: [20] });
    const settings = sweepRunSettings(config);
    const runs = expandGrid(root, config);
    await writeManifest(root, newManifest(config, runs));
    for (const [i, run] of runs.entries()) {
      await Deno.mkdir(run.dir, { recursive: true });
      const cfg: RunConfig = {
        ...settings(run),
        load: false,
        extensions: [],
        environment: {},
        ...(i === 0 ? { lr: 0.05 } : {}),
      };
      await writeRunConfig(run.dir, cfg);
      const info = syntheticInfo({ loss: run.loss as SyntheticRun["loss"], width: 1, epochs: 20, seed: 1 });
      await writeJsonAtomic(joinPath(run.dir, "info.json"), {
        ...info,
        run: { ...(info.run as Record<string, unknown>), model: "mlp", dataset: "synthetic" },
      });
    }
    const note = `note: left out: ${runs[0].dir}/config.json: trained with lr 0.05, but its sweep trains lr 0.1`;
    for (const task of ["heatmap", "report", "plot"]) {
      const r = await runTask(task, ["--runs", root, "--out", joinPath(root, `out-${task}`)]);
      assertEquals(r.code, 0, `${task}: ${r.stderr}`);
      assert(r.stderr.split("\n").includes(note), `${task}: ${r.stderr}`);
      assert(/^1 runs → /m.test(r.stdout), `${task}: ${r.stdout}`);
    }
    // Named with --run, the folder is drawn as it is.
    const named = await runTask("heatmap", ["--run", runs[0].dir, "--out", joinPath(root, "named")]);
    assertEquals(named.code, 0, named.stderr);
    assert(!named.stderr.includes("left out"), named.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
