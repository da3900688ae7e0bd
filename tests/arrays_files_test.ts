/**
 * src/arrays/: every layout NumPy writes (tests/fixtures/arrays/generate.py),
 * read whole and in batches of rows of several sizes; .npz members stored
 * and deflated; hostile files (lying headers, huge shapes, truncated data,
 * zip bombs, labels out of range), each a one-line UserError naming the file.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { classLabels, expandPaths, openArrayFile, sampleSource, type Shard } from "../src/arrays/mod.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import { type NpyData, npyHeader, readNpy, writeNpy } from "../src/arrays/npy.ts";

const DIR = joinPath(new URL(".", import.meta.url).pathname, "fixtures", "arrays");
const EXPECTED = JSON.parse(await Deno.readTextFile(joinPath(DIR, "expected.json"))) as Record<
  string,
  { shape: number[]; values: number[] }
>;

function values(data: NpyData): number[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

async function rejectsWith(f: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assertRejects(f, UserError, pattern);
}

/** Reads every row of `spec` through the row cursor, `batch` rows at a time. */
async function readByRows(spec: string, batch: number): Promise<number[]> {
  const f = await openArrayFile(spec);
  try {
    const cursor = await f.rows();
    const out: number[] = [];
    for (;;) {
      const part = await cursor.next(batch);
      if (part.length === 0) break;
      out.push(...values(part));
    }
    await cursor.close();
    return out;
  } finally {
    f.close();
  }
}

for (const name of Object.keys(EXPECTED).filter((n) => n.endsWith(".npy"))) {
  Deno.test(`arrays: ${name} as NumPy wrote it, whole and in rows of 1, 3 and all`, async () => {
    const want = EXPECTED[name];
    const whole = readNpy(await Deno.readFile(joinPath(DIR, name)), name);
    assertEquals(whole.shape, want.shape);
    assertEquals(values(whole.data), want.values);
    const f = await openArrayFile(joinPath(DIR, name));
    assertEquals(values((await f.readAll()).data), want.values);
    f.close();
    for (const batch of [1, 3, 1000]) assertEquals(await readByRows(joinPath(DIR, name), batch), want.values);
  });
}

Deno.test("arrays: .npz members, stored and deflated, C and Fortran order, by key", async () => {
  for (const archive of ["stored.npz", "deflated.npz"]) {
    for (const key of ["features", "labels", "W", "b"]) {
      const want = EXPECTED[`npz:${key}`];
      const spec = `${joinPath(DIR, archive)}:${key}`;
      const f = await openArrayFile(spec);
      assertEquals(f.name, spec);
      assertEquals(f.header.shape, want.shape);
      assertEquals(values((await f.readAll()).data), want.values, spec);
      f.close();
      for (const batch of [1, 4]) assertEquals(await readByRows(spec, batch), want.values, `${spec} by ${batch}`);
    }
  }
  // A Fortran-order member of a deflated archive (read whole, then served by rows).
  const fortran = `${joinPath(DIR, "deflated.npz")}:feats_f`;
  assertEquals(await readByRows(fortran, 3), EXPECTED["npz:features"].values);
});

Deno.test("arrays: bad archives and members are one-line errors naming the file", async () => {
  const npz = joinPath(DIR, "stored.npz");
  await rejectsWith(() => openArrayFile(`${npz}:nope`), /stored\.npz: no array 'nope' in the archive \(it holds: /);
  await rejectsWith(() => openArrayFile(npz), /stored\.npz: name the array inside the archive/);
  await rejectsWith(() => openArrayFile(`${joinPath(DIR, "f8_c.npy")}.npz:x`), /file not found/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(joinPath(dir, "junk.npz"), new TextEncoder().encode("not a zip at all"));
    await rejectsWith(() => openArrayFile(`${joinPath(dir, "junk.npz")}:a`), /junk\.npz: not a readable \.npz archive/);
    // A truncated archive: the central directory is gone.
    const bytes = await Deno.readFile(joinPath(DIR, "deflated.npz"));
    await Deno.writeFile(joinPath(dir, "cut.npz"), bytes.subarray(0, 600));
    await rejectsWith(() => openArrayFile(`${joinPath(dir, "cut.npz")}:features`), /cut\.npz: not a readable/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A stored zip of `members` (name, bytes) as zip.js writes it; names of equal length may then be patched. */
async function zipOf(members: [string, Uint8Array][]): Promise<Uint8Array> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { level: 0 });
  for (const [name, bytes] of members) await writer.add(name, new Uint8ArrayReader(bytes));
  return await writer.close();
}

/** `bytes` with every occurrence of ASCII `from` replaced by `to` (same length). */
function patchName(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice();
  const [a, b] = [new TextEncoder().encode(from), new TextEncoder().encode(to)];
  for (let i = 0; i + a.length <= out.length; i++) {
    if (a.every((c, k) => out[i + k] === c)) out.set(b, i);
  }
  return out;
}

Deno.test("arrays: an archive with two members of one name, or both key and key.npy, is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = writeNpy({ dtype: "float64", shape: [2], data: new Float64Array([1, 2]) });
    const second = writeNpy({ dtype: "float64", shape: [2], data: new Float64Array([3, 4]) });
    const dup = joinPath(dir, "dup.npz");
    // zip.js will not write one name twice: write features.npy and featureX.npy, then rename the second.
    await Deno.writeFile(
      dup,
      patchName(await zipOf([["features.npy", first], ["featureX.npy", second]]), "featureX", "features"),
    );
    await rejectsWith(() => openArrayFile(`${dup}:features`), /dup\.npz: duplicate member 'features\.npy'/);
    const both = joinPath(dir, "both.npz");
    await Deno.writeFile(both, await zipOf([["features.npy", first], ["features", second]]));
    await rejectsWith(
      () => openArrayFile(`${both}:features`),
      /both\.npz: both members 'features' and 'features\.npy'/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("arrays: a JSON array nested 100 000 levels deep is one line, not a stack overflow", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const deep = joinPath(dir, "deep.json");
    await Deno.writeTextFile(deep, "[".repeat(100_000) + "]".repeat(100_000));
    await rejectsWith(() => openArrayFile(deep), /deep\.json: arrays nested deeper than 64 levels/);
    await Deno.writeTextFile(deep, "[".repeat(200_000));
    await rejectsWith(() => openArrayFile(deep), /deep\.json: invalid JSON/);
    const ok = joinPath(dir, "ok.json");
    await Deno.writeTextFile(ok, "[".repeat(64) + "1" + "]".repeat(64));
    const f = await openArrayFile(ok);
    assertEquals(f.header.shape.length, 64);
    f.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("arrays: a zip bomb is refused by its declared size, a lying one never inflates past the header's size", async () => {
  await rejectsWith(
    () => openArrayFile(`${joinPath(DIR, "bomb.npz")}:features`),
    /bomb\.npz:features: shape \(2, 2\) of float64 needs 32 data bytes, file has 67108864/,
  );
  // The records claim the 2 × 2 array's size: exactly 32 data bytes are taken from the stream, then it is cancelled.
  const lying = `${joinPath(DIR, "bomb_lying.npz")}:features`;
  const f = await openArrayFile(lying);
  assertEquals(values((await f.readAll()).data), [0, 0, 0, 0]);
  f.close();
  assertEquals(await readByRows(lying, 1), [0, 0, 0, 0]);
});

Deno.test("arrays: hostile .npy headers and data are one-line errors naming the file", async () => {
  const good = await Deno.readFile(joinPath(DIR, "f8_c.npy"));
  const headerText = new TextDecoder().decode(good.subarray(10, 128));
  const dir = await Deno.makeTempDir();
  const write = async (name: string, bytes: Uint8Array) => {
    await Deno.writeFile(joinPath(dir, name), bytes);
    return joinPath(dir, name);
  };
  const withHeader = (from: string, to: string) => {
    const copy = good.slice();
    copy.set(new TextEncoder().encode(headerText.replace(from, to).padEnd(headerText.length)), 10);
    return copy;
  };
  try {
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, good.length - 8), /needs 192 data bytes, file has 184/],
      [good.subarray(0, 100), /header length 118 runs past the end of the file/],
      [withHeader("(4, 6)", "(99999999999, 99999999999)"), /needs 79999999998400000008 data bytes|more/],
      [withHeader("(4, 6)", "(9007199254740993, 2)"), /more elements than any file can hold/],
      [withHeader("(4, 6)", "(-4, 6)"), /malformed shape/],
      [withHeader("'<f8'", "'<c8'"), /unsupported dtype '<c8'/],
      [withHeader("'<f8'", "'|O'"), /unsupported dtype '\|O'/],
      [withHeader("'<f8'", "'<M8'"), /unsupported dtype '<M8'/],
      [withHeader("(4, 6)", "(4, 5)"), /needs 160 data bytes, file has 192/],
      [good.subarray(0, 6), /not a \.npy file/],
    ];
    const lying = good.slice();
    lying[8] = 0xff;
    lying[9] = 0xff;
    cases.push([lying, /header length 65535 runs past the end/]);
    const v2 = good.slice(0, 12);
    v2[6] = 2;
    new DataView(v2.buffer).setUint32(8, 0xfffffff0, true);
    cases.push([v2, /header length 4294967280 is implausible/]);
    for (const [i, [bytes, pattern]] of cases.entries()) {
      const path = await write(`bad${i}.npy`, bytes);
      await rejectsWith(() => openArrayFile(path), new RegExp(`bad${i}\\.npy: .*(${pattern.source})`));
      assertThrows(() => readNpy(bytes, `bad${i}.npy`), UserError);
    }
    await rejectsWith(
      () => openArrayFile(joinPath(DIR, "structured.npy")),
      /structured\.npy: structured dtypes \(records\) are not supported/,
    );
    await rejectsWith(() => openArrayFile(joinPath(dir, "none.npy")), /none\.npy: file not found/);
    await rejectsWith(() => openArrayFile(dir + "/x.txt"), /expected a \.npy, \.npz:key or \.json file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("arrays: labels of every integer type become class indices, range-checked by file and row", async () => {
  for (const name of Object.keys(EXPECTED).filter((n) => n.startsWith("labels_"))) {
    const f = await openArrayFile(joinPath(DIR, name));
    assertEquals(Array.from(classLabels((await f.readAll()).data, 4, name, 0)), [0, 3, 1, 2, 3, 0], name);
    f.close();
  }
  const read = async (name: string) => {
    const f = await openArrayFile(joinPath(DIR, name));
    const data = (await f.readAll()).data;
    f.close();
    return data;
  };
  const negative = await read("labels_negative.npy");
  assertThrows(
    () => classLabels(negative, 4, "neg.npy", 10),
    UserError,
    /^neg\.npy: label -1 at row 11 is not a class in \[0, 4\)$/,
  );
  const huge = await read("labels_huge.npy");
  assertThrows(() => classLabels(huge, 4, "h.npy", 0), UserError, /h\.npy: label 1099511627776 at row 1/);
  const half = await read("labels_f8.npy");
  assertThrows(() => classLabels(half, 4, "f.npy", 0), UserError, /f\.npy: label 1\.5 at row 1/);
  assertThrows(
    () => classLabels(new BigUint64Array([2n ** 64n - 1n]), 4, "u.npy", 0),
    UserError,
    /u\.npy: label 18446744073709551615/,
  );
});

Deno.test("arrays: shards are one sample source; batches never exceed the requested rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const d = 3;
    const rows = [5, 1, 7];
    const shards: Shard[] = [];
    let next = 0;
    for (const [s, n] of rows.entries()) {
      const f = Float32Array.from({ length: n * d }, (_, i) => next * d + i);
      const y = Int32Array.from({ length: n }, (_, i) => (next + i) % 2);
      next += n;
      await Deno.writeFile(joinPath(dir, `h_${s}.npy`), writeNpy({ dtype: "float32", shape: [n, d], data: f }));
      await Deno.writeFile(joinPath(dir, `y_${s}.npy`), writeNpy({ dtype: "int32", shape: [n], data: y }));
    }
    const hs = await expandPaths([joinPath(dir, "h_*.npy")], "--features");
    const ys = await expandPaths([joinPath(dir, "y_?.npy")], "--labels");
    assertEquals(hs.map((p) => p.slice(dir.length + 1)), ["h_0.npy", "h_1.npy", "h_2.npy"]);
    for (const [h, y] of hs.map((h, i) => [h, ys[i]])) {
      shards.push({ features: await openArrayFile(h), labels: await openArrayFile(y) });
    }
    const source = sampleSource(shards, 2, d, 2);
    assertEquals(source.count, 13);
    for (let pass = 0; pass < 2; pass++) {
      const seen: number[] = [];
      const labels: number[] = [];
      for await (const b of source.batches()) {
        assert(b.labels.length <= 2 && b.labels.length > 0);
        assertEquals(b.features.length, b.labels.length * d);
        seen.push(...b.features);
        labels.push(...b.labels);
      }
      assertEquals(seen, Array.from({ length: 13 * d }, (_, i) => i));
      assertEquals(labels, Array.from({ length: 13 }, (_, i) => i % 2));
    }
    await assertRejects(
      () => expandPaths([joinPath(dir, "z_*.npy")], "--features"),
      UserError,
      /--features .*z_\*\.npy: no file matches/,
    );
    await assertRejects(
      () => expandPaths([joinPath(dir, "*", "h.npy")], "--features"),
      UserError,
      /wildcards only in the file name/,
    );
    assertThrows(
      () => sampleSource([{ features: shards[0].features, labels: shards[1].labels }], 2, d, 2),
      UserError,
      /1 labels for 5 feature rows/,
    );
    assertThrows(
      () => sampleSource(shards, 2, 4, 2),
      UserError,
      /features of dimension 3, but the classifier's rows have d = 4/,
    );
    for (const s of shards) {
      s.features.close();
      s.labels.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("arrays: a deflated member of 256 MB of zeros is read in rows without holding its inflation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Float32 zeros deflate about 1000:1: a 256 KB read of the archive inflates to some 256 MB at once.
    const d = 256;
    const rows = (256 << 20) / (4 * d);
    const path = joinPath(dir, "zeros.npz");
    const header = npyHeader("float32", [rows, d]);
    let left = rows * d * 4;
    const member = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left === 0) return controller.close();
        const n = Math.min(left, 16 << 20);
        left -= n;
        controller.enqueue(new Uint8Array(n));
      },
      start: (controller) => controller.enqueue(header),
    });
    const file = await Deno.open(path, { write: true, create: true });
    const zip = new ZipWriter(file.writable);
    await zip.add("features.npy", member);
    await zip.close();
    // A subprocess reads it in rows of 1 MB, collecting garbage after each, and reports its peak resident memory
    // (\/proc\/self\/status needs --allow-all).
    const reader = joinPath(dir, "read.ts");
    const module = new URL("../src/arrays/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      reader,
      `import { openArrayFile } from ${JSON.stringify(module)};
const f = await openArrayFile(Deno.args[0]);
const rows = await f.rows();
let n = 0;
for (let x = await rows.next(1024); x.length > 0; x = await rows.next(1024)) { n += x.length; (globalThis as any).gc(); }
f.close();
const hwm = Number((await Deno.readTextFile("/proc/self/status")).match(/VmHWM:\\s+(\\d+)/)![1]);
console.log(JSON.stringify({ n, mb: hwm / 1024 }));`,
    );
    const config = new URL("../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--config=${config}`, "--allow-all", "--v8-flags=--expose-gc", reader, `${path}:features`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const { n, mb } = JSON.parse(new TextDecoder().decode(out.stdout));
    assertEquals(n, rows * d);
    assert(mb < 200, `peak resident memory ${mb.toFixed(0)} MB reading a 256 MB member`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
