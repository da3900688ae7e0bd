/**
 * A crafted `last.ckpt` (header rewritten, checksums recomputed) must not
 * change a resumed run: every field of its meta is type- and range-checked
 * before anything is restored or written, and a bad one is one error line
 * naming the file and the field, with `config.json` untouched.
 */
import { assertEquals, assertRejects } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import { readCheckpoint } from "../src/run/checkpoint.ts";
import { datasetForConfig, trainRun } from "../src/train/train.ts";
import { rewriteCheckpointMeta } from "./_checkpoint.ts";
import { tinyConfig, tinyData } from "./_train_fixture.ts";
import { runTask } from "./_task.ts";

await tf.setBackend("cpu");

/** Every file of `dir` but the lock with its SHA-256, to show that a refused resume wrote nothing. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isFile || e.name === ".lock") continue;
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(joinPath(dir, e.name)));
    files.set(e.name, [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  }
  return files;
}

/** Crafts `last.ckpt` of `dir` with `change`, checks that resuming to `epochs` is refused naming `field`, restores it. */
async function assertRefused(
  dir: string,
  epochs: number,
  change: (meta: Record<string, unknown>) => void,
  field: string,
): Promise<void> {
  const last = joinPath(dir, "last.ckpt");
  const original = await Deno.readFile(last);
  await rewriteCheckpointMeta(last, change);
  const before = await snapshot(dir);
  await assertRejects(
    () => trainRun({ ...tinyConfig(dir, epochs), load: true }, tinyData()),
    UserError,
    `${last}: not a valid checkpoint (meta '${field}' must be`,
  );
  assertEquals(await snapshot(dir), before, `${field}: the refused resume changed the folder`);
  await Deno.writeFile(last, original);
}

Deno.test("a crafted last.ckpt of a finished epoch is refused field by field before anything is written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crafted_" });
  try {
    await trainRun(tinyConfig(dir, 2), tinyData());
    const meta = (await readCheckpoint(joinPath(dir, "last.ckpt"))).meta;
    assertEquals(meta.step, 4); // 2 epochs of 2 batches (120 samples, batches of 100)
    // Resumed to 3 epochs: a resume that got past the checks would rewrite config.json (the extension).
    const cases: [(m: Record<string, unknown>) => void, string][] = [
      [(m) => void (m.rng = "x"), "rng"],
      [(m) => void (m.rng = [1, 2, 3]), "rng"],
      [(m) => void (m.rng = [1e300, 1e300, 1e300, 1e300, null]), "rng"],
      [(m) => void (m.rng = [0, 0, 0, 0, null]), "rng"],
      [(m) => void delete m.rng, "rng"],
      [(m) => void (m.step = "abc"), "step"],
      [(m) => void (m.step = 1), "step"],
      [(m) => void delete m.step, "step"],
      [(m) => void (m.best_val_top1 = "high"), "best_val_top1"],
      [(m) => void (m.best_val_top1 = 1e9), "best_val_top1"],
      [(m) => void (m.partial = { batches: 99999 }), "partial"],
    ];
    for (const [change, field] of cases) await assertRefused(dir, 3, change, field);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a crafted partial epoch in last.ckpt is refused field by field; the genuine one resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crafted_" });
  try {
    // Stopped after its first batch: last.ckpt records epoch 0 and a partial epoch of 1 batch.
    const stopped = await trainRun(tinyConfig(dir, 2), tinyData(), {}, { signal: AbortSignal.abort() });
    assertEquals(stopped.interrupted, { epoch: 0, batch: 1 });
    const partial = (m: Record<string, unknown>) => m.partial as Record<string, unknown>;
    const cases: [(m: Record<string, unknown>) => void, string][] = [
      [(m) => void (partial(m).batches = 99999), "partial.batches"],
      [(m) => void (partial(m).batches = -1), "partial.batches"],
      [(m) => void (partial(m).batches = "x"), "partial.batches"],
      [(m) => void (partial(m).batches = 0), "partial.batches"],
      [(m) => void (partial(m).rng = [1, 2]), "partial.rng"],
      [(m) => void (partial(m).sums = [0, "1", 0]), "partial.sums"],
      [(m) => void (partial(m).seen = 1e6), "partial.seen"],
      [(m) => void (m.partial = "x"), "partial"],
      [(m) => void (m.step = 0), "step"],
    ];
    for (const [change, field] of cases) await assertRefused(dir, 2, change, field);
    const resumed = await trainRun({ ...tinyConfig(dir, 2), load: true }, tinyData());
    assertEquals(resumed.records.map((r) => r.epoch), [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task train --load with a crafted last.ckpt: one error line naming file and field, exit 2", async () => {
  const dir = joinPath(await Deno.makeTempDir({ prefix: "crafted_task_" }), "run");
  try {
    // The task builds the data from config.json, so the run is trained on that data here too.
    const cfg = tinyConfig(dir, 2);
    await trainRun(cfg, await datasetForConfig(cfg));
    const last = joinPath(dir, "last.ckpt");
    const config = await Deno.readTextFile(joinPath(dir, "config.json"));
    const original = await Deno.readFile(last);
    for (
      const [change, field] of [[(m) => void (m.best_val_top1 = "high"), "best_val_top1"], [
        (m) => void delete m.rng,
        "rng",
      ]] as [(m: Record<string, unknown>) => void, string][]
    ) {
      await rewriteCheckpointMeta(last, change);
      const r = await runTask("train", ["--load", "-e", "3", "--backend", "cpu", "--save-path", dir]);
      assertEquals(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("train: "));
      assertEquals(lines.length, 1, r.stderr);
      assertEquals(
        lines[0].startsWith(`error: ${last}: not a valid checkpoint (meta '${field}' must be`),
        true,
        r.stderr,
      );
      assertEquals(await Deno.readTextFile(joinPath(dir, "config.json")), config);
      await Deno.writeFile(last, original);
    }
  } finally {
    await Deno.remove(joinPath(dir, ".."), { recursive: true });
  }
});
