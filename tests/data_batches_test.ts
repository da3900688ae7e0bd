/** Mini-batches: normalisation, torchvision-style crop + flip, shuffling, buffer reuse, speed. */
import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";
import { batches, keepsNormalised, normalisedBatches, normaliseSplit, numBatches } from "../src/data/batches.ts";
import { CIFAR_NORMALIZATION } from "../src/data/cifar.ts";
import type { Split } from "../src/data/types.ts";

function randomImages(n: number, h: number, w: number, c: number, seed: number): Split {
  const rng = new Rng(seed);
  const data = new Uint8Array(n * h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return { data, labels, n };
}

/**
 * The reference pipeline spelled out naively: pad the raw image with zeros,
 * crop at (top, left), flip, then ToTensor and Normalize — same draws, in
 * the same order, as `batches`.
 */
function referenceAugment(
  img: Uint8Array,
  h: number,
  w: number,
  c: number,
  pad: number,
  rng: Rng,
  norm: { mean: number[]; std: number[] },
): Float32Array {
  const ph = h + 2 * pad;
  const pw = w + 2 * pad;
  const padded = new Uint8Array(ph * pw * c); // zeros
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let k = 0; k < c; k++) padded[((i + pad) * pw + j + pad) * c + k] = img[(i * w + j) * c + k];
    }
  }
  const top = rng.int(2 * pad + 1);
  const left = rng.int(2 * pad + 1);
  const flip = rng.uniform() < 0.5;
  const out = new Float32Array(h * w * c);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const jj = flip ? w - 1 - j : j;
      for (let k = 0; k < c; k++) {
        const v = padded[((i + top) * pw + jj + left) * c + k];
        out[(i * w + j) * c + k] = (v / 255 - norm.mean[k]) / norm.std[k];
      }
    }
  }
  return out;
}

Deno.test("batches without augmentation: (x/255 − mean_c)/std_c in split order, partial last batch", () => {
  const split = randomImages(25, 32, 32, 3, 1);
  const ds = { sampleShape: [32, 32, 3], normalization: CIFAR_NORMALIZATION };
  // Copy each batch before asking for the next: the buffers are reused.
  const got: { n: number; x: Float32Array; y: Int32Array }[] = [];
  for (const b of batches(ds, split, { batchSize: 10 })) got.push({ n: b.n, x: b.x.slice(), y: b.y.slice() });
  assertEquals(got.map((b) => b.n), [10, 10, 5]);
  assertEquals(numBatches(25, 10), 3);
  assertEquals(got[2].x.length, 5 * 3072);
  assertEquals([...got[2].y], [0, 1, 2, 3, 4]);
  for (const [b, i, p, c] of [[0, 0, 0, 0], [1, 3, 100, 1], [2, 4, 1023, 2]]) {
    const v = split.data[(b * 10 + i) * 3072 + p * 3 + c];
    const expected = (v / 255 - CIFAR_NORMALIZATION.mean[c]) / CIFAR_NORMALIZATION.std[c];
    assertClose(got[b].x[i * 3072 + p * 3 + c], expected, { abs: 1e-5 });
  }
});

for (const [h, w, c] of [[32, 32, 3], [28, 28, 1]]) {
  Deno.test(`batches with augmentation = pad with raw zeros, crop, flip, normalise (${h}×${w}×${c})`, () => {
    const split = randomImages(40, h, w, c, 2);
    const norm = c === 3 ? CIFAR_NORMALIZATION : { mean: [0.2860], std: [0.3530] };
    const ds = { sampleShape: [h, w, c], normalization: norm };
    const size = h * w * c;
    const rng = new Rng(7);
    const mirror = new Rng(7);
    const order = mirror.permutation(40);
    let seen = 0;
    let paddedPixels = 0;
    for (const { x, y, n } of batches(ds, split, { batchSize: 16, shuffle: true, augment: true, rng })) {
      for (let b = 0; b < n; b++) {
        const i = order[seen + b];
        assertEquals(y[b], split.labels[i]);
        const expected = referenceAugment(
          split.data.subarray(i * size, (i + 1) * size) as Uint8Array,
          h,
          w,
          c,
          4,
          mirror,
          norm,
        );
        for (let p = 0; p < size; p++) {
          assertClose(x[b * size + p], expected[p], { abs: 1e-5 }, `image ${i} value ${p}`);
        }
        for (let p = 0; p < size; p += c) {
          if (Math.abs(x[b * size + p] - (0 - norm.mean[0]) / norm.std[0]) < 1e-6) paddedPixels++;
        }
      }
      seen += n;
    }
    assertEquals(seen, 40);
    // Padded pixels are (0 − mean)/std, and some crops do reach into the padding.
    assert(paddedPixels > 0);
  });
}

Deno.test("batches: shuffle is a permutation from the run's Rng; vector data is copied as is", () => {
  const n = 23;
  const data = new Float32Array(n * 3).map((_, i) => i);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  const ds = { sampleShape: [3] };
  const run = (seed: number): number[] => {
    const out: number[] = [];
    for (const b of batches(ds, { data, labels, n }, { batchSize: 5, shuffle: true, rng: new Rng(seed) })) {
      out.push(...b.x);
    }
    return out;
  };
  const a = run(3);
  assertEquals(a, run(3));
  assert(a.join() !== run(4).join());
  const rows = new Set<number>();
  for (let i = 0; i < n; i++) {
    assertEquals([a[3 * i + 1], a[3 * i + 2]], [a[3 * i] + 1, a[3 * i] + 2]);
    rows.add(a[3 * i] / 3);
  }
  assertEquals(rows.size, n);
  assertThrows(
    () => [...batches(ds, { data, labels, n }, { batchSize: 5, augment: true, rng: new Rng(1) })],
    UserError,
    "augmentation needs image data",
  );
  assertThrows(() => [...batches(ds, { data, labels, n }, { batchSize: 0 })], UserError, "batch size");
});

Deno.test("batches reuse one buffer (no allocation per batch)", () => {
  const split = randomImages(30, 8, 8, 3, 3);
  const ds = { sampleShape: [8, 8, 3], normalization: CIFAR_NORMALIZATION };
  const buffers = new Set<ArrayBufferLike>();
  for (const { x, y } of batches(ds, split, { batchSize: 7, shuffle: true, augment: true, rng: new Rng(1) })) {
    buffers.add(x.buffer);
    buffers.add(y.buffer);
  }
  assertEquals(buffers.size, 2);
});

Deno.test("batches write into the buffer `allocate` gives, once, and refuse one of the wrong length", () => {
  const split = randomImages(30, 8, 8, 3, 3);
  const ds = { sampleShape: [8, 8, 3], normalization: CIFAR_NORMALIZATION };
  const asked: number[] = [];
  let given: Float32Array | null = null;
  const allocate = (length: number) => {
    asked.push(length);
    const backing = new Float32Array(length + 5); // a view at an offset, as aligned memory is
    return given = backing.subarray(5);
  };
  const plain: number[][] = [];
  for (const b of batches(ds, split, { batchSize: 7 })) plain.push([...b.x]); // copied before the next batch
  let k = 0;
  for (const { x } of batches(ds, split, { batchSize: 7, allocate })) {
    assert(x.buffer === given!.buffer && x.byteOffset === given!.byteOffset, "a view of the allocated buffer");
    assertEquals([...x], plain[k++], `batch ${k}`);
  }
  assertEquals(asked, [7 * 8 * 8 * 3]);
  assertThrows(
    () => [...batches(ds, split, { batchSize: 7, allocate: (n) => new Float32Array(n - 1) })],
    Error,
    "allocate gave 1343 values, not 1344",
  );
});

Deno.test("a split normalised once gives batches() values exactly, batched as views (images and vectors)", () => {
  const vectors: Split = {
    data: Float32Array.from({ length: 23 * 5 }, (_, i) => Math.sin(i)),
    labels: new Int32Array(23),
    n: 23,
  };
  const cases = [
    {
      name: "grey images",
      ds: { sampleShape: [6, 5, 1], normalization: { mean: [0.3], std: [0.7] } },
      split: randomImages(23, 6, 5, 1, 4),
    },
    {
      name: "colour images",
      ds: { sampleShape: [4, 4, 3], normalization: CIFAR_NORMALIZATION },
      split: randomImages(23, 4, 4, 3, 5),
    },
    { name: "vectors", ds: { sampleShape: [5], normalization: undefined }, split: vectors },
  ];
  for (const { name, ds, split } of cases) {
    const want: { x: number[]; y: number[] }[] = [];
    for (const b of batches(ds, split, { batchSize: 10 })) want.push({ x: [...b.x], y: [...b.y] });
    const x = normaliseSplit(ds, split);
    const got = [...normalisedBatches(x, split, ds.sampleShape, 10)];
    assertEquals(got.map((b) => b.n), [10, 10, 3], name);
    got.forEach((b, k) => {
      assert(b.x.buffer === x.buffer, `${name}: batch ${k} is a view`);
      assertEquals({ x: [...b.x], y: [...b.y] }, want[k], `${name}: batch ${k}`);
    });
  }
  const ds = cases[0].ds;
  const split = cases[0].split;
  let asked = 0;
  const x = normaliseSplit(ds, split, (n) => (asked = n, new Float32Array(n + 16).subarray(16)));
  assertEquals([asked, x.byteOffset], [23 * 30, 64]);
  assertThrows(
    () => normaliseSplit(ds, split, (n) => new Float32Array(n + 1)),
    Error,
    "allocate gave 691 values, not 690",
  );
  assertThrows(() => [...normalisedBatches(x, split, ds.sampleShape, 0)], UserError, "positive integer");
  assertThrows(
    () => [...normalisedBatches(x.subarray(1), split, ds.sampleShape, 4)],
    Error,
    "689 values for 23 samples of 30",
  );
  assertThrows(() => normaliseSplit(ds, { ...split, n: 22 }), Error, "split holds 690 values, expected 22×30");
  // Kept for a whole run up to 64 MiB of float32: 16 Mi values.
  assert(keepsNormalised({ sampleShape: [32, 32, 4] }, { n: 4096 }), "exactly 16 Mi values");
  assert(!keepsNormalised({ sampleShape: [32, 32, 4] }, { n: 4097 }), "one sample more");
});

Deno.test("batches copy samples from a split normalised once, with the same values and draws as normalising anew", () => {
  const ds = { sampleShape: [4, 4, 3], normalization: CIFAR_NORMALIZATION };
  const split = randomImages(23, 4, 4, 3, 6);
  const normalised = normaliseSplit(ds, split);
  const run = (opts: { normalised?: Float32Array; augment?: boolean }) => {
    const rng = new Rng(9);
    const out: number[][] = [];
    for (const b of batches(ds, split, { batchSize: 5, shuffle: true, rng, ...opts })) out.push([...b.x, ...b.y]);
    return { out, next: rng.uniform() };
  };
  assertEquals(run({ normalised }), run({}), "shuffled");
  // Augmentation crops the raw image (padding is raw zeros): the normalised copy is not used, nothing changes.
  assertEquals(run({ normalised, augment: true }), run({ augment: true }), "augmented");
  assertThrows(
    () => [...batches(ds, split, { batchSize: 5, normalised: normalised.subarray(48) })],
    Error,
    "the normalised split holds 1056 values, expected 23×48",
  );
});
