/**
 * Paths on the command line as a user types them: `deno task --config
 * <repo>/deno.json <task>` run from a folder outside the repository, so that
 * `deno task` runs the task in the repository root with `INIT_CWD` set to the
 * user's folder. Relative paths must land in the user's folder; a bad output
 * path must be one `error:` line and exit status 2.
 */
import { assert, assertEquals } from "./_assert.ts";
import { exists, joinPath } from "../src/io.ts";
import { writeNpy } from "../src/arrays/npy.ts";
import { readManifest } from "../src/sweep/mod.ts";
import { grid, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test's environment without `INIT_CWD` (which `deno task test` sets, and a nested `deno task` would keep). */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return { ...env, NO_COLOR: "1", ...extra };
}

async function spawn(args: string[], cwd: string, env: Record<string, string>): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `deno task -q --config <repo>/deno.json <task> <args>`, run in `cwd`. */
function task(cwd: string, name: string, args: string[]): Promise<Output> {
  return spawn(["task", "-q", "--config", CONFIG, name, ...args], cwd, baseEnv());
}

/** Asserts exit status 2 and exactly one stderr line, `error: …` containing every one of `parts`. */
function assertOneLineError(r: Output, ...parts: string[]): void {
  assertEquals(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0].startsWith("error: "), r.stderr);
  for (const p of parts) assert(lines[0].includes(p), `'${p}' not in: ${lines[0]}`);
}

/** Writes a tiny measure problem (N = 4, d = 2, K = 2) as features.npy, labels.npy, weights.npy in `dir`. */
async function writeMeasureInputs(dir: string): Promise<void> {
  const f = new Float32Array([1, 0, 1.1, 0, -1, 0, -1.1, 0]);
  await Deno.writeFile(joinPath(dir, "features.npy"), writeNpy({ dtype: "float32", shape: [4, 2], data: f }));
  await Deno.writeFile(
    joinPath(dir, "labels.npy"),
    writeNpy({ dtype: "int32", shape: [4], data: new Int32Array([0, 0, 1, 1]) }),
  );
  await Deno.writeFile(
    joinPath(dir, "weights.npy"),
    writeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array([1, 0, -1, 0]) }),
  );
}

Deno.test("deno task from another folder: relative paths are the user's folder's", async () => {
  const user = await Deno.makeTempDir({ prefix: "cli_paths_user_" });
  try {
    await writeMeasureInputs(user);
    await writeSyntheticRuns(joinPath(user, "runs"), grid([2], [200], [1], ["cross_entropy", "focal_loss"], 4));
    await Deno.mkdir(joinPath(user, "sub"));
    const [ufm, measure, plot, missing] = await Promise.all([
      task(user, "ufm", ["--K", "3", "--d", "3", "--n", "2", "--no-sweep", "--out", "out/ufm"]),
      task(joinPath(user, "sub"), "measure", [
        "--features",
        "../features.npy",
        "--labels",
        "../labels.npy",
        "--weights",
        "../weights.npy",
        "--json",
      ]),
      task(user, "plot", ["--runs", "runs", "--out", "figs"]),
      task(user, "heatmap", ["--runs", "nowhere"]),
    ]);
    assertEquals(ufm.code, 0, ufm.stderr);
    assert(await exists(joinPath(user, "out", "ufm", "ufm.json")), ufm.stdout);
    assertEquals(measure.code, 0, measure.stderr);
    assertEquals(JSON.parse(measure.stdout).top1, 100);
    assertEquals(plot.code, 0, plot.stderr);
    assert(plot.stdout.includes(`${user}/figs/`), plot.stdout);
    assert(await exists(joinPath(user, "figs", "cifar100-wide_resnet50-w2-e200-nc1.svg")), plot.stdout);
    assertOneLineError(missing, `--runs ${user}/nowhere: no such folder`);
    assertEquals(await exists(joinPath(ROOT, "figs")), false, "plot wrote into the repository");
  } finally {
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("deno run: relative paths follow INIT_CWD when set, else the working folder", async () => {
  const user = await Deno.makeTempDir({ prefix: "cli_paths_run_" });
  try {
    await writeMeasureInputs(user);
    const args = [
      "run",
      "--allow-read",
      "--allow-env",
      joinPath(ROOT, "tasks", "measure.ts"),
      "--features",
      "features.npy",
      "--labels",
      "labels.npy",
      "--weights",
      "weights.npy",
      "--json",
    ];
    const [withInit, withCwd, withoutEnvAccess] = await Promise.all([
      spawn(args, ROOT, baseEnv({ INIT_CWD: user })),
      spawn(args, user, baseEnv()),
      // Without env permission INIT_CWD is not read (and not prompted for): the working folder, the repository.
      spawn(args.filter((a) => a !== "--allow-env"), ROOT, baseEnv({ INIT_CWD: user })),
    ]);
    assertEquals(withInit.code, 0, withInit.stderr);
    assertEquals(withCwd.code, 0, withCwd.stderr);
    assertEquals(JSON.parse(withInit.stdout), JSON.parse(withCwd.stdout));
    assertOneLineError(withoutEnvAccess, `${ROOT}features.npy`);
  } finally {
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("a sweep from another folder: --runs-dir is the user's, and its train and evaluate children agree", async () => {
  const user = await Deno.makeTempDir({ prefix: "cli_paths_sweep_" });
  try {
    const r = await task(user, "sweep", [
      "--runs-dir",
      "sweep",
      ...["--dataset", "synthetic", "--model", "mlp", "--losses", "ce", "--widths", "1", "--epochs-list", "1"],
      ...["--seeds", "1", "--synthetic-per-class", "10", "--synthetic-dim", "4", "--mlp-depth", "1"],
      ...["--mlp-hidden", "8", "--train-subset", "0", "--backend", "cpu"],
    ]);
    assertEquals(r.code, 0, r.stderr);
    const m = (await readManifest(joinPath(user, "sweep")))!;
    assertEquals(m.runs["mlp-1-ce-1-1"].state, "evaluated", m.runs["mlp-1-ce-1-1"].reason);
    assert(await exists(joinPath(user, "sweep", "mlp-1-ce-1-1", "info.json")));
  } finally {
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("a bad output path is one error line naming it, exit status 2", async () => {
  const user = await Deno.makeTempDir({ prefix: "cli_paths_bad_" });
  try {
    await Deno.writeTextFile(joinPath(user, "afile"), "");
    await writeSyntheticRuns(joinPath(user, "runs"), grid([2], [200], [1], ["cross_entropy"], 3));
    // A file where the report's figures/ folder goes: found only when the task writes.
    await Deno.mkdir(joinPath(user, "rep"));
    await Deno.writeTextFile(joinPath(user, "rep", "figures"), "");
    const afile = `${user}/afile`;
    const cases: [Promise<Output>, string[]][] = [
      [task(user, "plot", ["--runs", "runs", "--out", "afile"]), [`--out ${afile}: is a file, not a folder`]],
      [task(user, "heatmap", ["--runs", "runs", "--out", "afile/x"]), [`--out ${afile}/x: ${afile} is a file`]],
      [task(user, "report", ["--runs", "runs", "--out", "afile"]), [`--out ${afile}:`]],
      [task(user, "ufm", ["--no-sweep", "--out", "afile"]), [`--out ${afile}:`]],
      [task(user, "train", ["--save-path", "afile", "--dataset", "synthetic"]), [`--save-path ${afile}:`]],
      [task(user, "sweep", ["--runs-dir", "afile", "--dry-run"]), [`--runs-dir ${afile}:`]],
      [task(user, "measure", ["--features", ".", "--labels", "x", "--weights", "y"]), [`--features ${user}:`]],
      [task(user, "report", ["--runs", "runs", "--out", "rep"]), [`exists and is not a folder: ${user}/rep/figures`]],
    ];
    if (Deno.uid() !== 0) {
      // Root may write anywhere; others get a permission error from the OS.
      await Deno.mkdir(joinPath(user, "locked"), { mode: 0o555 });
      cases.push([task(user, "ufm", ["--no-sweep", "--out", "locked/ufm"]), [`permission denied`, `${user}/locked`]]);
    }
    for (const [run, parts] of cases) assertOneLineError(await run, ...parts);
  } finally {
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("system paths the tasks may not reach are one error line naming the path, exit status 2", async () => {
  const user = await Deno.makeTempDir({ prefix: "cli_paths_system_" });
  try {
    const cases: [Promise<Output>, string][] = [
      [task(user, "plot", ["--runs", "/proc", "--out", "fig"]), "/proc"],
      [task(user, "report", ["--runs", "/dev", "--out", "rep"]), "/dev"],
      [task(user, "heatmap", ["--runs", "/sys/kernel", "--out", "fig"]), "/sys/kernel"],
      [
        task(user, "train", ["--save-path", "/proc/x", "--dataset", "synthetic", "--model", "mlp", "-e", "1"]),
        "/proc/x",
      ],
      [task(user, "sweep", ["--runs-dir", "/proc/foo", "--status"]), "/proc/foo"],
    ];
    for (const [run, path] of cases) {
      const r = await run;
      const errors = r.stderr.trim().split("\n").filter((l) => !l.startsWith("train: "));
      assertOneLineError({ ...r, stderr: errors.join("\n") }, "not permitted", path);
    }
    // Nothing was written in the user's folder.
    assertEquals([...Deno.readDirSync(user)].map((e) => e.name), []);
  } finally {
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("a path holding a newline stays on one error line; a scalar flag given twice is refused", async () => {
  const user = await Deno.makeTempDir({ prefix: "cli_paths_newline_" });
  try {
    assertOneLineError(await task(user, "plot", ["--runs", "a\nb"]), `--runs ${user}/a\\nb: no such folder`);
    assertOneLineError(
      await task(user, "plot", ["--out", "a", "--out=b"]),
      "--out: given twice ('--out a', then '--out=b')",
    );
  } finally {
    await Deno.remove(user, { recursive: true });
  }
});

Deno.test("--help prints list defaults as they are typed", async () => {
  const r = await task(ROOT, "ufm", ["--help"]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("(default: cross_entropy,label_smoothing,focal_loss,mean_square_error)"), r.stdout);
  assert(r.stdout.includes("(default: runs/ufm, in the repository)"), r.stdout);
  assert(!r.stdout.includes('["'), r.stdout);
});
