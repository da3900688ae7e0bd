/**
 * The pieces of `--executor slurm` that need no cluster: the array task run
 * directly with the environment Slurm would give it (its run found by
 * `SLURM_ARRAY_TASK_ID`, the GPU note of `--gpus-per-task`, no second
 * execution of an evaluated run), `--status` of a local sweep, and the
 * script helpers (array ranges, time limits, quoting).
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import {
  arraySpec,
  expandGrid,
  gpuLogLine,
  newManifest,
  readManifest,
  shellQuote,
  slurmTimeSeconds,
  type SweepConfig,
  writeManifest,
} from "../src/sweep/mod.ts";
import { taskCommand } from "./_task.ts";
import { count, runLog, sweep, textOr, tinyGrid, tinySweepConfig, waitFor } from "./_sweep_helpers.ts";

const CONFIG = tinySweepConfig({
  losses: ["cross_entropy", "label_smoothing"],
  trainArgs: {
    "synthetic-per-class": 20,
    "synthetic-dim": 8,
    "mlp-depth": 1,
    "mlp-hidden": 16,
    "save-interval": 1,
  },
});

const SLURM_ENV = { SLURM_ARRAY_JOB_ID: "99", SLURMD_NODENAME: "here", SLURM_RESTART_COUNT: "0" };

Deno.test("an array task finds its run by SLURM_ARRAY_TASK_ID, notes the GPU, and never runs an evaluated run again", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeManifest(root, newManifest(CONFIG, expandGrid(root, CONFIG)));
    const task = ["--slurm-array-task", "--runs-dir", root, "--backend", "cpu", "--gpus-per-task", "1"];
    const r = await sweep(task, { ...SLURM_ENV, SLURM_ARRAY_TASK_ID: "1" });
    assertEquals(r.code, 0, r.stderr);
    const m = (await readManifest(root))!;
    const [first, second] = Object.values(m.runs);
    assertEquals([first.state, second.state], ["pending", "evaluated"], second.reason);
    assertEquals([second.jobId, second.node, second.requeues], ["99_1", "here", 0]);
    const log = await Deno.readTextFile(runLog(root, second.name));
    assert(log.includes("== slurm: array task 99_1 on here, attempt 1"), log);
    // This machine may or may not have a GPU; either way the log says which.
    assert(
      log.includes("== gpu: @tensorflow/tfjs-node-gpu loaded and uses the GPU") ||
        log.includes("== note: --gpus-per-task 1, but "),
      log,
    );
    assertEquals(count(log, "/tasks/train.ts "), 1);

    const again = await sweep(task, { ...SLURM_ENV, SLURM_ARRAY_TASK_ID: "1" });
    assertEquals(again.code, 0, again.stderr);
    const log2 = await Deno.readTextFile(runLog(root, second.name));
    assert(log2.includes(`== ${second.name} is already evaluated; nothing to do`), log2);
    assertEquals(count(log2, "/tasks/train.ts "), 1);

    for (
      const [env, message] of [
        [{}, "error: --slurm-array-task: SLURM_ARRAY_TASK_ID is not set"],
        [{ SLURM_ARRAY_TASK_ID: "7" }, `error: SLURM_ARRAY_TASK_ID 7: ${root} has runs 0-1 only`],
      ] as const
    ) {
      const bad = await sweep(task, { ...SLURM_ENV, ...env });
      assertEquals(bad.code, 2, bad.stderr);
      assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      assert(bad.stderr.startsWith(message), bad.stderr);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("warned before its time limit, a task stops training and is requeued, at most --max-requeue times", async () => {
  const root = await Deno.makeTempDir();
  try {
    const config: SweepConfig = {
      ...CONFIG,
      losses: ["cross_entropy"],
      epochs: [400],
      trainArgs: { ...CONFIG.trainArgs, "synthetic-per-class": 200, "save-interval": 100 },
    };
    await writeManifest(root, newManifest(config, expandGrid(root, config)));
    const run = expandGrid(root, config)[0].name;
    // Attempt 1 of 3 is requeued; the 4th attempt (3 restarts) is not, and the run is failed with the reason.
    for (const [restarts, state] of [["0", "queued"], ["3", "failed"]] as const) {
      // The sweep task's own permissions (deno.json), as an array task runs it.
      const task = (await taskCommand("sweep", ["--slurm-array-task", "--runs-dir", root, "--backend", "cpu"], {
        env: { ...SLURM_ENV, SLURM_ARRAY_TASK_ID: "0", SLURM_RESTART_COUNT: restarts },
      })).spawn();
      task.stdout.cancel();
      const attempt = Number(restarts) + 1;
      await waitFor("training to run", async () => {
        const log = await textOr(runLog(root, run));
        return log.includes(`attempt ${attempt} `) && log.split(`attempt ${attempt} `)[1].includes("epoch ");
      });
      // What the batch script sends on Slurm's USR1.
      task.kill("SIGUSR2");
      const out = await task.output();
      assertEquals(out.code, 4, new TextDecoder().decode(out.stderr));
      const entry = (await readManifest(root))!.runs[run];
      assertEquals(entry.state, state, entry.reason);
      if (state === "queued") {
        assert(entry.reason!.startsWith("train interrupted (SIGUSR2): time limit near; requeued (restart 1 of 3)"));
      } else {
        assert(entry.reason!.startsWith("interrupted 4 times by its time limit; --max-requeue 3 reached"));
      }
    }
    const log = await Deno.readTextFile(runLog(root, run));
    assert(log.includes("resuming after epoch"), log);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--status of a local sweep: the runs by state; a folder without a sweep is one line", async () => {
  const base = await Deno.makeTempDir();
  const root = joinPath(base, "sweep");
  try {
    const r = await sweep(["--runs-dir", root, ...tinyGrid({ losses: "ce" })]);
    assertEquals(r.code, 0, r.stderr);
    const status = await sweep(["--runs-dir", root, "--status"]);
    assertEquals(status.code, 0, status.stderr);
    assertEquals(status.stdout, `${root}: 1 runs: 1 evaluated\n`);
    const none = await sweep(["--runs-dir", base, "--status"]);
    assertEquals(none.code, 2);
    assertEquals(none.stderr, `error: --runs-dir ${base}: no sweep here (no manifest.json)\n`);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("array ranges, Slurm time limits and shell quoting", () => {
  assertEquals(arraySpec([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
  assertEquals(arraySpec([3], 32), "3%32");
  assertEquals(slurmTimeSeconds("2-00:00:00"), 172800);
  assertEquals(slurmTimeSeconds("90"), 5400);
  assertEquals(slurmTimeSeconds("1:30"), 90);
  assertEquals(slurmTimeSeconds("4:00:00"), 14400);
  assertEquals(slurmTimeSeconds("1-12"), 129600);
  assertEquals(slurmTimeSeconds("UNLIMITED"), Infinity);
  for (const bad of ["2 days", "1h", "-1", "1-2-3", ""]) {
    assertThrows(() => slurmTimeSeconds(bad), UserError, "is not a Slurm time limit");
  }
  assertEquals(shellQuote("/a/b-c_d.ts"), "/a/b-c_d.ts");
  assertEquals(shellQuote("it's here"), `'it'\\''s here'`);
  assert(gpuLogLine(2, { ok: false, reason: "not installed" }).includes("--gpus-per-task 2, but the native backend"));
});
