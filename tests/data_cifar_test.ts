/** CIFAR-10/100 binary loading, on files in the official record layout written here. */
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { CIFAR_NORMALIZATION, loadCifar, parseCifarRecords } from "../src/data/cifar.ts";
import { describeDataset, loadDataset } from "../src/data/load_dataset.ts";

/** Pixel value of record `r`, channel `c`, pixel `p` (row-major within 32×32). */
const pixel = (r: number, c: number, p: number): number => (r * 7 + c * 50 + p) & 255;

/** `n` records starting at record number `first`: [coarse,] label, R plane, G plane, B plane. */
function records(first: number, n: number, labelBytes: 1 | 2, numClasses: number): Uint8Array {
  const size = labelBytes + 3072;
  const out = new Uint8Array(n * size);
  for (let i = 0; i < n; i++) {
    const r = first + i;
    const at = i * size;
    if (labelBytes === 2) out[at] = r % 20;
    out[at + labelBytes - 1] = r % numClasses;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[at + labelBytes + c * 1024 + p] = pixel(r, c, p);
  }
  return out;
}

async function writeCifar10(root: string, perBatch: number, nTest: number): Promise<void> {
  await Deno.mkdir(`${root}/cifar-10-batches-bin`, { recursive: true });
  for (let b = 0; b < 5; b++) {
    await Deno.writeFile(
      `${root}/cifar-10-batches-bin/data_batch_${b + 1}.bin`,
      records(b * perBatch, perBatch, 1, 10),
    );
  }
  await Deno.writeFile(`${root}/cifar-10-batches-bin/test_batch.bin`, records(100000, nTest, 1, 10));
}

Deno.test("parseCifarRecords converts planar CHW records to NHWC and reads the label", () => {
  const { data, labels, n } = parseCifarRecords(records(3, 4, 1, 10), "x.bin", 1, 10);
  assertEquals(n, 4);
  assertEquals([...labels], [3, 4, 5, 6]);
  for (let i = 0; i < 4; i++) {
    for (const p of [0, 1, 31, 32, 555, 1023]) {
      for (let c = 0; c < 3; c++) {
        assertEquals(data[i * 3072 + p * 3 + c], pixel(3 + i, c, p), `record ${i} pixel ${p} channel ${c}`);
      }
    }
  }
});

Deno.test("parseCifarRecords: CIFAR-100 uses the fine (second) label byte", () => {
  const bytes = records(0, 3, 2, 100);
  bytes[0] = 19;
  bytes[1] = 87;
  const { labels, data } = parseCifarRecords(bytes, "train.bin", 2, 100);
  assertEquals([...labels], [87, 1, 2]);
  assertEquals(data[3 * 5 + 2], pixel(0, 2, 5));
});

Deno.test("parseCifarRecords: wrong size and out-of-range labels are UserErrors naming the file", () => {
  const good = records(0, 2, 1, 10);
  assertThrows(
    () => parseCifarRecords(good.subarray(0, 3073 + 100), "d1.bin", 1, 10),
    UserError,
    "d1.bin: truncated or wrong-sized",
  );
  assertThrows(() => parseCifarRecords(new Uint8Array(0), "d2.bin", 1, 10), UserError, "d2.bin: truncated");
  const bad = good.slice();
  bad[3073] = 10;
  assertThrows(
    () => parseCifarRecords(bad, "d3.bin", 1, 10),
    UserError,
    "d3.bin: label 10 of record 1 is out of range",
  );
  const bad100 = records(0, 1, 2, 100);
  bad100[1] = 100;
  assertThrows(() => parseCifarRecords(bad100, "t.bin", 2, 100), UserError, "t.bin: label 100 of record 0");
  bad100[1] = 5;
  bad100[0] = 20;
  assertThrows(() => parseCifarRecords(bad100, "t.bin", 2, 100), UserError, "t.bin: coarse label 20");
});

Deno.test("loadCifar cifar10: train ∪ val = the five batches, each record once, test in order", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeCifar10(root, 40, 13);
    const ds = await loadCifar("cifar10", root);
    assertEquals([ds.train.n, ds.val.n, ds.test.n], [180, 20, 13]);
    assertEquals(ds.sampleShape, [32, 32, 3]);
    assertEquals(ds.normalization, CIFAR_NORMALIZATION);
    // Record r is identified by its first pixel's three channels and its label.
    const seen = new Set<number>();
    for (const split of [ds.train, ds.val]) {
      for (let i = 0; i < split.n; i++) {
        const d = split.data as Uint8Array;
        const r = [...Array(200).keys()].find((r) =>
          d[i * 3072] === pixel(r, 0, 0) && d[i * 3072 + 1] === pixel(r, 1, 0) && split.labels[i] === r % 10 &&
          d[i * 3072 + 3 * 1023 + 2] === pixel(r, 2, 1023)
        )!;
        assert(r !== undefined && !seen.has(r), `record ${r} duplicated or unknown`);
        seen.add(r);
      }
    }
    assertEquals(seen.size, 200);
    assertEquals(ds.test.labels[12], (100000 + 12) % 10);
    assertEquals((ds.test.data as Uint8Array)[12 * 3072 + 3 * 7 + 1], pixel(100012, 1, 7));
    // Same split seed → same split; the run seed plays no part.
    const again = await loadDataset("cifar10", { root });
    assertEquals(again.val.labels, ds.val.labels);
    assertEquals(again.val.data, ds.val.data);
    // --train-subset N keeps the first N training images of each class, in the split's order.
    const sub = await loadDataset("cifar10", { root, trainSubsetPerClass: 5 });
    const taken = new Array(10).fill(0);
    const expected: number[] = [];
    for (let i = 0; i < ds.train.n; i++) if (taken[ds.train.labels[i]]++ < 5) expected.push(i);
    assertEquals(sub.train.n, 50);
    for (let j = 0; j < 50; j++) {
      const i = expected[j];
      assertEquals(sub.train.labels[j], ds.train.labels[i]);
      assertEquals(sub.train.data.subarray(j * 3072, (j + 1) * 3072), ds.train.data.subarray(i * 3072, (i + 1) * 3072));
    }
    assertEquals(sub.val.data, ds.val.data);
    await assertRejects(
      () => loadDataset("cifar10", { root, trainSubsetPerClass: 30 }),
      UserError,
      "--train-subset 30: cifar10 has only",
    );
    await assertRejects(() => loadDataset("cifar10", { root, trainSubsetPerClass: 0 }), UserError, "--train-subset");
    const summary = describeDataset(ds);
    assertEquals(summary.sizes, { train: 180, val: 20, test: 13 });
    assertEquals(summary.sources.length, 6);
    assert(summary.sources[0].endsWith("data_batch_1.bin (122920 bytes)"), summary.sources[0]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadCifar cifar10 at full size: 45 000 / 5 000 / 10 000, as in the reference", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/cifar-10-batches-bin`);
    const batch = new Uint8Array(10000 * 3073);
    for (let i = 0; i < 10000; i++) batch[i * 3073] = i % 10;
    for (let b = 1; b <= 5; b++) await Deno.writeFile(`${root}/cifar-10-batches-bin/data_batch_${b}.bin`, batch);
    await Deno.writeFile(`${root}/cifar-10-batches-bin/test_batch.bin`, batch);
    const ds = await loadDataset("cifar10", { root, trainSubsetPerClass: 100 });
    assertEquals([ds.train.n, ds.val.n, ds.test.n], [1000, 5000, 10000]);
    const full = await loadDataset("cifar10", { root });
    assertEquals([full.train.n, full.val.n], [45000, 5000]);
    const counts = new Array(10).fill(0);
    for (const y of ds.train.labels) counts[y]++;
    assertEquals(counts, new Array(10).fill(100));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadCifar cifar100: fine labels, 100 classes", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/cifar-100-binary`);
    await Deno.writeFile(`${root}/cifar-100-binary/train.bin`, records(0, 300, 2, 100));
    await Deno.writeFile(`${root}/cifar-100-binary/test.bin`, records(0, 100, 2, 100));
    const ds = await loadDataset("cifar100", { root: root + "/" });
    assertEquals([ds.numClasses, ds.train.n, ds.val.n, ds.test.n], [100, 270, 30, 100]);
    assertEquals([...ds.test.labels], [...Array(100).keys()]);
    assertEquals(ds.normalization, { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010] });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadCifar: a missing dataset says which files, where, and how to get them", async () => {
  const root = await Deno.makeTempDir();
  try {
    const e = await assertRejects(
      () => loadDataset("cifar10", { root }),
      UserError,
      `missing ${root}/cifar-10-batches-bin/data_batch_1.bin`,
    );
    assert(e.message.includes("--download"), e.message);
    assert(e.message.includes("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), e.message);
    assert(e.message.includes("test_batch.bin"), e.message);
    await writeCifar10(root, 10, 10);
    await Deno.writeFile(`${root}/cifar-10-batches-bin/data_batch_4.bin`, new Uint8Array(3073 * 2 + 5));
    await assertRejects(
      () => loadDataset("cifar10", { root }),
      UserError,
      `${root}/cifar-10-batches-bin/data_batch_4.bin: truncated`,
    );
    await assertRejects(() => loadDataset("cifar100", { root }), UserError, "cifar-100-binary.tar.gz");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
