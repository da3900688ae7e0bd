/**
 * `deno task sweep --executor slurm` against a real Slurm (the one-node
 * cluster `.ci/slurm/start.sh` starts; no mock): a small grid to the end with
 * its report job, a training task told to stop by SIGUSR1 that requeues and
 * resumes to the same bits as an uninterrupted run, and a resubmission while
 * jobs are queued that duplicates nothing. Skipped, saying why, where
 * `sbatch` is not on PATH or no controller answers; the bad-input checks that need no cluster always run.
 */
import { assert, assertEquals } from "./_assert.ts";
import { exists, joinPath } from "../src/io.ts";
import {
  expandGrid,
  findOnPath,
  type Manifest,
  newManifest,
  readManifest,
  type SlurmJob,
  squeueJobs,
  writeManifest,
} from "../src/sweep/mod.ts";
import { count, runLog, sweep, textOr, tinyGrid, tinySweepConfig, waitFor } from "./_sweep_helpers.ts";
import { taskCommand } from "./_task.ts";

/** Why the cluster tests cannot run here, or "" when a controller answers. */
async function slurmAbsence(): Promise<string> {
  if (findOnPath("sbatch") === null) return "sbatch is not on PATH";
  // Slurm's commands installed without a running controller (a developer's machine): skip, as without sbatch.
  const ping = await new Deno.Command("scontrol", { args: ["ping"], stdout: "piped", stderr: "null" }).output()
    .catch(() => null);
  const answer = ping ? new TextDecoder().decode(ping.stdout) : "";
  return ping?.success && /UP/.test(answer) ? "" : "no Slurm controller answers scontrol ping";
}
const ABSENT = await slurmAbsence();
const HAS_SLURM = ABSENT === "";
const SKIP = HAS_SLURM ? "" : ` [ignored: ${ABSENT}; .ci/run starts a one-node Slurm cluster]`;

/** The live array tasks and report jobs of the sweep in `root`. */
async function liveJobs(m: Manifest | null): Promise<SlurmJob[]> {
  const ids = new Set((m?.slurm ?? []).flatMap((s) => [s.arrayJob, s.reportJob]));
  return ((await squeueJobs()) ?? []).filter((j) => ids.has(j.arrayJob));
}

async function scancelAll(root: string): Promise<void> {
  const m = await readManifest(root);
  const ids = (m?.slurm ?? []).flatMap((s) => [s.arrayJob, s.reportJob]);
  if (ids.length > 0) await new Deno.Command("scancel", { args: ids }).output();
}

async function scontrol(...args: string[]): Promise<void> {
  const out = await new Deno.Command("scontrol", { args, stderr: "piped" }).output();
  assertEquals(out.code, 0, `scontrol ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

const SLURM = ["--executor", "slurm", "--time", "10", "--signal-seconds", "30"];

Deno.test("bad input for --executor slurm is one line, exit 2, and submits nothing", async () => {
  const base = await Deno.makeTempDir();
  try {
    const root = joinPath(base, "sweep");
    const cases: [string[], Record<string, string>, string][] = [
      [[...SLURM], { PATH: "/nonexistent" }, "error: --executor slurm: sbatch is not on PATH"],
      [["--executor", "slurm", "--time", "2 days"], {}, "error: --time: '2 days' is not a Slurm time limit"],
      [["--executor", "slurm", "--time", "1"], {}, "error: --signal-seconds 300: must be below the time limit"],
      [["--partition", "gpu"], {}, "error: --partition: only with --executor slurm"],
      [["--executor", "slurm", "--sbatch-arg", "--array=0-3"], {}, "error: --sbatch-arg --array=0-3: set by the sweep"],
    ];
    for (const [args, env, message] of cases) {
      const r = await sweep(["--runs-dir", root, ...tinyGrid(), ...args], env);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert(r.stderr.startsWith(message), r.stderr);
    }
    assertEquals(await exists(joinPath(root, "slurm")), false);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test({
  name: `slurm rejections and a manifest of another grid are one line and submit nothing${SKIP}`,
  ignore: !HAS_SLURM,
  async fn() {
    const base = await Deno.makeTempDir();
    const root = joinPath(base, "sweep");
    try {
      const bad = await sweep(["--runs-dir", root, ...tinyGrid(), ...SLURM, "--partition", "no-such-partition"]);
      assertEquals(bad.code, 2, bad.stderr);
      assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      assert(bad.stderr.startsWith("error: --executor slurm: sbatch refused the job: "), bad.stderr);
      assert(/partition/i.test(bad.stderr) && bad.stderr.includes("nothing submitted"), bad.stderr);
      // The refused submission created the folder, so it leaves none behind (no manifest, logs or scripts).
      assertEquals(await exists(root), false);
      assertEquals(((await squeueJobs()) ?? []).filter((j) => j.state === "PENDING" && /held/i.test(j.where)), []);

      const config = tinySweepConfig();
      await writeManifest(root, newManifest(config, expandGrid(root, config)));
      const other = await sweep(["--runs-dir", root, ...tinyGrid({ losses: "ce,mse" }), ...SLURM]);
      assertEquals(other.code, 2, other.stderr);
      assert(other.stderr.startsWith(`error: --runs-dir ${root}: its manifest.json was written by another`));
      assertEquals((await readManifest(root))?.slurm, undefined);
    } finally {
      await scancelAll(root);
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: `a 4-run grid runs to the end as a job array, each run once, then the report job draws${SKIP}`,
  ignore: !HAS_SLURM,
  async fn() {
    const base = await Deno.makeTempDir();
    const root = joinPath(base, "grid");
    try {
      const r = await sweep(["--runs-dir", root, ...tinyGrid({ seeds: "1,2" }), ...SLURM, "--throttle", "2"]);
      assertEquals(r.code, 0, r.stderr);
      assert(r.stderr.includes("submitted 4 runs as job array"), r.stderr);
      const script = await Deno.readTextFile(joinPath(root, "slurm", "array-001.sbatch"));
      assert(script.includes("#SBATCH --array=0-3%2") && script.includes("#SBATCH --signal=B:USR1@30"), script);
      assert(script.includes("#SBATCH --time=10"), script);
      const report = await Deno.readTextFile(joinPath(root, "slurm", "report-001.sbatch"));
      const m0 = (await readManifest(root))!;
      assert(report.includes(`#SBATCH --dependency=afterany:${m0.slurm![0].arrayJob}`), report);

      // The report job ends last (it waits for the whole array), so Slurm holding nothing means all is done.
      await waitFor("the array and the report job to leave the queue", async () => (await liveJobs(m0)).length === 0);
      const m = (await readManifest(root))!;
      const array = m.slurm![0].arrayJob;
      Object.values(m.runs).forEach((run, i) => {
        assertEquals(run.state, "evaluated", `${run.name}: ${run.reason}`);
        assertEquals(run.jobId, `${array}_${i}`);
      });
      for (const run of Object.keys(m.runs)) {
        const log = await Deno.readTextFile(runLog(root, run));
        // Each run was executed exactly once: one array task, one training, one evaluation.
        assertEquals(count(log, "== slurm: array task"), 1, log);
        assertEquals(count(log, "/tasks/train.ts "), 1, log);
        assertEquals(count(log, "/tasks/evaluate.ts "), 1, log);
        assert(log.includes("epoch 2/2"), log);
      }
      assert(await exists(joinPath(root, "report", "report.html")));
      assert(await exists(joinPath(root, "report", "report.md")));
      assert([...Deno.readDirSync(joinPath(root, "figures"))].some((e) => e.name.endsWith(".svg")));

      const again = await sweep(["--runs-dir", root, ...tinyGrid({ seeds: "1,2" }), ...SLURM, "--throttle", "2"]);
      assertEquals(again.code, 0, again.stderr);
      assert(again.stderr.includes("nothing to submit"), again.stderr);
      const status = await sweep(["--runs-dir", root, "--status"]);
      assert(status.stdout.startsWith(`${root}: 4 runs: 4 evaluated`), status.stdout);
    } finally {
      await scancelAll(root);
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: `resubmitting while runs are queued submits only runs that are not queued, never a second copy${SKIP}`,
  ignore: !HAS_SLURM,
  async fn() {
    const base = await Deno.makeTempDir();
    const root = joinPath(base, "queued");
    // The tasks may not start within the test: they wait for a begin time an hour away.
    const args = ["--runs-dir", root, ...tinyGrid({ seeds: "1,2" }), ...SLURM, "--sbatch-arg", "--begin=now+1hour"];
    try {
      const first = await sweep(args);
      assertEquals(first.code, 0, first.stderr);
      const m1 = (await readManifest(root))!;
      const a1 = m1.slurm![0].arrayJob;
      assert(Object.values(m1.runs).every((r) => r.state === "queued"));
      assertEquals((await liveJobs(m1)).filter((j) => j.taskId !== null).length, 4);

      // A local sweep of the same folder would run them a second time: refused.
      const local = await sweep(["--runs-dir", root, ...tinyGrid({ seeds: "1,2" })]);
      assertEquals(local.code, 2, local.stderr);
      assert(local.stderr.startsWith(`error: --runs-dir ${root}: 4 runs are queued or running in Slurm (${a1}_0`));

      const second = await sweep(args);
      assertEquals(second.code, 0, second.stderr);
      assert(second.stderr.includes(`nothing to submit under ${root}: 0 evaluated or skipped, 4 already queued`));
      assertEquals((await readManifest(root))!.slurm!.length, 1);

      // One task cancelled: the next submission sends that run alone, and its report job replaces the waiting one.
      await new Deno.Command("scancel", { args: [`${a1}_1`] }).output();
      await waitFor("task 1 to leave the queue", async () => !(await liveJobs(m1)).some((j) => j.id === `${a1}_1`));
      const third = await sweep(args);
      assertEquals(third.code, 0, third.stderr);
      assert(third.stderr.includes("submitted 1 runs as job array"), third.stderr);
      const m3 = (await readManifest(root))!;
      const [s1, s2] = m3.slurm!;
      assertEquals(Object.keys(s2.runs), ["1"]);
      const names = Object.keys(m3.runs);
      assertEquals(m3.runs[names[1]].jobId, `${s2.arrayJob}_1`);
      const live = await liveJobs(m3);
      const tasks = live.filter((j) => j.taskId !== null).map((j) => j.id).sort();
      assertEquals(tasks, [`${a1}_0`, `${a1}_2`, `${a1}_3`, `${s2.arrayJob}_1`].sort());
      assertEquals(live.filter((j) => j.taskId === null).map((j) => j.id), [s2.reportJob]);
      assert(!live.some((j) => j.id === s1.reportJob));
      const report = await Deno.readTextFile(joinPath(root, "slurm", "report-002.sbatch"));
      assert(report.includes(`#SBATCH --dependency=afterany:${a1}:${s2.arrayJob}`), report);
      const status = await sweep(["--runs-dir", root, "--status"]);
      assertEquals(count(status.stdout, " PENDING "), 5, status.stdout);
    } finally {
      await scancelAll(root);
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: `a training task told to stop (SIGUSR1) requeues, resumes from last.ckpt and ends bit-identical${SKIP}`,
  ignore: !HAS_SLURM,
  async fn() {
    const base = await Deno.makeTempDir();
    const root = joinPath(base, "requeue");
    const grid = tinyGrid({ losses: "ce", epochs: 40, perClass: 200, saveInterval: 20 });
    try {
      const r = await sweep(["--runs-dir", root, ...grid, ...SLURM]);
      assertEquals(r.code, 0, r.stderr);
      const m = (await readManifest(root))!;
      const task = `${m.slurm![0].arrayJob}_0`;
      const run = Object.keys(m.runs)[0];
      // The uninterrupted twin, trained meanwhile with the very arguments of the sweep's train stage.
      const log = runLog(root, run);
      const trainLine = await waitFor("training to start", async () => {
        const line = (await textOr(log)).split("\n").find((l) => l.includes("/tasks/train.ts "));
        return line && (await textOr(log)).includes("epoch 1/40") ? line : null;
      });
      await new Deno.Command("scancel", { args: ["--signal=USR1", "--batch", task] }).output();
      const twinDir = joinPath(base, "twin");
      const twinArgs = trainLine.slice(trainLine.indexOf("/tasks/train.ts ") + "/tasks/train.ts ".length).split(" ")
        .map((a) => (a === joinPath(root, run) ? twinDir : a));
      const twin = (await taskCommand("train", twinArgs)).output(); // the train task's own permissions

      // Slurm holds a requeued task back (BeginTime, about two minutes); let it start sooner.
      await waitFor("the task to be requeued", async () => {
        const job = ((await squeueJobs()) ?? []).find((j) => j.id === task);
        return job?.state === "PENDING" && job.where.includes("BeginTime");
      }).catch(async (e) => {
        const out = await textOr(joinPath(root, "logs", "slurm", `${task}.out`));
        throw new Error(`${e.message}\n${await textOr(log)}\n${out}\n${JSON.stringify(await squeueJobs())}`);
      });
      // Not "now": slurmd revokes the killed incarnation's credential with one-second resolution, and a
      // restart within that second fails ("Job credential revoked"); a few seconds leave room on a busy machine.
      await scontrol("update", `jobid=${task}`, "StartTime=now+5");
      await waitFor("the requeued run to be evaluated", async () => {
        const state = (await readManifest(root))!.runs[run].state;
        return state === "evaluated" || state === "failed";
      });
      const done = (await readManifest(root))!.runs[run];
      assertEquals([done.state, done.requeues, done.jobId], ["evaluated", 1, task], done.reason);
      const text = await Deno.readTextFile(log);
      assertEquals(count(text, "== slurm: array task"), 2, text);
      assert(text.includes("--load"), "the second attempt resumed with --load");
      assert(/resuming after epoch \d+/.test(text), text);
      const out = await Deno.readTextFile(joinPath(root, "logs", "slurm", `${task}.out`));
      assert(out.includes(`requeueing ${task} (restart 1 of 3)`), out);

      const t = await twin;
      assertEquals(t.code, 0, new TextDecoder().decode(t.stderr));
      for (const file of ["last.ckpt", "epoch-0040.ckpt"]) {
        const a = await Deno.readFile(joinPath(root, run, file));
        const b = await Deno.readFile(joinPath(twinDir, file));
        assert(a.length === b.length && a.every((x, i) => x === b[i]), `${file} differs from the uninterrupted run`);
      }
    } finally {
      await scancelAll(root);
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: `after scontrol requeue, --status shows the run queued by Slurm, not 'submit again'${SKIP}`,
  ignore: !HAS_SLURM,
  async fn() {
    const base = await Deno.makeTempDir();
    const root = joinPath(base, "requeued");
    const grid = tinyGrid({ losses: "ce", epochs: 400, perClass: 200, saveInterval: 50 });
    try {
      const r = await sweep(["--runs-dir", root, ...grid, ...SLURM]);
      assertEquals(r.code, 0, r.stderr);
      const m = (await readManifest(root))!;
      const task = `${m.slurm![0].arrayJob}_0`;
      const run = Object.keys(m.runs)[0];
      await waitFor("training to start", async () => (await textOr(runLog(root, run))).includes("epoch 1/400"));
      await scontrol("requeue", task);
      await waitFor(
        "the task to record its interruption",
        async () => (await readManifest(root))!.runs[run].state === "interrupted",
      );
      const status = await sweep(["--runs-dir", root, "--status"]);
      assertEquals(status.code, 0, status.stderr);
      const line = status.stdout.split("\n").find((l) => l.includes(run)) ?? "";
      assert(/^\s+queued\s/.test(line) && line.includes(`job ${task} `), status.stdout);
      assert(line.includes("requeued by Slurm") && !line.includes("submit the sweep again"), status.stdout);
      assert(status.stdout.includes(": 1 runs: 1 queued"), status.stdout);
    } finally {
      await scancelAll(root);
      await Deno.remove(base, { recursive: true });
    }
  },
});
