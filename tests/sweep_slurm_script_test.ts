/**
 * What reaches a Slurm batch script, without a cluster: every value quoted
 * for bash and for sbatch's `#SBATCH` parser, or refused in one line before
 * anything is written (a newline would put a command of its own into the
 * script); and a submission killed between `sbatch --hold` and the release
 * leaves a held array that `--status` shows and the next submission cancels.
 * Submissions go to stand-ins for the Slurm commands (`_fake_slurm.ts`).
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { exists, joinPath } from "../src/io.ts";
import { arrayScript, readManifest, reportScript, sbatchWord, shellQuote, slurmTimeSeconds } from "../src/sweep/mod.ts";
import { thisCommandLine } from "../src/sweep/slurm_script.ts";
import { fakeSlurm } from "./_fake_slurm.ts";
import { sweep, tinyGrid } from "./_sweep_helpers.ts";

/** Values a user may legitimately pass: spaces, both quotes, `$`, backticks, globs, `#`, backslashes. */
const AWKWARD = [
  "plain",
  "two words",
  `it's "quoted"`,
  "$HOME and $(id)",
  "`id`",
  "*.ckpt ?",
  "a#b",
  "back\\slash",
  "",
];

/**
 * The words sbatch reads from one `#SBATCH` line: a transcription of `_get_argument` in Slurm's
 * src/sbatch/opt.c (white space splits unless quoted, `'`/`"` group, `\\` escapes the next character, an
 * unquoted `#` ends the line).
 */
function sbatchWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const space = (c: string) => /[ \t\n\v\f\r]/.test(c);
  while (i < line.length) {
    while (i < line.length && space(line[i])) i++;
    if (i >= line.length) break;
    let word = "";
    let quote = "";
    let escaped = false;
    let ended = false;
    for (; i < line.length && (quote !== "" || !space(line[i])); i++) {
      const c = line[i];
      if (escaped) escaped = false;
      else if (c === "\\") {
        escaped = true;
        continue;
      } else if (quote) {
        if (c === quote) {
          quote = "";
          continue;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
        continue;
      } else if (c === "#") {
        ended = true;
        break;
      }
      word += c;
    }
    if (word !== "" || !ended) words.push(word);
    if (ended) break;
  }
  return words;
}

Deno.test("shell words survive bash exactly; script values with a line break are refused naming them", async () => {
  const words = AWKWARD.map((w) => shellQuote(w));
  const out = await new Deno.Command("bash", { args: ["-c", `printf '%s\\0' ${words.join(" ")}`], stdout: "piped" })
    .output();
  assertEquals(new TextDecoder().decode(out.stdout).split("\0").slice(0, -1), AWKWARD);
  for (const bad of ["a\nb", "a\rb", "a\0b"]) {
    assertThrows(() => shellQuote(bad, "--dataset-root"), UserError, "--dataset-root ");
  }
  assertThrows(() => shellQuote("x\ntouch PWNED", "--dataset-root"), UserError, "contains a newline");
  // The header's command line: quoted word by word; a newline is refused naming its flag.
  assertEquals(
    thisCommandLine("sweep", ["--dataset-root", "/a b", "--lr=0.1"]),
    "deno task sweep --dataset-root '/a b' --lr=0.1",
  );
  assertThrows(
    () => thisCommandLine("sweep", ["--dataset-root", "/x\ntouch PWNED"]),
    UserError,
    `--dataset-root "/x\\ntouch PWNED": contains a newline, which a Slurm batch script cannot hold`,
  );
});

Deno.test("#SBATCH words survive sbatch's parser exactly; words it would misread are refused", () => {
  for (const w of AWKWARD.filter((w) => w !== "")) {
    const word = `--comment=${w}`;
    assertEquals(sbatchWords(`#SBATCH ${sbatchWord(word, "--sbatch-arg")}`.slice(7)), [word], word);
  }
  assertEquals(sbatchWord("--partition=gpu", "--partition"), "--partition=gpu");
  for (const bad of ["--comment=x\ncmd", "--comment=x\rcmd", "--comment=x\0", "--comment=mypackjob", "--c=HetJob"]) {
    assertThrows(() => sbatchWord(bad, "--sbatch-arg"), UserError, "--sbatch-arg ");
  }
});

Deno.test("a batch script with awkward values passes bash -n and runs its command with the values intact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "slurm_script_" });
  try {
    const repo = joinPath(dir, `repo with 'quotes' and $dollar`);
    await Deno.mkdir(repo);
    const slurm = { sbatchArgs: AWKWARD.slice(1, -1).map((w) => `--comment=${w}`), signalSeconds: 300, maxRequeue: 3 };
    const text = arrayScript({
      name: "ncl-x y",
      root: joinPath(dir, "runs #1"),
      repo,
      runs: new Map([[0, "mlp-1-ce-2-1"]]),
      command: ["printf", "%s\\0", ...AWKWARD],
      output: joinPath(dir, "runs #1", "%A_%a.out"),
      header: ["written by: deno task sweep --dataset-root '/a b'"],
      slurm: { ...slurm, partition: "p q" },
    });
    const path = joinPath(dir, "array.sbatch");
    await Deno.writeTextFile(path, text);
    assertEquals((await new Deno.Command("bash", { args: ["-n", path] }).output()).code, 0);
    const out = await new Deno.Command("bash", { args: [path], stdout: "piped", stderr: "piped" }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(new TextDecoder().decode(out.stdout).split("\0").slice(0, -1), AWKWARD);
    // sbatch reads every #SBATCH line as one option, and reads them all (nothing before them ends the block).
    const lines = text.split("\n");
    const sbatchLines = lines.filter((l) => l.startsWith("#SBATCH "));
    assertEquals(sbatchLines.map((l) => sbatchWords(l.slice(7)).length), sbatchLines.map(() => 1));
    assert(sbatchLines.map((l) => sbatchWords(l.slice(7))[0]).includes("--partition=p q"));
    const firstCommand = lines.findIndex((l, i) => i > 0 && l !== "" && !l.startsWith("#"));
    assert(lines.slice(firstCommand).every((l) => !l.startsWith("#SBATCH")), text);
    // A header that would break out of its comment is refused, in both scripts.
    const header = ["by: --dataset-root /x\ntouch PWNED"];
    const report = { name: "r", repo, after: ["1"], command: ["true"], output: "/o", header, slurm };
    assertThrows(() => reportScript(report), UserError, "contains a newline");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweep --executor slurm: a value with a newline is one line, exit 2, nothing written or submitted", async () => {
  const base = await Deno.makeTempDir({ prefix: "slurm_inject_" });
  try {
    const slurm = await fakeSlurm(joinPath(base, "fake"));
    const root = joinPath(base, "sweep");
    const cases: [string[], string][] = [
      [["--dataset-root", "/x\ntouch PWNED"], `error: --dataset-root "/x\\ntouch PWNED": contains a newline`],
      [["--sbatch-arg", "--comment=x\ncmd"], `error: --sbatch-arg "--comment=x\\ncmd": contains a newline`],
      [["--sbatch-arg=--comment=x\rcmd"], `error: --sbatch-arg "--comment=x\\rcmd": contains a carriage return`],
      [["--partition", "gpu\n#SBATCH --wrap=id"], `error: --partition "--partition=gpu\\n#SBATCH`],
      [["--sbatch-arg", "--comment=packjob"], `error: --sbatch-arg "--comment=packjob": sbatch reads 'packjob'`],
    ];
    for (const [args, message] of cases) {
      const r = await sweep(["--runs-dir", root, ...tinyGrid(), "--executor", "slurm", ...args], slurm.env);
      assertEquals(r.code, 2, r.stderr);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert(r.stderr.startsWith(message), r.stderr);
      assertEquals(await exists(root), false, `${args.join(" ")}: ${root} was created`);
    }
    assertEquals(await slurm.calls(), []);
    assertEquals(await exists(joinPath(Deno.cwd(), "PWNED")), false);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("sweep --executor slurm: awkward legitimate values reach sbatch intact", async () => {
  const base = await Deno.makeTempDir({ prefix: "slurm_values_" });
  try {
    const slurm = await fakeSlurm(joinPath(base, "fake"));
    const root = joinPath(base, "sweep");
    const comment = `--comment=a b 'c' "d" #e $f \`g\``;
    const r = await sweep(
      ["--runs-dir", root, ...tinyGrid(), "--executor", "slurm", "--time", "0", "--sbatch-arg", comment],
      slurm.env,
    );
    assertEquals(r.code, 0, r.stderr);
    const m = (await readManifest(root))!;
    assertEquals(m.slurm?.map((s) => [s.arrayJob, s.released]), [["101", true]]);
    const text = await Deno.readTextFile(m.slurm![0].scripts[0]);
    const words = text.split("\n").filter((l) => l.startsWith("#SBATCH ")).map((l) => sbatchWords(l.slice(7)));
    assert(words.some((w) => w.length === 1 && w[0] === comment), text);
    assert(words.some((w) => w[0] === "--time=0"), text);
    assertEquals(slurmTimeSeconds("0"), Infinity);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("kill -9 between sbatch --hold and the release: --status shows the held array, the next submission cancels it", async () => {
  const base = await Deno.makeTempDir({ prefix: "slurm_held_" });
  try {
    const slurm = await fakeSlurm(joinPath(base, "fake"));
    const root = joinPath(base, "sweep");
    const args = ["--runs-dir", root, ...tinyGrid(), "--executor", "slurm"];
    const killed = await sweep(args, { ...slurm.env, FAKE_SLURM_KILL_ON_RELEASE: "1" });
    assertEquals(killed.code, 137, killed.stderr);
    // The held array (101) and its report job (102) are recorded, not yet released.
    const m = (await readManifest(root))!;
    assertEquals(m.slurm?.map((s) => [s.arrayJob, s.reportJob, s.released]), [["101", "102", false]]);
    assertEquals(Object.values(m.runs).map((r) => [r.state, r.jobId]), [["queued", "101_0"], ["queued", "101_1"]]);

    const status = await sweep(["--runs-dir", root, "--status"], slurm.env);
    assertEquals(status.code, 0, status.stderr);
    assert(status.stdout.includes("slurm: array 101 was submitted held and its submission stopped"), status.stdout);

    const again = await sweep(args, slurm.env);
    assertEquals(again.code, 0, again.stderr);
    assert(again.stderr.includes("sweep: cancelled array 101"), again.stderr);
    assert((await slurm.calls()).includes("scancel 101 102"), (await slurm.calls()).join("\n"));
    const after = (await readManifest(root))!;
    assertEquals(after.slurm?.map((s) => [s.arrayJob, s.released]), [["101", true], ["103", true]]);
    assertEquals(Object.values(after.runs).map((r) => [r.state, r.jobId]), [["queued", "103_0"], ["queued", "103_1"]]);
    assertEquals((await slurm.jobs()).every((j) => !j.startsWith("101") && !j.includes("JobHeldUser")), true);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a job sbatch refuses leaves no manifest, logs or scripts behind", async () => {
  const base = await Deno.makeTempDir({ prefix: "slurm_refused_" });
  try {
    const slurm = await fakeSlurm(joinPath(base, "fake"));
    const root = joinPath(base, "sweep");
    const env = { ...slurm.env, FAKE_SLURM_REFUSE: "Invalid partition name specified" };
    const r = await sweep(["--runs-dir", root, ...tinyGrid(), "--executor", "slurm", "--partition", "nope"], env);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.startsWith("error: --executor slurm: sbatch refused the job: Invalid partition"), r.stderr);
    assertEquals(await exists(root), false);
    // In a folder that was there before, only what the submission wrote goes.
    await Deno.mkdir(root);
    await Deno.writeTextFile(joinPath(root, "notes.txt"), "mine");
    const again = await sweep(["--runs-dir", root, ...tinyGrid(), "--executor", "slurm"], env);
    assertEquals(again.code, 2, again.stderr);
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name).filter((n) => !n.startsWith(".")), ["notes.txt"]);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
