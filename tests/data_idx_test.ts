/** MNIST / Fashion-MNIST IDX loading, on small files in the official byte layout written here. */
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { gzipSync } from "node:zlib";
import { UserError } from "../src/errors.ts";
import { encodeIdxImages, encodeIdxLabels, parseIdxImages, parseIdxLabels } from "../src/data/idx.ts";
import { loadIdxDataset } from "../src/data/mnist.ts";
import { loadDataset } from "../src/data/load_dataset.ts";
import { Rng } from "../src/rng.ts";

/** `n` random 28×28 images with balanced labels. */
function fakeImages(n: number, seed: number): { pixels: Uint8Array; labels: Uint8Array } {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(n * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return { pixels, labels };
}

async function writeIdxRoot(dir: string, nTrain: number, nTest: number, gz: boolean): Promise<void> {
  const z = (b: Uint8Array) => gz ? new Uint8Array(gzipSync(b)) : b;
  const ext = gz ? ".gz" : "";
  const tr = fakeImages(nTrain, 1);
  const te = fakeImages(nTest, 2);
  await Deno.writeFile(`${dir}/train-images-idx3-ubyte${ext}`, z(encodeIdxImages(tr.pixels, nTrain, 28, 28)));
  await Deno.writeFile(`${dir}/train-labels-idx1-ubyte${ext}`, z(encodeIdxLabels(tr.labels)));
  await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte${ext}`, z(encodeIdxImages(te.pixels, nTest, 28, 28)));
  await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte${ext}`, z(encodeIdxLabels(te.labels)));
}

Deno.test("IDX header bytes are the official big-endian layout", () => {
  const bytes = encodeIdxImages(new Uint8Array(2 * 3 * 4), 2, 3, 4);
  assertEquals([...bytes.subarray(0, 16)], [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
  assertEquals([...encodeIdxLabels([7, 1]).subarray(0, 10)], [0, 0, 8, 1, 0, 0, 0, 2, 7, 1]);
  const parsed = parseIdxImages(bytes, "x");
  assertEquals([parsed.n, parsed.rows, parsed.cols, parsed.data.length], [2, 3, 4, 24]);
});

Deno.test("IDX: wrong magic, truncated, trailing bytes and bad labels are UserErrors naming the file", () => {
  const images = encodeIdxImages(new Uint8Array(2 * 784), 2, 28, 28);
  const labels = encodeIdxLabels([0, 9]);
  assertThrows(() => parseIdxImages(labels, "a.idx"), UserError, "a.idx: wrong IDX magic number 2049 (expected 2051");
  assertThrows(() => parseIdxLabels(images, "b.idx", 10), UserError, "b.idx: wrong IDX magic number 2051");
  assertThrows(() => parseIdxImages(images.subarray(0, images.length - 1), "c.idx"), UserError, "c.idx: truncated");
  assertThrows(() => parseIdxImages(images.subarray(0, 10), "d.idx"), UserError, "d.idx: truncated");
  const longer = new Uint8Array(images.length + 1);
  longer.set(images);
  assertThrows(() => parseIdxImages(longer, "e.idx"), UserError, "e.idx: wrong-sized");
  assertThrows(() => parseIdxLabels(encodeIdxLabels([0, 10]), "f.idx", 10), UserError, "f.idx: label 10 of sample 1");
  assertEquals([...parseIdxLabels(labels, "g.idx", 10)], [0, 9]);
});

for (const gz of [true, false]) {
  Deno.test(`loadIdxDataset reads ${gz ? "gzipped" : "plain"} files: 90/10 split, test intact, NHWC [n, 28, 28, 1]`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await writeIdxRoot(dir, 200, 30, gz);
      const ds = await loadIdxDataset("mnist", dir);
      assertEquals(ds.sampleShape, [28, 28, 1]);
      assertEquals([ds.train.n, ds.val.n, ds.test.n], [180, 20, 30]);
      assertEquals(ds.normalization, { mean: [0.1307], std: [0.3081] });
      const te = fakeImages(30, 2);
      assertEquals(ds.test.data, te.pixels);
      // Train ∪ val is the official training set, each image once, with its label.
      const tr = fakeImages(200, 1);
      const seen = new Map<string, number>();
      for (let i = 0; i < 200; i++) seen.set(tr.pixels.subarray(i * 784, (i + 1) * 784).join(","), tr.labels[i]);
      for (const split of [ds.train, ds.val]) {
        for (let i = 0; i < split.n; i++) {
          const key = (split.data as Uint8Array).subarray(i * 784, (i + 1) * 784).join(",");
          assertEquals(seen.get(key), split.labels[i]);
          seen.delete(key);
        }
      }
      assertEquals(seen.size, 0);
      // The split depends on the split seed only.
      const again = await loadIdxDataset("mnist", dir);
      assertEquals(again.val.data, ds.val.data);
      const other = await loadIdxDataset("mnist", dir, 2);
      assert(other.val.labels.join() !== ds.val.labels.join() || other.val.data.join() !== ds.val.data.join());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("loadIdxDataset finds torchvision's FashionMNIST/raw layout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/FashionMNIST/raw`, { recursive: true });
    await writeIdxRoot(`${dir}/FashionMNIST/raw`, 50, 10, false);
    const ds = await loadDataset("fashion-mnist", { root: dir });
    assertEquals([ds.name, ds.train.n, ds.val.n, ds.test.n], ["fashion-mnist", 45, 5, 10]);
    assertEquals(ds.normalization, { mean: [0.2860], std: [0.3530] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadIdxDataset: missing file, count mismatch, bad gzip, bad magic are one-line UserErrors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(
      () => loadIdxDataset("fashion-mnist", dir),
      UserError,
      `fashion-mnist: missing train-images-idx3-ubyte[.gz] under ${dir}`,
    );
    await writeIdxRoot(dir, 40, 10, false);
    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, encodeIdxLabels([1, 2, 3]));
    await assertRejects(
      () => loadIdxDataset("mnist", dir),
      UserError,
      `${dir}/t10k-labels-idx1-ubyte: 3 labels but ${dir}/t10k-images-idx3-ubyte has 10 images`,
    );
    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    await assertRejects(
      () => loadIdxDataset("mnist", dir),
      UserError,
      `${dir}/t10k-labels-idx1-ubyte: corrupt or truncated gzip`,
    );
    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, encodeIdxImages(new Uint8Array(784 * 10), 10, 28, 28));
    await assertRejects(() => loadIdxDataset("mnist", dir), UserError, "wrong IDX magic number 2051 (expected 2049");
    const err = await assertRejects(() => loadIdxDataset("mnist", dir), UserError);
    assert(!err.message.includes("\n"), "one line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
