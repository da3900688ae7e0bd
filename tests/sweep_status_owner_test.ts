/**
 * `sweep --status` after a local sweep died (kill -9): runs the manifest last
 * saw training or evaluating are interrupted, not "training", because no
 * sweep holds the folder's lock; while a sweep holds it, they are what the
 * manifest says.
 */
import { assert, assertEquals } from "./_assert.ts";
import { joinPath } from "../src/io.ts";
import { acquireLock, isLockHeld } from "../src/run/lock.ts";
import { expandGrid, newManifest, sweepStatus, writeManifest } from "../src/sweep/mod.ts";
import { sweep, tinySweepConfig } from "./_sweep_helpers.ts";
import { fakeSlurm } from "./_fake_slurm.ts";

Deno.test("--status: runs of a sweep that no longer runs are interrupted, not training", async () => {
  const root = await Deno.makeTempDir({ prefix: "status_owner_" });
  try {
    const config = tinySweepConfig({ losses: ["cross_entropy", "mean_square_error", "label_smoothing"] });
    const manifest = newManifest(config, expandGrid(root, config));
    const [a, b, c] = Object.values(manifest.runs);
    a.state = "training";
    b.state = "evaluating";
    c.state = "trained";
    await writeManifest(root, manifest);
    const lockPath = joinPath(root, ".sweep.lock");

    // As kill -9 leaves it: the lock file with a dead holder's record, no lock held.
    await Deno.writeTextFile(lockPath, JSON.stringify({ pid: 999999, host: "h", purpose: "sweep", since: "then" }));
    assertEquals(await isLockHeld(lockPath), false);
    const dead = await sweepStatus(root);
    assertEquals(dead.ownerGone, [a.name, b.name]);
    assertEquals([dead.counts.training, dead.counts.evaluating, dead.counts.trained, dead.counts.interrupted], [
      0,
      0,
      1,
      2,
    ]);
    const out = await sweep(["--runs-dir", root, "--status"]);
    assertEquals(out.code, 0, out.stderr);
    assert(out.stdout.startsWith(`${root}: 3 runs: 1 trained, 2 interrupted\n`), out.stdout);
    assert(out.stdout.includes(`interrupted ${a.name}`) && out.stdout.includes("was training;"), out.stdout);
    assert(!/^\s+(training|evaluating) /m.test(out.stdout), out.stdout);
    // Checking wrote nothing into the lock file.
    assert((await Deno.readTextFile(lockPath)).includes("999999"));

    // A live sweep holds the lock: its runs are as the manifest says.
    const lock = await acquireLock(lockPath, "sweep");
    try {
      assertEquals(await isLockHeld(lockPath), true);
      const live = await sweepStatus(root);
      assertEquals(live.ownerGone, []);
      assertEquals([live.counts.training, live.counts.evaluating], [1, 1]);
    } finally {
      lock.release();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--status: a run interrupted and then requeued by Slurm is queued, with nothing to submit", async () => {
  const root = await Deno.makeTempDir({ prefix: "status_requeued_" });
  try {
    const slurm = await fakeSlurm(joinPath(root, "fake-slurm"));
    const config = tinySweepConfig();
    const manifest = newManifest(config, expandGrid(root, config));
    const [a, b] = Object.values(manifest.runs);
    // What the array tasks record when SIGTERM reaches them (scontrol requeue, scancel): interrupted.
    for (const [i, r] of [a, b].entries()) {
      r.state = "interrupted";
      r.jobId = `101_${i}`;
      r.reason = "train interrupted (SIGTERM): cancelled, preempted or at its time limit; submit the sweep again";
    }
    manifest.slurm = [{
      arrayJob: "101",
      reportJob: "102",
      scripts: [],
      runs: { 0: a.name, 1: b.name },
      submitted: "",
    }];
    await writeManifest(root, manifest);
    // Slurm holds task 0 again (requeued, waiting for its begin time); task 1 was cancelled and is gone.
    await Deno.writeTextFile(joinPath(root, "fake-slurm", "jobs"), "101_0|101|0|PENDING|0:00|(BeginTime)\n");
    const out = await sweep(["--runs-dir", root, "--status"], slurm.env);
    assertEquals(out.code, 0, out.stderr);
    assert(out.stdout.startsWith(`${root}: 2 runs: 1 queued, 1 interrupted\n`), out.stdout);
    const lineA = out.stdout.split("\n").find((l) => l.includes(a.name))!;
    assert(/^\s+queued\s/.test(lineA) && lineA.includes("job 101_0 PENDING"), lineA);
    assert(lineA.includes("requeued by Slurm") && lineA.includes("nothing to submit"), lineA);
    assert(!lineA.includes("submit the sweep again"), lineA);
    const lineB = out.stdout.split("\n").find((l) => l.includes(b.name))!;
    assert(/^\s+interrupted\s/.test(lineB) && lineB.includes("no longer in Slurm") === false, lineB);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
