/** The shipped Fashion-MNIST subset: contents, checksums, corruption, and how it was built. */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { gunzipSync } from "node:zlib";
import { UserError } from "../src/errors.ts";
import { buildFashionMnistSubset, selectSubset, SUBSET_FILE_NAMES } from "../src/data/build_subset.ts";
import { loadFashionMnistSubset, SUBSET_ROOT, SUBSET_SHA256 } from "../src/data/fashion_mnist_subset.ts";
import { describeDataset, loadDataset } from "../src/data/load_dataset.ts";
import { exists } from "../src/io.ts";
import { Rng } from "../src/rng.ts";

const DEBIAN_ROOT = "/usr/share/datasets/fashion-mnist";
const haveDebian = await exists(`${DEBIAN_ROOT}/train-images-idx3-ubyte.gz`);

function classCounts(labels: Int32Array): number[] {
  const counts = new Array(10).fill(0);
  for (const y of labels) counts[y]++;
  return counts;
}

Deno.test("fashion-mnist-subset loads from the repository with no root: 5 000 / 1 000 / 10 000", async () => {
  const ds = await loadDataset("fashion-mnist-subset");
  const summary = describeDataset(ds);
  assertEquals(summary.sizes, { train: 5000, val: 1000, test: 10000 });
  assertEquals(summary.sampleShape, [28, 28, 1]);
  assertEquals(summary.numClasses, 10);
  assertEquals(summary.normalization, { mean: [0.2860], std: [0.3530] });
  assertEquals(classCounts(ds.train.labels), new Array(10).fill(500));
  assertEquals(classCounts(ds.val.labels), new Array(10).fill(100));
  assertEquals(classCounts(ds.test.labels), new Array(10).fill(1000));
  assert(summary.sources.every((s) => s.includes("verified")));
  // Images are real Fashion-MNIST: mean pixel near the dataset's 0.286.
  let sum = 0;
  for (const v of ds.train.data) sum += v;
  const mean = sum / ds.train.data.length / 255;
  assert(Math.abs(mean - 0.286) < 0.01, `mean pixel ${mean}`);
  const small = await loadDataset("fashion-mnist-subset", { trainSubsetPerClass: 50 });
  assertEquals(classCounts(small.train.labels), new Array(10).fill(50));
  assertEquals(small.train.data.subarray(0, 784), ds.train.data.subarray(0, 784));
});

Deno.test("fashion-mnist-subset: SHA256SUMS and manifest.json agree with the checksums in the code", async () => {
  const sums = await Deno.readTextFile(`${SUBSET_ROOT}/SHA256SUMS`);
  assertEquals(sums, SUBSET_FILE_NAMES.map((f) => `${SUBSET_SHA256[f]}  ${f}\n`).join(""));
  const manifest = JSON.parse(await Deno.readTextFile(`${SUBSET_ROOT}/manifest.json`));
  assertEquals(manifest.sha256, { ...SUBSET_SHA256 });
  assert(String(manifest.license).startsWith("MIT"));
  assert((await Deno.readTextFile(`${SUBSET_ROOT}/LICENSE`)).includes("Zalando SE"));
  let total = 0;
  for (const f of SUBSET_FILE_NAMES) total += (await Deno.stat(`${SUBSET_ROOT}/${f}`)).size;
  assert(total < 8_000_000, `subset is ${total} bytes`);
});

Deno.test("fashion-mnist-subset: a corrupted or missing file is a UserError naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of SUBSET_FILE_NAMES) await Deno.copyFile(`${SUBSET_ROOT}/${f}`, `${dir}/${f}`);
    await loadFashionMnistSubset(dir); // the copy itself is fine
    const path = `${dir}/val-images-idx3-ubyte.gz`;
    const bytes = await Deno.readFile(path);
    bytes[bytes.length >> 1] ^= 1;
    await Deno.writeFile(path, bytes);
    await assertRejects(
      () => loadDataset("fashion-mnist-subset", { root: dir }),
      UserError,
      `${path}: SHA-256 mismatch`,
    );
    await Deno.remove(`${dir}/t10k-labels-idx1-ubyte.gz`);
    await Deno.copyFile(`${SUBSET_ROOT}/val-images-idx3-ubyte.gz`, path);
    await assertRejects(
      () => loadFashionMnistSubset(dir),
      UserError,
      `file not found: ${dir}/t10k-labels-idx1-ubyte.gz`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("selectSubset: disjoint train/val, balanced, deterministic in the seed", () => {
  const rng = new Rng(5);
  const labels = Int32Array.from({ length: 3000 }, () => rng.int(10));
  const a = selectSubset(labels, 10, 1, 50, 10);
  assertEquals([a.train.length, a.val.length], [500, 100]);
  assertEquals(classCounts(Int32Array.from(a.train, (i) => labels[i])), new Array(10).fill(50));
  assertEquals(classCounts(Int32Array.from(a.val, (i) => labels[i])), new Array(10).fill(10));
  const train = new Set(a.train);
  assert([...a.val].every((i) => !train.has(i)));
  assertEquals(selectSubset(labels, 10, 1, 50, 10), a);
  assert(selectSubset(labels, 10, 2, 50, 10).train.join() !== a.train.join());
});

Deno.test({
  name: "make_subset rebuilds the shipped files byte for byte from Debian's dataset-fashion-mnist",
  ignore: !haveDebian,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await buildFashionMnistSubset(DEBIAN_ROOT, dir);
      // Compare the uncompressed bytes: another zlib version may compress differently (then rerun
      // scripts/make_subset.ts and update SUBSET_SHA256), but the content must never change.
      for (const f of SUBSET_FILE_NAMES) {
        const rebuilt = gunzipSync(await Deno.readFile(`${dir}/${f}`));
        const shipped = gunzipSync(await Deno.readFile(`${SUBSET_ROOT}/${f}`));
        assert(rebuilt.equals(shipped), `${f} differs from the shipped file`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
