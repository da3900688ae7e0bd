/**
 * Reading training logs as they grow (src/serve/log_tail.ts): from the last
 * offset, across the whole-file renames training does, without a half-written
 * last line, and from the start again when a resumed run rewrote the file.
 */
import { writeFileAtomic } from "../src/io.ts";
import { LogTail, readLogEnd } from "../src/serve/log_tail.ts";
import { assert, assertEquals } from "./_assert.ts";

const line = (epoch: number, loss = 1 / epoch): string =>
  JSON.stringify({ epoch, train_loss: loss, val_top1: 10 * epoch, seconds: 0.5 }) + "\n";
const lines = (from: number, to: number): string => {
  let s = "";
  for (let e = from; e <= to; e++) s += line(e);
  return s;
};

Deno.test("LogTail reads only the bytes added since the last read, across renames into place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log.jsonl`;
    const tail = new LogTail(path);
    assertEquals((await tail.read()).added, [], "a missing log reads as empty");
    await writeFileAtomic(path, lines(1, 3));
    const first = await tail.read();
    assertEquals(first.added.map((r) => r.epoch), [1, 2, 3]);
    // Training rewrites the whole file each epoch (temporary file, rename): the old lines plus one.
    await writeFileAtomic(path, lines(1, 5));
    const second = await tail.read();
    assertEquals(second.added.map((r) => r.epoch), [4, 5]);
    assertEquals(second.restarted, false);
    assertEquals(second.bytesRead, line(4).length + line(5).length, "only the new lines are read");
    assertEquals(tail.records.map((r) => r.epoch), [1, 2, 3, 4, 5]);
    assertEquals((await tail.read()).bytesRead, 0, "an unchanged file costs no read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogTail leaves a half-written last line for the next read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log.jsonl`;
    const full = line(2);
    await Deno.writeTextFile(path, line(1) + full.slice(0, 10));
    const tail = new LogTail(path);
    assertEquals((await tail.read()).added.map((r) => r.epoch), [1]);
    await Deno.writeTextFile(path, full.slice(10), { append: true });
    assertEquals((await tail.read()).added.map((r) => r.epoch), [2]);
    assertEquals(tail.records.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogTail starts again when a resumed run rewrote the log before the offset", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log.jsonl`;
    const tail = new LogTail(path);
    await writeFileAtomic(path, lines(1, 4));
    await tail.read();
    // Resumed from epoch 2's checkpoint: records 3 and 4 are dropped and written again, differently.
    await writeFileAtomic(path, lines(1, 2) + line(3, 0.9) + line(4, 0.8) + line(5, 0.7));
    const again = await tail.read();
    assert(again.restarted, "a changed prefix restarts the read");
    assertEquals(tail.records.map((r) => [r.epoch, r.train_loss]), [
      [1, 1],
      [2, 0.5],
      [3, 0.9],
      [4, 0.8],
      [5, 0.7],
    ]);
    // Shorter than before: also a restart.
    await writeFileAtomic(path, lines(1, 2));
    assert((await tail.read()).restarted);
    assertEquals(tail.records.map((r) => r.epoch), [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readLogEnd reads a bounded window at the end of a long log", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log.jsonl`;
    await Deno.writeTextFile(path, lines(1, 2000) + '{"epoch": 2001, "train_lo');
    const end = await readLogEnd(path, 1000);
    assert(end.length > 3 && end.length < 20, `${end.length} records from 1000 bytes`);
    assertEquals(end.at(-1)?.epoch, 2000, "the partial last line is left out");
    assertEquals(end.map((r) => r.epoch), Array.from({ length: end.length }, (_, i) => 2001 - end.length + i));
    assertEquals(await readLogEnd(`${dir}/missing.jsonl`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
