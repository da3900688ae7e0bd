/**
 * Which checkpoints evaluate reads, and what happens to the rows of
 * `info.json` whose checkpoint file is gone: deleted checkpoints keep their
 * rows, symbolic links are followed only inside the run folder, and two files
 * of one epoch are refused.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { UserError } from "../src/errors.ts";
import { epochRanges, evaluateRun, listCheckpoints } from "../src/evaluate/evaluate_run.ts";
import { CHECKPOINT_METRICS } from "../src/metrics/table.ts";
import { makeSyntheticDataset } from "../src/data/mod.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../src/run/checkpoint.ts";
import { trainRun } from "../src/train/train.ts";

await tf.setBackend("cpu");

const CFG = {
  ...DEFAULT_CONFIG,
  dataset: "synthetic",
  model: "mlp",
  mlpDepth: 1,
  mlpHidden: 16,
  lr: 0.05,
  backend: "cpu" as const,
  syntheticDim: 6,
  syntheticClasses: 3,
  syntheticPerClass: 20,
};

/** A trained tiny run of `epochs` epochs in a new temporary folder. */
async function tinyRun(epochs: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "evaluate_ckpt_" });
  await trainRun({ ...CFG, epochs, savePath: dir }, makeSyntheticDataset({ numClasses: 3, dim: 6, trainPerClass: 20 }));
  return dir;
}

const infoOf = async (dir: string) => JSON.parse(await Deno.readTextFile(`${dir}/info.json`));

Deno.test("epochRanges writes runs of epochs as ranges", () => {
  assertEquals(epochRanges([1, 2, 3, 5, 7, 8]), "1–3, 5, 7–8");
  assertEquals(epochRanges([4]), "4");
  assertEquals(epochRanges([]), "");
});

Deno.test("evaluate keeps the rows of deleted checkpoints, says so, and refuses to mix them with rows measured otherwise", async () => {
  const dir = await tinyRun(4);
  try {
    const first = await evaluateRun(dir);
    assertEquals(first.epochs, [1, 2, 3, 4]);
    const before = await infoOf(dir);
    await Deno.remove(`${dir}/epoch-0001.ckpt`);
    await Deno.remove(`${dir}/epoch-0002.ckpt`);

    for (const force of [false, true]) {
      let gone: [number[], number[]] | null = null;
      const info = await evaluateRun(dir, { force, onCheckpointsGone: (kept, dropped) => gone = [kept, dropped] });
      assertEquals(gone, [[1, 2], []], `force ${force}`);
      assertEquals(info.epochs, [1, 2, 3, 4]);
      const after = await infoOf(dir);
      assertEquals(after.epochs, [1, 2, 3, 4]);
      for (const k of CHECKPOINT_METRICS) assertEquals(after[k], before[k], `${k}, force ${force}`);
      assertEquals(after.checkpoints, before.checkpoints);
    }

    // Rows measured another way (float32 projections) cannot stand beside new rows: refused until --force.
    await assertRejects(
      () => evaluateRun(dir, { projection: "float32" }),
      UserError,
      "holds results of epochs 1–2, whose checkpoints are gone, measured with float64 projections",
    );
    assertEquals((await infoOf(dir)).epochs, [1, 2, 3, 4]);
    let dropped: number[] = [];
    const f32 = await evaluateRun(dir, {
      projection: "float32",
      force: true,
      onCheckpointsGone: (_k, d) => dropped = d,
    });
    assertEquals(dropped, [1, 2]);
    assertEquals(f32.epochs, [3, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a symlinked checkpoint is read when it stays inside the run folder and refused in one line otherwise", async () => {
  const dir = await tinyRun(2);
  const elsewhere = await Deno.makeTempDir({ prefix: "evaluate_ckpt_elsewhere_" });
  try {
    const first = await evaluateRun(dir);
    // Inside: epoch 1 is a link to a copy in a subfolder of the run; it is read and its row kept.
    await Deno.mkdir(`${dir}/kept`);
    await Deno.rename(`${dir}/epoch-0001.ckpt`, `${dir}/kept/epoch-0001.ckpt`);
    await Deno.symlink("kept/epoch-0001.ckpt", `${dir}/epoch-0001.ckpt`);
    const linked = await evaluateRun(dir, { force: true });
    assertEquals(linked.epochs, [1, 2]);
    assertEquals(linked.metrics.nc1, first.metrics.nc1);

    // Outside: a valid copy elsewhere, a system file, a link to nothing; and best.ckpt the same way.
    await Deno.copyFile(`${dir}/kept/epoch-0001.ckpt`, `${elsewhere}/copy.ckpt`);
    const cases: [string, string, string][] = [
      ["epoch-0001.ckpt", `${elsewhere}/copy.ckpt`, "outside the run folder"],
      ["epoch-0001.ckpt", "/etc/passwd", "a symbolic link to /etc/passwd, outside the run folder"],
      ["epoch-0001.ckpt", `${dir}/missing.ckpt`, "a symbolic link that points to no file"],
      ["epoch-0001.ckpt", "kept", "not a file"],
      ["best.ckpt", `${elsewhere}/copy.ckpt`, "outside the run folder"],
    ];
    for (const [name, target, message] of cases) {
      const link = `${dir}/${name}`;
      const saved = `${dir}/saved-${name}`;
      await Deno.rename(link, saved);
      await Deno.symlink(target, link);
      const e = await assertRejects(() => evaluateRun(dir, { force: true }), UserError, `${link}: a symbolic link`);
      assert(e.message.includes(message) && !e.message.includes("\n"), e.message);
      await Deno.remove(link);
      await Deno.rename(saved, link);
    }
    assertEquals((await infoOf(dir)).epochs, [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("two files of one epoch are refused, naming both; any spelling of an epoch's name is read", async () => {
  const dir = await tinyRun(2);
  try {
    await evaluateRun(dir);
    await Deno.copyFile(`${dir}/epoch-0002.ckpt`, `${dir}/epoch-2.ckpt`);
    const e = await assertRejects(() => evaluateRun(dir, { force: true }), UserError, "both the checkpoint of epoch 2");
    assert(e.message.includes("epoch-0002.ckpt") && e.message.includes("epoch-2.ckpt"), e.message);
    assertEquals((await infoOf(dir)).epochs, [1, 2]);

    await Deno.remove(`${dir}/epoch-0002.ckpt`);
    assertEquals(await listCheckpoints(dir), [
      { epoch: 1, path: `${dir}/epoch-0001.ckpt` },
      { epoch: 2, path: `${dir}/epoch-2.ckpt` },
    ]);
    assertEquals((await evaluateRun(dir, { force: true })).epochs, [1, 2]);

    await Deno.mkdir(`${dir}/epoch-0003.ckpt`);
    await assertRejects(() => listCheckpoints(dir), UserError, "epoch-0003.ckpt: not a file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a reused row is measured again when its checkpoint's payload changed under an unchanged header", async () => {
  const dir = await tinyRun(2);
  try {
    const first = await evaluateRun(dir);
    const path = `${dir}/epoch-0002.ckpt`;
    /** Checkpoints measured and reused by one evaluation. */
    const counts = async (): Promise<[number, number]> => {
      let seen: [number, number] = [-1, -1];
      await evaluateRun(dir, { onStart: (todo, skipped) => seen = [todo, skipped] });
      return seen;
    };
    assertEquals(await counts(), [0, 2]);

    // Copied back unchanged (a new modification time): the payload is read, found intact, and the row reused.
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes);
    assertEquals(await counts(), [0, 2]);
    assertEquals((await infoOf(dir)).nc1, first.metrics.nc1);

    // One byte of the payload flipped in place: same size, same header, so the same recorded checksum.
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(path, bytes);
    const e = await assertRejects(() => evaluateRun(dir), UserError, `${path}: not a valid checkpoint`);
    assert(e.message.includes("payload checksum mismatch"), e.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a NaN measured from a checkpoint names the checkpoint", async () => {
  const dir = await tinyRun(1);
  try {
    const path = `${dir}/epoch-0001.ckpt`;
    const ckpt = decodeCheckpoint(await Deno.readFile(path), path);
    const tensors = [...ckpt.tensors.values()];
    for (const t of tensors) t.values.fill(NaN);
    await Deno.writeFile(path, encodeCheckpoint(tensors, ckpt.meta));
    const e = await assertRejects(() => evaluateRun(dir), UserError, `${path}: `);
    assert(/non-finite value NaN at row \d+, column \d+$/.test(e.message), e.message);
    assert(!e.message.includes("\n"), e.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
