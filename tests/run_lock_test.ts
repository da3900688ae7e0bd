import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { acquireLock, LockedError, readLockHolder, withLock } from "../src/run/lock.ts";

const LOCK_MODULE = new URL("../src/run/lock.ts", import.meta.url).href;

Deno.test("acquireLock: a second holder is refused with one line naming the first", async () => {
  const dir = await Deno.makeTempDir();
  const lock = await acquireLock(`${dir}/.lock`, "train");
  const err = await assertRejects(() => acquireLock(`${dir}/.lock`, "evaluate"), LockedError);
  assert(err.message.includes(`${dir}: in use by 'train' (pid ${Deno.pid}`), err.message);
  assert(!err.message.includes("\n"));
  assertEquals(err.holder?.pid, Deno.pid);
  lock.release();
  lock.release(); // idempotent
  const again = await acquireLock(`${dir}/.lock`, "evaluate");
  assertEquals((await readLockHolder(`${dir}/.lock`))?.purpose, "evaluate");
  again.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("acquireLock: a holder killed with SIGKILL leaves nothing stuck", async () => {
  const dir = await Deno.makeTempDir();
  const code = `import { acquireLock } from "${LOCK_MODULE}";
await acquireLock("${dir}/.lock", "train"); console.log("locked"); setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assertEquals(first.trim(), "locked");
  const err = await assertRejects(() => acquireLock(`${dir}/.lock`, "train"), LockedError);
  assertEquals(err.holder?.pid, child.pid);
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  const lock = await acquireLock(`${dir}/.lock`, "train");
  lock.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("withLock: concurrent read-modify-write sections lose no update", async () => {
  const dir = await Deno.makeTempDir();
  const counter = `${dir}/n.txt`;
  await Deno.writeTextFile(counter, "0");
  const code = `import { withLock } from "${LOCK_MODULE}";
for (let i = 0; i < 25; i++) await withLock("${dir}/.lock", async () => {
  const n = Number(await Deno.readTextFile("${counter}"));
  await new Promise((r) => setTimeout(r, 1));
  await Deno.writeTextFile("${counter}", String(n + 1));
});`;
  const children = Array.from(
    { length: 4 },
    () => new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null", stderr: "inherit" }).output(),
  );
  // This process takes part too, through its own descriptor.
  for (let i = 0; i < 25; i++) {
    await withLock(`${dir}/.lock`, async () => {
      const n = Number(await Deno.readTextFile(counter));
      await Deno.writeTextFile(counter, String(n + 1));
    });
  }
  for (const c of await Promise.all(children)) assertEquals(c.code, 0);
  assertEquals(await Deno.readTextFile(counter), "125");
  await Deno.remove(dir, { recursive: true });
});
