/**
 * The manifest and the scheduling logic, with a fake runner standing in for
 * the train and evaluate subprocesses: round trip, configuration mismatch,
 * skipping finished runs, resuming interrupted ones with `--load`, failures
 * recorded while the sweep carries on, and parallel jobs.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import {
  expandGrid,
  type Manifest,
  MANIFEST_FILE,
  newManifest,
  planSweep,
  readManifest,
  runSweep,
  type SweepEvent,
  type SweepTask,
  type TaskRunner,
  writeManifest,
} from "../src/sweep/mod.ts";
import { tinySweepConfig } from "./_sweep_helpers.ts";
import { eventLine } from "../tasks/_sweep_progress.ts";

const CONFIG = tinySweepConfig({ epochs: [2, 4], trainArgs: { "mlp-hidden": 16, "data-aug": false } });

interface Call {
  task: SweepTask;
  args: string[];
}

/**
 * A runner that behaves like the tasks on disk: train writes `last.ckpt`,
 * evaluate writes `info.json`; `fail` picks runs to fail with an exit status.
 */
function fakeRunner(calls: Call[], fail: (task: SweepTask, dir: string) => number = () => 0): TaskRunner {
  return async (task, args) => {
    calls.push({ task, args });
    const dir = args[args.indexOf("--save-path") + 1];
    const code = fail(task, dir);
    if (code === 3) return { code, errorLine: "training diverged: loss is NaN at epoch 1, batch 2" };
    if (code !== 0) return { code, errorLine: "something broke" };
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(joinPath(dir, task === "train" ? "last.ckpt" : "info.json"), "{}");
    return { code: 0, errorLine: "" };
  };
}

/** A test given a fresh temporary sweep root, removed afterwards whatever the test does. */
function testInRoot(name: string, fn: (root: string) => Promise<void>): void {
  Deno.test(name, async () => {
    const root = await Deno.makeTempDir();
    try {
      await fn(root);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}

testInRoot("manifest round trip, and a different configuration is refused", async (root) => {
  assertEquals(await readManifest(root), null);
  const m = newManifest(CONFIG, expandGrid(root, CONFIG), "test");
  m.runs["mlp-1-ce-2-1"].state = "failed";
  m.runs["mlp-1-ce-2-1"].reason = "why";
  await writeManifest(root, m);
  const back = (await readManifest(root)) as Manifest;
  assertEquals(back.runs, m.runs);
  assertEquals(back.config, CONFIG);
  // The same grid listed in another order is the same sweep.
  await planSweep({ root, config: { ...CONFIG, losses: ["mean_square_error", "cross_entropy"] } });
  const e = await assertRejects(
    () => planSweep({ root, config: { ...CONFIG, trainArgs: { "mlp-hidden": 32, "data-aug": false } } }),
    UserError,
  );
  assert(e.message.startsWith(`--runs-dir ${root}: its manifest.json was written by another`), e.message);
  assert(e.message.includes("trainArgs"), e.message);
  await Deno.writeTextFile(joinPath(root, MANIFEST_FILE), "{ not json");
  await assertRejects(() => readManifest(root), UserError, "not valid JSON");
});

testInRoot("a sweep trains then evaluates each run; a second invocation skips them all", async (root) => {
  const calls: Call[] = [];
  const s = await runSweep({ root, config: CONFIG, runner: fakeRunner(calls) });
  assertEquals([s.total, s.evaluated, s.failed.length, s.skipped], [4, 4, 0, 0]);
  assertEquals(calls.map((c) => c.task), [
    "train",
    "evaluate",
    "train",
    "evaluate",
    "train",
    "evaluate",
    "train",
    "evaluate",
  ]);
  assert(calls.every((c) => !c.args.includes("--load")));
  const m = (await readManifest(root))!;
  assert(Object.values(m.runs).every((r) => r.state === "evaluated" && r.started && r.finished));
  const again: Call[] = [];
  const s2 = await runSweep({ root, config: CONFIG, runner: fakeRunner(again) });
  assertEquals([s2.evaluated, s2.skipped, again.length], [4, 4, 0]);
});

testInRoot(
  "interrupted runs resume with --load; trained runs are only evaluated; lost info.json is redone",
  async (root) => {
    const runs = expandGrid(root, CONFIG);
    const m = newManifest(CONFIG, runs);
    // run 0: killed while training (a checkpoint exists); run 1: trained, not evaluated;
    // run 2: evaluated but its info.json is gone; run 3: evaluated.
    m.runs[runs[0].name].state = "training";
    m.runs[runs[1].name].state = "trained";
    m.runs[runs[2].name].state = "evaluated";
    m.runs[runs[3].name].state = "evaluated";
    for (const r of runs) {
      await Deno.mkdir(r.dir, { recursive: true });
      await Deno.writeTextFile(joinPath(r.dir, "last.ckpt"), "");
    }
    await Deno.writeTextFile(joinPath(runs[3].dir, "info.json"), "{}");
    await writeManifest(root, m);
    const plan = await planSweep({ root, config: CONFIG });
    assertEquals(plan.map((p) => p.action), ["resume", "evaluate", "evaluate", "skip"]);
    const calls: Call[] = [];
    const s = await runSweep({ root, config: CONFIG, runner: fakeRunner(calls) });
    assertEquals([s.evaluated, s.skipped], [4, 1]);
    assertEquals(calls.map((c) => `${c.task} ${c.args.includes("--load")}`), [
      "train true",
      "evaluate false",
      "evaluate false",
      "evaluate false",
    ]);
  },
);

testInRoot(
  "failed runs are recorded with their reason and the others carry on; diverged runs are not retried",
  async (root) => {
    const runs = expandGrid(root, CONFIG);
    const fail = (task: SweepTask, dir: string): number =>
      task === "train" && dir === runs[0].dir ? 3 : task === "evaluate" && dir === runs[1].dir ? 1 : 0;
    const s = await runSweep({ root, config: CONFIG, runner: fakeRunner([], fail) });
    assertEquals([s.evaluated, s.failed.length], [2, 2]);
    const m = (await readManifest(root))!;
    const diverged = m.runs[runs[0].name];
    assertEquals([diverged.state, diverged.failedStage, diverged.exitCode], ["failed", "train", 3]);
    assert(diverged.reason!.startsWith("training diverged: loss is NaN"), diverged.reason);
    const broken = m.runs[runs[1].name];
    assertEquals([broken.state, broken.failedStage, broken.reason], ["failed", "evaluate", "something broke"]);

    // Next time: the diverged run is skipped, the failed evaluation is retried (and now succeeds).
    const calls: Call[] = [];
    const s2 = await runSweep({ root, config: CONFIG, runner: fakeRunner(calls) });
    assertEquals(calls.map((c) => `${c.task} ${c.args[c.args.indexOf("--save-path") + 1]}`), [
      `evaluate ${runs[1].dir}`,
    ]);
    assertEquals([s2.evaluated, s2.failed.length], [3, 1]);
    const s3 = await runSweep({ root, config: CONFIG, retryFailed: true, runner: fakeRunner([]) });
    assertEquals([s3.evaluated, s3.failed.length], [4, 0]);
  },
);

testInRoot("--jobs runs several runs at once and the manifest stays consistent", async (root) => {
  let running = 0;
  let peak = 0;
  const inner = fakeRunner([]);
  const runner: TaskRunner = async (task, args, log) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 20));
    const result = await inner(task, args, log);
    running--;
    return result;
  };
  const events: string[] = [];
  const s = await runSweep({
    root,
    config: CONFIG,
    jobs: 2,
    runner,
    onEvent: (e) => events.push(`${e.kind} ${e.done}/${e.total}`),
  });
  assertEquals(peak, 2);
  assertEquals(s.evaluated, 4);
  assertEquals(events.filter((e) => e.startsWith("finish")).at(-1), "finish 4/4");
  const m = (await readManifest(root))!;
  assert(Object.values(m.runs).every((r) => r.state === "evaluated"));
});

testInRoot("a run whose evaluation SIGTERM interrupts is not counted as done in the progress", async (root) => {
  const inner = fakeRunner([]);
  const runner: TaskRunner = async (task, args, log) => {
    if (task === "train") return await inner(task, args, log);
    // SIGTERM to the sweep during the evaluation; the evaluation then stops, as the task does (exit 4).
    const heard = new Promise<void>((resolve) => {
      const listener = () => {
        Deno.removeSignalListener("SIGTERM", listener);
        resolve();
      };
      Deno.addSignalListener("SIGTERM", listener);
    });
    const keepAlive = setTimeout(() => {}, 10_000); // signal listeners alone do not keep the event loop running
    Deno.kill(Deno.pid, "SIGTERM");
    await heard;
    clearTimeout(keepAlive);
    return { code: 4, errorLine: "" };
  };
  const events: SweepEvent[] = [];
  const s = await runSweep({ root, config: CONFIG, runner, onEvent: (e) => events.push(e) });
  assertEquals(s.stoppedBy, "SIGTERM");
  const ended = events.filter((e) => e.kind !== "start");
  assertEquals(ended.map((e) => `${e.kind} ${e.done}/${e.total} ${e.run.state}`), ["stop 0/4 trained"]);
  const line = eventLine(ended[0]);
  assert(line.startsWith(`[0/4] ${ended[0].run.name}: not finished, evaluate interrupted (SIGTERM)`), line);
});
