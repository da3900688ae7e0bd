/**
 * `deno task measure` on what researchers save: .npz archives (stored and
 * deflated, --npz and file.npz:key), features split over shards (comma lists
 * and globs), small batches, and out-of-distribution features for NC5; all
 * checked against the NumPy fixtures or the in-memory measurement.
 */
import { assert, assertClose, assertEquals, assertMatch } from "./_assert.ts";
import { openArrayFile } from "../src/arrays/mod.ts";
import { joinPath } from "../src/io.ts";
import { FIXTURE_CASE, fixtureArgs, measure, ROOT } from "./_measure_task.ts";
import { neuralCollapseMetrics } from "../src/metrics/mod.ts";
import { numericData, writeNpy } from "../src/arrays/npy.ts";
import { readArrayFile } from "../src/arrays/read_array_file.ts";

const CASE = FIXTURE_CASE;
const ARRAYS = joinPath(ROOT, "tests", "fixtures", "arrays");

async function measureJson(args: string[]): Promise<Record<string, number>> {
  const r = await measure([...args, "--json"]);
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("measure --npz: stored and deflated archives, key selection, equal to the in-memory measurement", async () => {
  const stored = joinPath(ARRAYS, "stored.npz");
  const deflated = joinPath(ARRAYS, "deflated.npz");
  const read = async (spec: string) => {
    const f = await openArrayFile(spec);
    const a = await f.readAll();
    f.close();
    return a;
  };
  const h = await read(`${stored}:features`);
  const y = await read(`${stored}:labels`);
  const w = await read(`${stored}:W`);
  const b = await read(`${stored}:b`);
  const direct = neuralCollapseMetrics(
    h.data as Float32Array,
    numericData(y, "y"),
    w.data as Float32Array,
    b.data as Float32Array,
  );
  const runs = await Promise.all([
    measureJson(["--npz", stored]),
    measureJson(["--npz", deflated]),
    // Fortran-order features from the deflated archive, the rest by key; the bias flag overrides the archive's.
    measureJson([
      "--features",
      `${deflated}:feats_f`,
      "--labels",
      `${stored}:labels`,
      "--weights",
      `${deflated}:W`,
      "--bias",
      `${stored}:b`,
    ]),
  ]);
  for (const [i, got] of runs.entries()) {
    assertClose(got, direct as unknown as Record<string, number>, { rel: 1e-12, floor: 1 }, `run ${i}`);
  }
  const noBias = await measureJson(["--npz", stored, "--bias", joinPath(ARRAYS, "f8_c.npy")]).catch((e) => e);
  assert(noBias instanceof Error, "a 2-D bias must be refused");
});

Deno.test("measure: shards as a comma list or a glob, and tiny batches, give the NumPy fixture's values", async () => {
  const expected = JSON.parse(await Deno.readTextFile(joinPath(CASE, "expected.json")));
  const features = await readArrayFile(joinPath(CASE, "features.npy"));
  const labels = await readArrayFile(joinPath(CASE, "labels.npy"));
  const [n, d] = features.shape;
  const dir = await Deno.makeTempDir();
  try {
    const cuts = [0, 97, 98, 250, n];
    const hs: string[] = [];
    const ys: string[] = [];
    for (let s = 0; s + 1 < cuts.length; s++) {
      const [a, z] = [cuts[s], cuts[s + 1]];
      hs.push(joinPath(dir, `h_rank${s}.npy`));
      ys.push(joinPath(dir, `y_rank${s}.npy`));
      const fData = (features.data as Float32Array).slice(a * d, z * d);
      await Deno.writeFile(hs[s], writeNpy({ dtype: "float32", shape: [z - a, d], data: fData }));
      const yData = (labels.data as BigInt64Array).slice(a, z);
      await Deno.writeFile(ys[s], writeNpy({ dtype: "int64", shape: [z - a], data: yData }));
    }
    const common = ["--weights", joinPath(CASE, "weights.npy"), "--bias", joinPath(CASE, "bias.npy")];
    const [list, glob, small] = await Promise.all([
      measureJson(["--features", hs.join(","), "--labels", ys.join(","), ...common]),
      measureJson(["--features", joinPath(dir, "h_rank*.npy"), "--labels", joinPath(dir, "y_rank?.npy"), ...common]),
      measureJson(fixtureArgs({ extra: ["--batch-rows", "7"] })),
    ]);
    for (const [what, got] of Object.entries({ list, glob, small })) {
      assertClose(got, expected, { rel: 1e-9, floor: 1 }, what);
    }
    const table = await measure(["--features", joinPath(dir, "h_rank*.npy"), "--labels", ys.join(","), ...common]);
    assertEquals(table.code, 0, table.stderr);
    assertMatch(table.stdout, /^N = 300 in 4 shards, K = 10, d = 20; projections float64$/m);

    const mismatch = await measure(["--features", hs.join(","), "--labels", ys[0], ...common]);
    assertEquals(mismatch.code, 2);
    assertMatch(mismatch.stderr, /^error: --labels: 1 label file\(s\) for 4 feature file\(s\)/);
    const nothing = await measure(["--features", joinPath(dir, "q_*.npy"), "--labels", ys[0], ...common]);
    assertEquals(nothing.code, 2);
    assertMatch(nothing.stderr, /^error: --features .*q_\*\.npy: no file matches\n$/);
    // --features overrides the archive's; its dimension must match the archive's W.
    const mixed = await measure(["--npz", joinPath(ARRAYS, "stored.npz"), "--features", hs[0]]);
    assertEquals(mixed.code, 2);
    assertMatch(mixed.stderr, /^error: .*stored\.npz:W: shape \[3, 4\] does not match feature dimension d = 20 of /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measure --ood-features adds NC5, matching NumPy", async () => {
  const want = JSON.parse(await Deno.readTextFile(joinPath(CASE, "expected_ood.json"))).nc5;
  const args = fixtureArgs({ bias: false, extra: ["--ood-features", joinPath(CASE, "ood.npy")] });
  const got = await measureJson(args);
  assert(Math.abs(got.nc5 - want) <= 1e-9 * Math.max(1, want), `${got.nc5} vs ${want}`);
  const table = await measure(args);
  assertMatch(table.stdout, /, 50 out-of-distribution samples; /);
  assertMatch(table.stdout, /^nc5 +0\.14391\d /m);
  const wrongDim = await measure([...args.slice(0, 6), "--ood-features", joinPath(ARRAYS, "f8_c.npy")]);
  assertEquals(wrongDim.code, 2);
  assertMatch(wrongDim.stderr, /f8_c\.npy: features of dimension 6, but the classifier's rows have d = 20/);
});
