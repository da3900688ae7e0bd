/**
 * `deno task train` under signals, as a scheduler and a crashing machine
 * deliver them: SIGUSR1 (Slurm's warning before a time limit) stops after
 * the current step with `last.ckpt` saved and exit status 4, and `--load`
 * then ends bit-identical to an uninterrupted run; SIGKILL leaves no stuck
 * lock; with `NCL_DIE_WITH_PARENT=1` a trainer whose parent is killed stops.
 */
import { assert, assertEquals } from "./_assert.ts";
import { readCheckpoint } from "../src/run/checkpoint.ts";
import { runTask, taskArgs, taskCommand } from "./_task.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The tiny run's train flags; a flag in `extra` replaces the default of the same spelling (flags are given once). */
function trainArgs(dir: string, extra: string[] = []): string[] {
  const defaults = [
    "--dataset",
    "synthetic",
    "--model",
    "mlp",
    "--mlp-depth",
    "1",
    "--mlp-hidden",
    "16",
    "--synthetic-per-class",
    "100",
    "--batch-size",
    "10",
    "-e",
    "10",
    "--backend",
    "cpu",
    "--save-path",
    dir,
  ];
  const kept: string[] = [];
  for (let i = 0; i < defaults.length; i += 2) {
    if (!extra.includes(defaults[i])) kept.push(defaults[i], defaults[i + 1]);
  }
  return [...kept, ...extra];
}

/** Reads `stream` until its text contains `marker`; returns the text so far and keeps draining the rest. */
async function waitFor(stream: ReadableStream<Uint8Array>, marker: RegExp): Promise<{ text: () => string }> {
  let text = "";
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let found: () => void = () => {};
  const seen = new Promise<void>((r) => (found = r));
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (marker.test(text)) found();
    }
    found();
  })();
  await seen;
  return { text: () => text };
}

async function sameWeights(a: string, b: string): Promise<void> {
  const [wa, wb] = [await readCheckpoint(`${a}/last.ckpt`), await readCheckpoint(`${b}/last.ckpt`)];
  assertEquals([...wb.tensors.keys()], [...wa.tensors.keys()]);
  for (const [name, t] of wa.tensors) assertEquals(wb.tensors.get(name)!.values, t.values, name);
}

Deno.test("train: SIGUSR1 stops within the epoch, saves last.ckpt, exits 4; --load ends bit-identical", async () => {
  const base = await Deno.makeTempDir({ prefix: "signals_" });
  const [a, b] = [`${base}/a`, `${base}/b`];
  // Long epochs (500 steps) with checkpoints only at the end, so a signal lands inside one.
  const long = ["--synthetic-per-class", "500", "-e", "2", "--save-interval", "2"];
  const straight = await runTask("train", trainArgs(a, long));
  assertEquals(straight.code, 0, straight.stderr);

  const child = (await taskCommand("train", trainArgs(b, long))).spawn();
  child.stdout.cancel();
  const err = await waitFor(child.stderr, /epoch 1\/2/);
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGUSR1");
  const status = await child.status;
  assertEquals(status.code, 4, err.text());
  assert(/received SIGUSR1/.test(err.text()), err.text());
  assert(
    /error: interrupted after epoch 1, batch \d+; .*last\.ckpt saved, resume with --load/.test(err.text()),
    err.text(),
  );
  const resumed = await runTask("train", trainArgs(b, [...long, "--load"]));
  assertEquals(resumed.code, 0, resumed.stderr);
  assert(/resuming after epoch 1, batch \d+ of 500/.test(resumed.stderr), resumed.stderr);
  await sameWeights(a, b);
  await Deno.remove(base, { recursive: true });
});

Deno.test("train: after kill -9 the lock is free, temporary files go, and --load finishes the run", async () => {
  const base = await Deno.makeTempDir({ prefix: "signals_" });
  const dir = `${base}/run`;
  const child = (await taskCommand("train", trainArgs(dir))).spawn();
  child.stdout.cancel();
  const err = await waitFor(child.stderr, /epoch 2\/10/);
  child.kill("SIGKILL");
  assertEquals((await child.status).signal, "SIGKILL", err.text());
  await Deno.writeTextFile(`${dir}/log.jsonl.tmp-${child.pid}-0badf00d`, "cut");
  const again = await runTask("train", trainArgs(dir, ["--load"]));
  assertEquals(again.code, 0, again.stderr);
  assert(![...Deno.readDirSync(dir)].some((e) => e.name.includes(".tmp-")), "temporary file left");
  assertEquals((await readCheckpoint(`${dir}/last.ckpt`)).meta.epoch, 10);
  await Deno.remove(base, { recursive: true });
});

Deno.test("train: a second trainer on a folder in use is refused in one line, exit 2", async () => {
  const base = await Deno.makeTempDir({ prefix: "signals_" });
  const dir = `${base}/run`;
  const child = (await taskCommand("train", trainArgs(dir, ["-e", "100000"]))).spawn();
  child.stdout.cancel();
  const err = await waitFor(child.stderr, /epoch 1\/100000/);
  const second = await runTask("train", trainArgs(dir, ["--load", "--loss", "mean_square_error"]));
  child.kill("SIGKILL");
  await child.status;
  assertEquals(second.code, 2, second.stderr + err.text());
  const lines = second.stderr.trim().split("\n").filter((l) => l.startsWith("error: "));
  assertEquals(lines.length, 1, second.stderr);
  assert(lines[0].includes(`in use by 'train' (pid ${child.pid}`), lines[0]);
  await Deno.remove(base, { recursive: true });
});

Deno.test("train: with NCL_DIE_WITH_PARENT=1 a trainer stops when its parent is killed", async () => {
  const base = await Deno.makeTempDir({ prefix: "signals_" });
  const words = [Deno.execPath(), ...await taskArgs("train"), ...trainArgs(`${base}/run`, ["-e", "100000"])];
  const quoted = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
  const parent = new Deno.Command("bash", {
    args: ["-c", `NCL_DIE_WITH_PARENT=1 ${quoted} >/dev/null 2>&1 & echo $!; wait`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = parent.stdout.getReader();
  const pid = Number(new TextDecoder().decode((await reader.read()).value).trim());
  assert(pid > 0);
  // Wait until the trainer has started writing, then kill its parent.
  for (let i = 0; i < 300 && !(await Deno.stat(`${base}/run/log.jsonl`).catch(() => null)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  parent.kill("SIGKILL");
  await parent.status;
  reader.releaseLock();
  await parent.stdout.cancel();
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    await new Promise((r) => setTimeout(r, 100));
    alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
  }
  if (alive) Deno.kill(pid, "SIGKILL");
  assert(!alive, "the trainer outlived its parent by 10 s");
  // The folder may still be settling (the trainer's last atomic write) when its process is gone from /proc: a
  // recursive removal can then find a file appear under it, so it tries again for up to a second.
  for (let i = 0;; i++) {
    try {
      await Deno.remove(base, { recursive: true });
      break;
    } catch (e) {
      if (i >= 10) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
