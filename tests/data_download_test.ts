/**
 * `downloadCifar` and the tar reader, on archives built here with the system
 * `tar` and served through `file://` URLs or an injected `fetch` (the real
 * URLs are not reachable from the test machines).
 */
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { createHash } from "node:crypto";
import { UserError } from "../src/errors.ts";
import { downloadCifar } from "../src/data/download.ts";
import { readTar } from "../src/data/_tar.ts";
import { loadDataset } from "../src/data/load_dataset.ts";
import { exists } from "../src/io.ts";

const md5 = (b: Uint8Array): string => createHash("md5").update(b).digest("hex");

async function tar(args: string[]): Promise<void> {
  const out = await new Deno.Command("tar", { args, stderr: "piped" }).output();
  if (!out.success) throw new Error(`tar ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Builds `<dir>/cifar-10-binary.tar.gz` holding a small CIFAR-10 binary tree; returns its path. */
async function makeCifar10Archive(dir: string, omit?: string): Promise<string> {
  const src = `${dir}/src`;
  await Deno.mkdir(`${src}/cifar-10-batches-bin`, { recursive: true });
  const names = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat("test_batch.bin");
  for (const [k, name] of names.entries()) {
    if (name === omit) continue;
    const rec = new Uint8Array(10 * 3073);
    for (let i = 0; i < 10; i++) {
      rec[i * 3073] = i;
      rec[i * 3073 + 1] = k;
    }
    await Deno.writeFile(`${src}/cifar-10-batches-bin/${name}`, rec);
  }
  await Deno.writeTextFile(`${src}/cifar-10-batches-bin/batches.meta.txt`, "airplane\nautomobile\n");
  const archive = `${dir}/cifar-10-binary.tar.gz`;
  await tar(["-czf", archive, "-C", src, "cifar-10-batches-bin"]);
  return archive;
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("downloadCifar: verifies the MD5, unpacks atomically, then loads", () =>
  withTemp(async (dir) => {
    const archive = await makeCifar10Archive(dir);
    const bytes = await Deno.readFile(archive);
    const root = `${dir}/data`;
    const files = await downloadCifar("cifar10", root, { url: `file://${archive}`, md5: md5(bytes) });
    assertEquals(files.length, 6);
    assertEquals((await Deno.readFile(`${root}/cifar-10-batches-bin/data_batch_3.bin`))[1], 2);
    assertEquals(await Deno.readTextFile(`${root}/cifar-10-batches-bin/batches.meta.txt`), "airplane\nautomobile\n");
    // Nothing but the unpacked folder is left in the root (the temporary folder is gone).
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name), ["cifar-10-batches-bin"]);
    const ds = await loadDataset("cifar10", { root });
    assertEquals([ds.train.n, ds.val.n, ds.test.n], [45, 5, 10]);
    // Present already: no second fetch.
    const refuse = () => Promise.reject(new Error("must not fetch"));
    await downloadCifar("cifar10", root, { fetch: refuse });
  }));

Deno.test("downloadCifar: an MD5 mismatch is a UserError and leaves nothing behind", () =>
  withTemp(async (dir) => {
    const archive = await makeCifar10Archive(dir);
    const root = `${dir}/data`;
    // Without an override the published MD5 is expected, which the test archive cannot have.
    const e = await assertRejects(
      () => downloadCifar("cifar10", root, { url: `file://${archive}` }),
      UserError,
      "MD5 mismatch",
    );
    assert(e.message.includes("expected c32a1d4ab5d03f1284b67883e8d87530"), e.message);
    assert(!(await exists(`${root}/cifar-10-batches-bin`)));
  }));

Deno.test("loadDataset(download: true) fetches through the given URL; errors are UserErrors", () =>
  withTemp(async (dir) => {
    const archive = await makeCifar10Archive(dir, "data_batch_4.bin");
    const bytes = await Deno.readFile(archive);
    const root = `${dir}/data`;
    await assertRejects(
      () =>
        loadDataset("cifar10", {
          root,
          download: true,
          downloadOptions: { url: `file://${archive}`, md5: md5(bytes) },
        }),
      UserError,
      "archive lacks cifar-10-batches-bin/data_batch_4.bin",
    );
    assertEquals([...Deno.readDirSync(root)], []);
    const notFound = () => Promise.resolve(new Response("no", { status: 404, statusText: "Not Found" }));
    await assertRejects(
      () => downloadCifar("cifar100", root, { fetch: notFound }),
      UserError,
      "cifar-100-binary.tar.gz: HTTP 404",
    );
    const offline = () => Promise.reject(new TypeError("network unreachable"));
    await assertRejects(
      () => downloadCifar("cifar10", root, { fetch: offline }),
      UserError,
      "cannot download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    );
    await Deno.mkdir(`${root}/cifar-10-batches-bin`);
    await assertRejects(
      () => downloadCifar("cifar10", root, { fetch: offline }),
      UserError,
      "exists but lacks some of its files",
    );
  }));

/** A ustar header block for `name` (regular file of `size` bytes), with a valid checksum. */
function header(name: string, size: number, type = "0"): Uint8Array {
  const h = new Uint8Array(512);
  const put = (text: string, at: number) => h.set(new TextEncoder().encode(text), at);
  put(name, 0);
  put("0000644\0", 100);
  put(size.toString(8).padStart(11, "0") + "\0", 124);
  put(type, 156);
  put("ustar\0" + "00", 257);
  h.fill(32, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

Deno.test("readTar: long names, unsafe paths, corrupt and truncated archives", () =>
  withTemp(async (dir) => {
    const long = "d/" + "x".repeat(150) + ".bin";
    await Deno.mkdir(`${dir}/d`);
    await Deno.writeTextFile(`${dir}/${long}`, "hello");
    await tar(["-cf", `${dir}/long.tar`, "-C", dir, long]);
    const entries = readTar(await Deno.readFile(`${dir}/long.tar`), "long.tar");
    assertEquals(entries.map((e) => [e.path, new TextDecoder().decode(e.data)]), [[long, "hello"]]);

    const evil = new Uint8Array(512 * 4);
    evil.set(header("../evil.txt", 3), 0);
    evil.set(new TextEncoder().encode("bad"), 512);
    assertThrows(() => readTar(evil, "evil.tar"), UserError, "evil.tar: refusing unsafe path '../evil.txt'");
    const abs = new Uint8Array(512 * 3);
    abs.set(header("/etc/x", 0), 0);
    assertThrows(() => readTar(abs, "abs.tar"), UserError, "refusing unsafe path '/etc/x'");

    const ok = new Uint8Array(512 * 4);
    ok.set(header("a.txt", 3), 0);
    ok.set(new TextEncoder().encode("abc"), 512);
    assertEquals(readTar(ok, "ok.tar").map((e) => e.path), ["a.txt"]);
    const corrupt = ok.slice();
    corrupt[0] = "b".charCodeAt(0);
    assertThrows(() => readTar(corrupt, "c.tar"), UserError, "c.tar: corrupt tar header at byte 0");
    assertThrows(() => readTar(ok.subarray(0, 600), "t.tar"), UserError, "t.tar: truncated tar archive");
  }));
