/**
 * What a run records about where it was made: the CPU model, the thread
 * counts, the package version and the git commit, in `config.json`'s
 * environment.
 */
import { assert, assertEquals } from "./_assert.ts";
import { cpuModel, gitCommit, machineEnvironment, PACKAGE, threadCounts } from "../src/run/environment.ts";
import { cpus } from "node:os";
import { joinPath } from "../src/io.ts";
import { runTask } from "./_task.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

Deno.test("the recorded package name and version are deno.json's", async () => {
  const config = JSON.parse(await Deno.readTextFile(joinPath(ROOT, "deno.json")));
  assertEquals(PACKAGE, { name: config.name, version: config.version });
});

Deno.test("cpuModel names the CPU; threadCounts reads TensorFlow's variables", () => {
  const model = cpus()[0]?.model;
  assert(typeof model === "string" && model.length > 0, "the OS reports a CPU model");
  assertEquals(cpuModel(), model.trim());
  assertEquals(threadCounts({}), { tf_intra_op: "default", tf_inter_op: "default" });
  assertEquals(threadCounts({ TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "3" }), {
    tf_intra_op: 1,
    tf_inter_op: 3,
  });
  assertEquals(threadCounts({ TF_NUM_INTRAOP_THREADS: "0", TF_NUM_INTEROP_THREADS: "x" }), {
    tf_intra_op: "default",
    tf_inter_op: "default",
  });
});

Deno.test("gitCommit reads detached, loose, packed and worktree heads, and gives null without a checkout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "git_commit_" });
  const write = async (path: string, text: string) => {
    await Deno.mkdir(joinPath(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(joinPath(dir, path), text);
  };
  try {
    assertEquals(await gitCommit(joinPath(dir, "none")), null);
    await write("detached/.git/HEAD", `${A}\n`);
    assertEquals(await gitCommit(joinPath(dir, "detached")), A);
    await write("loose/.git/HEAD", "ref: refs/heads/main\n");
    await write("loose/.git/refs/heads/main", `${B}\n`);
    assertEquals(await gitCommit(joinPath(dir, "loose")), B);
    await write("packed/.git/HEAD", "ref: refs/heads/dev\n");
    await write("packed/.git/packed-refs", `# pack-refs with: peeled\n${A} refs/heads/main\n${C} refs/heads/dev\n`);
    assertEquals(await gitCommit(joinPath(dir, "packed")), C);
    // A worktree: `.git` is a file; its HEAD names a branch kept in the main repository.
    await write("packed/.git/worktrees/wt/HEAD", "ref: refs/heads/main\n");
    await write("packed/.git/worktrees/wt/commondir", "../..\n");
    await write("wt/.git", `gitdir: ${joinPath(dir, "packed/.git/worktrees/wt")}\n`);
    assertEquals(await gitCommit(joinPath(dir, "wt")), A);
    await write("broken/.git/HEAD", "ref: refs/heads/gone\n");
    assertEquals(await gitCommit(joinPath(dir, "broken")), null);
    const env = await machineEnvironment({ env: {}, cpuModel: null, checkout: joinPath(dir, "none") });
    assertEquals({ cpu: env.cpu_model, commit: env.git_commit }, { cpu: null, commit: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `git rev-parse HEAD` of the repository, or null where git or the checkout is missing. */
async function revParseHead(): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: ROOT, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

Deno.test("train records the CPU model, thread counts, package version and commit in config.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_environment_" });
  try {
    const args = ["--dataset", "synthetic", "--synthetic-per-class", "10", "--model", "mlp", "--mlp-depth", "1"];
    args.push("--mlp-hidden", "8", "-e", "1", "--backend", "cpu");
    const out = await runTask("train", [...args, "--save-path", dir], {
      env: { TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "2" },
    });
    assertEquals(out.code, 0, out.stderr);
    const env = JSON.parse(await Deno.readTextFile(joinPath(dir, "config.json"))).environment;
    // The task's own permissions must let it name the CPU (Deno reads /proc/cpuinfo only with --allow-all).
    assert(typeof env.cpu_model === "string" && env.cpu_model.length > 0, `cpu_model ${env.cpu_model}`);
    assertEquals(env.cpu_model, cpuModel());
    assertEquals(env.threads, { tf_intra_op: 1, tf_inter_op: 2 });
    assertEquals(env.logical_cpus, navigator.hardwareConcurrency);
    assertEquals(env.package, PACKAGE);
    assertEquals(env.git_commit, await revParseHead());
    assert(typeof env.versions.deno === "string" && typeof env.versions.tfjs_core === "string");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
