/** Reading, validating and filtering run folders for the figure tasks. */
import { assert, assertEquals, fail } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { filterRuns, findRunDirs, loadRun, parseRunInfo, runName, selectRuns } from "../src/plot/mod.ts";
import { grid, syntheticInfo, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";

function infoText(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ...syntheticInfo({ loss: "focal_loss", width: 0.5, epochs: 200, seed: 321, checkpoints: 5 }),
    ...patch,
  });
}

/** Asserts `f` throws a one-line UserError whose message contains every fragment. */
async function rejectsUser(f: () => unknown, ...fragments: string[]): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert(e instanceof UserError, `expected UserError, got ${e}`);
    assert(!e.message.includes("\n"), `message spans lines: ${e.message}`);
    for (const frag of fragments) assert(e.message.includes(frag), `'${e.message}' lacks '${frag}'`);
    return;
  }
  fail("expected a UserError");
}

Deno.test("parseRunInfo reads the evaluate schema", () => {
  const info = parseRunInfo(infoText(), "a/info.json");
  assertEquals(info.run.loss, "focal_loss");
  assertEquals(info.run.loss_params, { gamma: 3 });
  assertEquals(info.epochs.length, 5);
  assertEquals(info.metrics.nc1?.length, 5);
  assertEquals(info.metrics.max_angle, undefined);
  assertEquals(typeof info.best?.test_top1, "number");
  assertEquals(runName(info.run), "wideres50-05-fl-200-321");
});

Deno.test("parseRunInfo accepts nulls and missing metrics", () => {
  const info = parseRunInfo(infoText({ nc2: [null, 0.5, null, 0.3, 0.2], nc3: undefined }), "a/info.json");
  assertEquals(info.metrics.nc2, [null, 0.5, null, 0.3, 0.2]);
  assertEquals(info.metrics.nc3, undefined);
});

Deno.test("parseRunInfo rejects bad files with the file name", async () => {
  await rejectsUser(() => parseRunInfo("{not json", "r/info.json"), "r/info.json", "not valid JSON");
  await rejectsUser(() => parseRunInfo("[]", "r/info.json"), "r/info.json", "object");
  await rejectsUser(() => parseRunInfo(infoText({ run: undefined }), "r/info.json"), "run");
  await rejectsUser(
    () => parseRunInfo(infoText({ nc1: [1, 2] }), "r/info.json"),
    "r/info.json",
    '"nc1" has 2 values',
    "5",
  );
  await rejectsUser(() => parseRunInfo(infoText({ nc1: [1, 2, "x", 4, 5] }), "r/info.json"), '"nc1"[2]');
  await rejectsUser(() => parseRunInfo(infoText({ epochs: "8,16" }), "r/info.json"), '"epochs"');
  const run = JSON.parse(infoText()).run;
  await rejectsUser(() => parseRunInfo(infoText({ run: { ...run, width: "2" } }), "r/info.json"), "run.width");
  await rejectsUser(() => parseRunInfo(infoText({ best: { test_top1: "high" } }), "r/info.json"), "best.test_top1");
  // Accuracies are percentages: a plotted 1e9 % or -5 % is refused, naming the entry.
  await rejectsUser(
    () => parseRunInfo(infoText({ test_top1: [-5, 1e9, 50, 50, 50] }), "r/info.json"),
    '"test_top1"[0] is -5',
    "percentages",
  );
  await rejectsUser(() => parseRunInfo(infoText({ val_top5: [1, 2, 3, 4, 100.5] }), "r/info.json"), '"val_top5"[4]');
  await rejectsUser(
    () => parseRunInfo(infoText({ best: { epoch: 1, test_top1: 1e9 } }), "r/info.json"),
    "best.test_top1",
  );
});

Deno.test("loading: recursive scan, config.json, filters, and one-line errors", async () => {
  const root = await Deno.makeTempDir({ prefix: "plot_runs_" });
  try {
    await writeSyntheticRuns(`${root}/cifar100`, grid([0.5, 2], [100], [1], ["cross_entropy", "mean_square_error"], 4));
    await Deno.mkdir(`${root}/empty/nested`, { recursive: true });
    const dirs = await findRunDirs(root);
    assertEquals(dirs.length, 4);
    assert(dirs.every((d) => d.startsWith(`${root}/cifar100/`)));
    const run = await loadRun(dirs[0]);
    assertEquals(run.config?.lr, 0.1);

    const all = await selectRuns({ roots: [root] });
    assertEquals(all.length, 4);
    assertEquals(filterRuns(all, { width: [2] }).length, 2);
    assertEquals(filterRuns(all, { width: [2], model: ["wide_resnet50"], dataset: ["cifar100"] }).length, 2);
    assertEquals(filterRuns(all, { epochs: [800] }).length, 0);
    // The same folder through --runs and --run counts once.
    assertEquals((await selectRuns({ roots: [root], dirs: [dirs[0] + "/"] })).length, 4);

    await rejectsUser(() => selectRuns({ roots: [root] }, { width: [1] }), "no run matches", "widths 0.5, 2");
    await rejectsUser(() => selectRuns({ roots: [`${root}/empty`] }), "no info.json found", `${root}/empty`);
    await rejectsUser(() => selectRuns({ roots: [`${root}/nope`] }), `${root}/nope`, "no such folder");
    await rejectsUser(() => selectRuns({ dirs: [`${root}/empty`] }), `${root}/empty/info.json`, "no such file");

    await Deno.writeTextFile(`${dirs[1]}/config.json`, "{");
    await rejectsUser(() => loadRun(dirs[1]), `${dirs[1]}/config.json`, "not valid JSON");
    await Deno.writeTextFile(`${dirs[1]}/config.json`, "{}");
    await rejectsUser(() => loadRun(dirs[1]), `${dirs[1]}/config.json`, "no 'epochs'");
    await Deno.remove(`${dirs[1]}/config.json`); // config.json is optional for figures
    await Deno.writeTextFile(`${dirs[2]}/info.json`, '{"run": {}}');
    await rejectsUser(() => selectRuns({ roots: [root] }), `${dirs[2]}/info.json`, "run.model");
    // With onSkip a broken run found by the scan is reported and left out; one named by --run stays an error.
    const skipped: string[] = [];
    const onSkip = (dir: string, reason: string) => skipped.push(`${dir}: ${reason}`);
    assertEquals((await selectRuns({ roots: [root], onSkip })).length, 3);
    assertEquals(skipped.length, 1);
    assert(skipped[0].startsWith(`${dirs[2]}: ${dirs[2]}/info.json`) && skipped[0].includes("run.model"));
    await rejectsUser(() => selectRuns({ roots: [root], dirs: [dirs[2]], onSkip }), `${dirs[2]}/info.json`);
    // When no run is readable the first reason is the error, and nothing is reported as skipped.
    skipped.length = 0;
    await rejectsUser(() => selectRuns({ roots: [dirs[2]], onSkip }), `${dirs[2]}/info.json`, "run.model");
    assertEquals(skipped.length, 0);

    // A symbolic link to a run folder is not followed by the scan, and is said to be skipped.
    const elsewhere = await Deno.makeTempDir({ prefix: "plot_runs_linked_" });
    try {
      await writeSyntheticRuns(elsewhere, grid([1], [100], [1], ["cross_entropy"], 4));
      await Deno.symlink(elsewhere, `${root}/cifar100/linked`);
      await Deno.remove(dirs[2], { recursive: true });
      assertEquals((await selectRuns({ roots: [root], onSkip })).length, 3);
      assertEquals(skipped, [
        `${root}/cifar100/linked: a symbolic link to a folder, not followed when scanning (give it with --run)`,
      ]);
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
