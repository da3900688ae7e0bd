/**
 * The local executor and its processes (issue #14): one sweep at a time per
 * runs folder, a sweep's children stop when it is stopped (SIGTERM) and exit
 * when it is killed (SIGKILL, through `NCL_DIE_WITH_PARENT`), a child killed
 * by a signal is recorded as such, and many processes updating one manifest
 * lose no update.
 */
import { assert, assertEquals } from "./_assert.ts";
import { expandGrid, newManifest, readManifest, writeManifest } from "../src/sweep/mod.ts";
import {
  alive,
  childrenOf,
  count,
  runLog,
  startSweep,
  sweep,
  textOr,
  tinyGrid,
  tinySweepConfig,
  waitFor,
} from "./_sweep_helpers.ts";

// One run that trains for a good while (stopped long before its end), on the cpu backend.
const LONG = tinyGrid({ losses: "ce", epochs: 400, perClass: 200, saveInterval: 100 });
const RUN = "mlp-1-ce-400-1";

/** The sweep's training child, once the manifest says it trains and it has written its first epoch. */
async function trainingChild(root: string, sweepPid: number): Promise<number> {
  return await waitFor("the sweep to start training", async () => {
    const state = (await readManifest(root))?.runs[RUN]?.state;
    if (state !== "training" || !(await textOr(runLog(root, RUN))).includes("epoch 1/")) return null;
    return (await childrenOf(sweepPid))[0];
  });
}

async function stderrOf(child: Deno.ChildProcess): Promise<string> {
  return new TextDecoder().decode((await child.output()).stderr);
}

Deno.test("a second sweep on the same runs folder is refused with one line while the first trains", async () => {
  const root = await Deno.makeTempDir();
  const first = await startSweep(["--runs-dir", root, ...LONG]);
  try {
    const trainer = await trainingChild(root, first.pid);
    const second = await sweep(["--runs-dir", root, ...LONG]);
    assertEquals(second.code, 2, second.stderr);
    assertEquals(second.stderr.trim().split("\n").length, 1, second.stderr);
    assert(second.stderr.startsWith(`error: ${root}: in use by 'sweep' (pid ${first.pid} `), second.stderr);
    // Nothing was started twice: one training, by the first sweep's one child.
    assertEquals(count(await Deno.readTextFile(runLog(root, RUN)), "/tasks/train.ts "), 1);
    assert(await alive(trainer));
  } finally {
    first.kill("SIGTERM");
    await first.output();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("SIGTERM to a sweep stops its children first and records the run as interrupted", async () => {
  const root = await Deno.makeTempDir();
  try {
    const first = await startSweep(["--runs-dir", root, ...LONG]);
    const trainer = await trainingChild(root, first.pid);
    first.kill("SIGTERM");
    const [status, stderr] = await Promise.all([first.status, stderrOf(first)]);
    assertEquals(status.code, 143, stderr);
    assert(stderr.includes("sweep: stopped by SIGTERM; run the same command again to resume"), stderr);
    // The child ended before the sweep did (it is no orphan left training).
    assert(!(await alive(trainer)), `training child ${trainer} outlived the sweep`);
    const entry = (await readManifest(root))!.runs[RUN];
    assertEquals(entry.state, "interrupted", entry.reason);
    assert(entry.reason?.startsWith("train interrupted (SIGTERM)"), entry.reason);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a child killed by SIGKILL is recorded as such, not by its last output line", async () => {
  const root = await Deno.makeTempDir();
  const first = await startSweep(["--runs-dir", root, ...LONG]);
  try {
    const trainer = await trainingChild(root, first.pid);
    Deno.kill(trainer, "SIGKILL");
    const [status, stderr] = await Promise.all([first.status, stderrOf(first)]);
    assertEquals(status.code, 1, stderr);
    const entry = (await readManifest(root))!.runs[RUN];
    assertEquals([entry.state, entry.failedStage], ["failed", "train"]);
    assertEquals(entry.reason, "killed by SIGKILL (out of memory?)");
    assert(stderr.includes("FAILED in train (killed by SIGKILL (out of memory?))"), stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "kill -9 of a sweep: its training child exits too, and a rerun resumes the run with one trainer",
  async fn() {
    const root = await Deno.makeTempDir();
    let rerun: Deno.ChildProcess | null = null;
    try {
      const first = await startSweep(["--runs-dir", root, ...LONG]);
      const trainer = await trainingChild(root, first.pid);
      first.kill("SIGKILL");
      await first.output();
      await waitFor(
        `training child ${trainer} to exit after its sweep was killed`,
        async () => !(await alive(trainer)),
        60,
      );
      rerun = await startSweep(["--runs-dir", root, ...LONG]);
      const pid = rerun.pid;
      await waitFor("the rerun to resume training", async () => {
        const log = await textOr(runLog(root, RUN));
        return log.includes("resuming after epoch") && (await childrenOf(pid)).length === 1;
      });
      // One trainer: the first one is gone, the rerun's is the only one.
      assertEquals(count(await Deno.readTextFile(runLog(root, RUN)), "/tasks/train.ts "), 2);
      assert(!(await alive(trainer)));
    } finally {
      rerun?.kill("SIGTERM");
      await rerun?.output();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("8 processes updating one manifest at once lose no update", async () => {
  const root = await Deno.makeTempDir();
  try {
    const config = tinySweepConfig({ seeds: [1, 2] });
    await writeManifest(root, newManifest(config, expandGrid(root, config)));
    const module = new URL("../src/sweep/manifest.ts", import.meta.url).href;
    // Each writer adds 1 to a shared counter and to its own run's field 20 times, with a pause inside the
    // read-modify-write so that an unlocked version would interleave and lose updates.
    const writer = (i: number) =>
      `import { updateManifest } from "${module}";
for (let k = 0; k < 20; k++) {
  await updateManifest("${root}", async (m) => {
    const runs = Object.values(m.runs);
    runs[0].trainSeconds += 1;
    await new Promise((r) => setTimeout(r, 1));
    runs[${i} % runs.length].evaluateSeconds += 1;
  });
}`;
    const outs = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          new Deno.Command(Deno.execPath(), { args: ["eval", writer(i)], stdout: "null", stderr: "piped" }).output(),
      ),
    );
    for (const o of outs) assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
    const runs = Object.values((await readManifest(root))!.runs);
    assertEquals(runs[0].trainSeconds, 160);
    assertEquals(runs.map((r) => r.evaluateSeconds), [40, 40, 40, 40]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
