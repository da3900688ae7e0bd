/**
 * `deno task measure` end to end: run as a subprocess on NumPy fixtures and
 * on broken inputs, checking the JSON keys and values, and that each mistake
 * exits with status 2 and one line on stderr naming the file.
 */
import { assert, assertClose, assertEquals, assertMatch } from "./_assert.ts";
import { joinPath } from "../src/io.ts";
import { FIXTURE_CASE as CASE, fixtureArgs, measure, MEASURED_KEYS, ROOT } from "./_measure_task.ts";
import { writeNpy } from "../src/arrays/npy.ts";

const NPY = joinPath(ROOT, "tests", "fixtures", "metrics", "npy");

Deno.test("measure --json prints exactly one object with every key, matching NumPy", async () => {
  const expected = JSON.parse(await Deno.readTextFile(joinPath(CASE, "expected.json")));
  const [withJson, table] = await Promise.all([measure([...fixtureArgs(), "--json"]), measure(fixtureArgs())]);
  assertEquals(withJson.code, 0, withJson.stderr);
  const lines = withJson.stdout.trim().split("\n");
  assertEquals(lines.length, 1);
  const got = JSON.parse(lines[0]);
  assertEquals(Object.keys(got), MEASURED_KEYS);
  for (const key of MEASURED_KEYS) {
    const want = expected[key];
    assertClose(got[key], want, { rel: 1e-9, floor: 1 }, `${key}: ${got[key]} vs ${want}`);
  }
  assertEquals(table.code, 0, table.stderr);
  assertMatch(table.stdout, /^N = 300, K = 10, d = 20; projections float64$/m);
  for (const key of MEASURED_KEYS) assertMatch(table.stdout, new RegExp(`^${key} +[0-9.e+-]+ `, "m"));
});

Deno.test("measure --projection float32 on wasm and on auto matches NumPy to 1e-5", async () => {
  const expected = JSON.parse(await Deno.readTextFile(joinPath(CASE, "expected.json")));
  const [wasm, auto] = await Promise.all([
    measure([...fixtureArgs(), "--projection", "float32", "--backend", "wasm"]),
    measure([...fixtureArgs(), "--projection", "float32"]),
  ]);
  assertEquals(wasm.code, 0, wasm.stderr);
  assertMatch(wasm.stdout, /; projections float32 products on tfjs wasm$/m);
  assertEquals(auto.code, 0, auto.stderr);
  assertMatch(auto.stdout, /; projections float32 products on tfjs (tensorflow|wasm)$/m);
  for (const r of [wasm, auto]) {
    for (const key of MEASURED_KEYS) {
      const got = Number(r.stdout.match(new RegExp(`^${key} +([0-9.e+-]+) `, "m"))![1]);
      const want = expected[key];
      // The table prints 6 decimals or 5 significant digits.
      assertClose(got, want, { rel: 1e-5, floor: 1 }, `${key}: ${got} vs ${want}`);
    }
  }
  const misuse = await measure([...fixtureArgs(), "--backend", "wasm"]);
  assertEquals(misuse.code, 2);
  assertEquals(misuse.stderr.trim(), "error: --backend applies only with --projection float32");
});

Deno.test("measure reads JSON arrays and defaults the bias to zero", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = [[1, 0.1], [1.2, -0.1], [-1, 0.2], [-0.8, 0]];
    await Deno.writeTextFile(joinPath(dir, "f.json"), JSON.stringify(f));
    await Deno.writeTextFile(joinPath(dir, "y.json"), "[0, 0, 1, 1]");
    await Deno.writeTextFile(joinPath(dir, "w.json"), "[[1, 0], [-1, 0]]");
    const r = await measure([
      "--features",
      joinPath(dir, "f.json"),
      "--labels",
      joinPath(dir, "y.json"),
      "--weights",
      joinPath(dir, "w.json"),
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assertEquals(m.top1, 100);
    // μ_G = (0.1, 0.05), b = 0: W μ_G = (0.1, −0.1).
    assert(Math.abs(m.nc4_bias - Math.SQRT2 * 0.1) < 1e-15, `${m.nc4_bias}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measure: each bad input exits 2 with one stderr line naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = (name: string) => joinPath(dir, name);
    const f = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]);
    const w = new Float32Array([1, 0, -1, 0]);
    await Deno.writeFile(p("f.npy"), writeNpy({ dtype: "float32", shape: [4, 2], data: f }));
    await Deno.writeFile(p("w.npy"), writeNpy({ dtype: "float32", shape: [2, 2], data: w }));
    await Deno.writeFile(
      p("y.npy"),
      writeNpy({ dtype: "int64", shape: [4], data: new BigInt64Array([0n, 1n, 0n, 1n]) }),
    );
    const nan = f.slice();
    nan[3] = NaN;
    await Deno.writeFile(p("nan.npy"), writeNpy({ dtype: "float32", shape: [4, 2], data: nan }));
    await Deno.writeFile(p("big.npy"), writeNpy({ dtype: "int32", shape: [4], data: new Int32Array([0, 1, 2, 1]) }));
    await Deno.writeFile(p("neg.npy"), writeNpy({ dtype: "int32", shape: [4], data: new Int32Array([0, -1, 0, 1]) }));
    await Deno.writeFile(p("y3.npy"), writeNpy({ dtype: "int32", shape: [3], data: new Int32Array([0, 1, 0]) }));
    await Deno.writeFile(p("yf.npy"), writeNpy({ dtype: "float32", shape: [4], data: new Float32Array([0, 1, 0, 1]) }));
    await Deno.writeFile(p("w3.npy"), writeNpy({ dtype: "float32", shape: [1, 3], data: new Float32Array(3) }));
    await Deno.writeFile(p("b3.npy"), writeNpy({ dtype: "float32", shape: [3], data: new Float32Array(3) }));
    const header = await Deno.readFile(p("f.npy"));
    header.set(new TextEncoder().encode("'shape': (4; 2)"), new TextDecoder().decode(header).indexOf("'shape'"));
    await Deno.writeFile(p("badheader.npy"), header);

    const base = { features: p("f.npy"), labels: p("y.npy"), weights: p("w.npy") };
    // A NaN in a shard or an out-of-distribution file names that file and its own row, not the set.
    const nanLine = new RegExp(
      `^error: ${p("nan.npy").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: non-finite value NaN at row 1, column 1$`,
    );
    const cases: [Partial<Record<"features" | "labels" | "weights" | "bias" | "ood-features", string>>, RegExp][] = [
      [{ features: p("badheader.npy") }, /badheader\.npy: malformed shape/],
      [{ features: p("nan.npy") }, /nan\.npy: non-finite value NaN at row 1, column 1/],
      [{ features: `${p("f.npy")},${p("nan.npy")}`, labels: `${p("y.npy")},${p("y.npy")}` }, nanLine],
      [{ "ood-features": `${p("f.npy")},${p("nan.npy")}` }, nanLine],
      [{ labels: p("big.npy") }, /big\.npy: label 2 at row 2 is not a class in \[0, 2\)/],
      [{ labels: p("neg.npy") }, /neg\.npy: label -1 at row 1/],
      [{ labels: p("y3.npy") }, /y3\.npy: 3 labels for 4 feature rows/],
      [{ labels: p("yf.npy") }, /yf\.npy: labels must have an integer dtype, got float32/],
      [{ weights: p("w3.npy") }, /w3\.npy: shape \[1, 3\] does not match feature dimension d = 2/],
      [{ bias: p("b3.npy") }, /b3\.npy: 3 entries for K = 2 classes/],
      [{ features: joinPath(NPY, "complex.npy") }, /complex\.npy: unsupported dtype '<c8'/],
      [{ features: p("missing.npy") }, /missing\.npy: file not found/],
      [{ features: "" }, /--features is required/],
    ];
    const results = await Promise.all(cases.map(([override]) => {
      const files = { ...base, ...override };
      const args = Object.entries(files).flatMap(([k, v]) => v === "" ? [] : [`--${k}`, v]);
      return measure(args);
    }));
    results.forEach((r, i) => {
      const pattern = cases[i][1];
      assertEquals(r.code, 2, `case ${pattern}: exit ${r.code}, stderr ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, `one line: ${r.stderr}`);
      assertMatch(lines[0], /^error: /);
      assertMatch(lines[0], pattern);
      assertEquals(r.stdout, "");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measure at K ≥ 64 in float64 takes TensorFlow's double kernels when installed, with the same metrics", async () => {
  const { syntheticFeatures, neuralCollapseMetrics } = await import("../src/metrics/mod.ts");
  const { native } = await import("./_native.ts");
  const data = syntheticFeatures(3, 2600, 64, 48, 2); // pass 2 in blocks of 2048 and 552 rows
  const r = await measureArrays(
    { dtype: "float32", shape: [2600, 48], data: Float32Array.from(data.features) },
    { dtype: "int32", shape: [2600], data: Int32Array.from(data.labels) },
    { dtype: "float32", shape: [64, 48], data: Float32Array.from(data.weights) },
  );
  assertEquals(r.code, 0, r.stderr);
  const note = native.ok ? "float64 on TensorFlow's double-precision kernels" : "float64";
  assertMatch(r.stdout, new RegExp(`^N = 2600, K = 64, d = 48, b = 0; projections ${note}$`, "m"));
  // JavaScript float64 on the same float32 values.
  const expected = neuralCollapseMetrics(
    Float32Array.from(data.features),
    data.labels,
    Float32Array.from(data.weights),
    null,
  );
  for (const key of MEASURED_KEYS) {
    const got = Number(r.stdout.match(new RegExp(`^${key} +([0-9.e+-]+) `, "m"))![1]);
    const want = (expected as unknown as Record<string, number>)[key];
    assertClose(got, want, { rel: 1e-5, floor: 1 }, `${key}: ${got} vs ${want}`);
  }
});

Deno.test("measure refuses, in one line before reading features, more classes than the K x K matrices fit in memory", async () => {
  const k = 60_000; // a dozen 60 000² float64 matrices: about 350 GB
  const r = await measureArrays(
    { dtype: "float32", shape: [1, 1], data: new Float32Array([1]) },
    { dtype: "int32", shape: [1], data: new Int32Array([0]) },
    { dtype: "float32", shape: [k, 1], data: new Float32Array(k) },
  );
  assertEquals(r.code, 2, r.stderr);
  assertEquals(r.stdout, "");
  assertMatch(
    r.stderr.trim(),
    /^error: \S*weights\.npy: K = 60000 classes in d = 1 need about 346 GB for the metrics' K x K float64 matrices, more than the [0-9.]+ GB this machine can give$/,
  );
});

/** `deno task measure` (float64, no bias) on features, labels and weights written as `.npy` to a temporary folder. */
async function measureArrays(
  features: Parameters<typeof writeNpy>[0],
  labels: Parameters<typeof writeNpy>[0],
  weights: Parameters<typeof writeNpy>[0],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const args: string[] = [];
    for (const [flag, array] of [["--features", features], ["--labels", labels], ["--weights", weights]] as const) {
      const path = joinPath(dir, `${flag.slice(2)}.npy`);
      await Deno.writeFile(path, writeNpy(array));
      args.push(flag, path);
    }
    return await measure(args);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
