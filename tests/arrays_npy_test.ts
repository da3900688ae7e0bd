/** The .npy reader/writer against files written by NumPy, round trips, and malformed input. */
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { type NdArray, numericData, readNpy, writeNpy } from "../src/arrays/npy.ts";
import { parseJsonArray } from "../src/arrays/json_array.ts";
import { readArrayFile } from "../src/arrays/read_array_file.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";

const DIR = joinPath(new URL(".", import.meta.url).pathname, "fixtures", "metrics", "npy");
const read = async (name: string) => readNpy(await Deno.readFile(joinPath(DIR, name)), name);
const A = [-0.5, -0.25, 0, 0.25, 0.5, 0.75]; // np.arange(6).reshape(2, 3) / 4 - 0.5

Deno.test("reads NumPy's files: float64, float32, int64, int32, uint8, bool, scalar, empty, version 2", async () => {
  const f8 = await read("f8_2x3.npy");
  assertEquals(f8.dtype, "float64");
  assertEquals(f8.shape, [2, 3]);
  assert(f8.data instanceof Float64Array);
  assertEquals(Array.from(f8.data as Float64Array), A);
  const f4 = await read("f4_2x3.npy");
  assert(f4.data instanceof Float32Array);
  assertEquals(Array.from(f4.data as Float32Array), A);
  const i8 = await read("i8_4.npy");
  assertEquals(i8.dtype, "int64");
  assertEquals(Array.from(i8.data as BigInt64Array), [0n, 3n, -2n, 9007199254740991n]);
  assertEquals(Array.from(numericData(i8, "i8")), [0, 3, -2, 9007199254740991]);
  const i4 = await read("i4_4.npy");
  assertEquals(Array.from(i4.data as Int32Array), [0, 3, -2, 2147483647]);
  const u1 = await read("u1_3.npy");
  assertEquals(u1.dtype, "uint8");
  assertEquals(Array.from(u1.data as Uint8Array), [0, 7, 255]);
  const b1 = await read("b1_3.npy");
  assertEquals(b1.dtype, "bool");
  assertEquals(Array.from(b1.data as Uint8Array), [1, 0, 1]);
  const scalar = await read("f8_scalar.npy");
  assertEquals(scalar.shape, []);
  assertEquals(Array.from(scalar.data as Float64Array), [2.5]);
  const empty = await read("f4_0x3.npy");
  assertEquals(empty.shape, [0, 3]);
  assertEquals(empty.data.length, 0);
  const v2 = await read("f8_2x3_v2.npy");
  assertEquals(Array.from(v2.data as Float64Array), A);
});

Deno.test("writeNpy reproduces NumPy's bytes exactly", async () => {
  for (
    const [name, array] of [
      ["f8_2x3.npy", { dtype: "float64", shape: [2, 3], data: new Float64Array(A) }],
      ["f4_2x3.npy", { dtype: "float32", shape: [2, 3], data: new Float32Array(A) }],
      ["i8_4.npy", { dtype: "int64", shape: [4], data: new BigInt64Array([0n, 3n, -2n, 9007199254740991n]) }],
      ["f8_scalar.npy", { dtype: "float64", shape: [], data: new Float64Array([2.5]) }],
    ] as [string, NdArray][]
  ) {
    assertEquals(writeNpy(array), await Deno.readFile(joinPath(DIR, name)), name);
  }
});

Deno.test("round trips: float32, float64, int32, int64, uint8, bool", () => {
  const arrays: NdArray[] = [
    { dtype: "float32", shape: [3, 2], data: new Float32Array([1.5, -2, 3e-8, 4, Math.PI, 0]) },
    { dtype: "float64", shape: [2, 2, 2], data: Float64Array.from({ length: 8 }, (_, i) => Math.sqrt(i) - 1) },
    { dtype: "int32", shape: [4], data: new Int32Array([-2147483648, 0, 1, 2147483647]) },
    { dtype: "int64", shape: [2, 1], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    { dtype: "uint8", shape: [3], data: new Uint8Array([0, 1, 255]) },
    { dtype: "bool", shape: [2], data: new Uint8Array([1, 0]) },
  ];
  for (const a of arrays) {
    const bytes = writeNpy(a);
    assertEquals(bytes.length % 64, (a.data.length * a.data.BYTES_PER_ELEMENT) % 64, "data starts at a multiple of 64");
    const back = readNpy(bytes, "x.npy");
    assertEquals(back.dtype, a.dtype);
    assertEquals(back.shape, a.shape);
    assertEquals(Array.from(back.data as ArrayLike<unknown>), Array.from(a.data as ArrayLike<unknown>));
  }
});

Deno.test("reads data that does not start on an aligned offset", () => {
  const bytes = writeNpy({ dtype: "float64", shape: [2], data: new Float64Array([1.25, -7]) });
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const back = readNpy(shifted.subarray(3), "x.npy");
  assertEquals(Array.from(back.data as Float64Array), [1.25, -7]);
});

function rejects(f: () => unknown, pattern: RegExp): void {
  assertThrows(f, UserError, pattern);
}

Deno.test("rejects unsupported dtypes and malformed files, naming the file", async () => {
  const bytes = async (name: string) => await Deno.readFile(joinPath(DIR, name));
  rejects(() => readNpy(new Uint8Array(0), "e.npy"), /^e\.npy: not a \.npy file/);
  const f8 = readNpy(await bytes("f8_2x3.npy"), "f8.npy");
  assertEquals(readNpy(await bytes("fortran.npy"), "fortran.npy"), f8);
  assertEquals(readNpy(await bytes("bigendian.npy"), "b.npy"), f8);
  await assertRejects(
    async () => readNpy(await bytes("complex.npy"), "c.npy"),
    UserError,
    /c\.npy: unsupported dtype '<c8'/,
  );
  const good = await bytes("f8_2x3.npy");
  rejects(() => readNpy(good.subarray(0, good.length - 8), "t.npy"), /needs 48 data bytes, file has 40/);
  const header = new TextDecoder().decode(good.subarray(10, 74));
  const corrupt = (from: string, to: string) => {
    const copy = good.slice();
    copy.set(new TextEncoder().encode(header.replace(from, to)), 10);
    return copy;
  };
  rejects(() => readNpy(corrupt("'shape': (2, 3)", "'shape': (2, x)"), "s.npy"), /s\.npy: malformed shape/);
  rejects(() => readNpy(corrupt("'descr'", "'dtype'"), "d.npy"), /d\.npy: malformed header \(no 'descr'/);
  rejects(() => readNpy(corrupt("False", "Maybe"), "f.npy"), /f\.npy: malformed header \(no 'fortran_order'/);
  const badVersion = good.slice();
  badVersion[6] = 9;
  rejects(() => readNpy(badVersion, "v.npy"), /unsupported \.npy format version 9/);
  const longHeader = good.slice();
  longHeader[8] = 0xff;
  rejects(() => readNpy(longHeader, "h.npy"), /runs past the end/);
});

Deno.test("writeNpy rejects a shape that does not match the data", () => {
  assertThrows(() => writeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) }), UserError);
  assertThrows(() => writeNpy({ dtype: "float64", shape: [3], data: new Float32Array(3) }), UserError);
});

Deno.test("JSON arrays: nested, scalar, ragged and non-numeric input", () => {
  const m = parseJsonArray("[[1, 2.5], [3, -4]]", "m.json");
  assertEquals(m.shape, [2, 2]);
  assertEquals(Array.from(m.data as Float64Array), [1, 2.5, 3, -4]);
  assertEquals(parseJsonArray("7", "s.json").shape, []);
  assertEquals(parseJsonArray("[]", "e.json").shape, [0]);
  rejects(() => parseJsonArray("[[1, 2], [3]]", "r.json"), /r\.json: ragged array at \[1\]/);
  rejects(() => parseJsonArray("[1, null]", "n.json"), /n\.json: element \[1\] is not a number/);
  rejects(() => parseJsonArray("[1, [2]]", "x.json"), /x\.json: element \[1\] is not a number/);
  rejects(() => parseJsonArray("[1,", "bad.json"), /bad\.json: invalid JSON/);
});

Deno.test("readArrayFile: dispatch by extension, missing file", async () => {
  const a = await readArrayFile(joinPath(DIR, "f8_2x3.npy"));
  assertEquals(Array.from(a.data as Float64Array), A);
  await assertRejects(() => readArrayFile(joinPath(DIR, "nope.npy")), UserError, /nope\.npy: file not found/);
  await assertRejects(() => readArrayFile("x.csv"), UserError, /x\.csv: expected a \.npy or \.json file/);
});

Deno.test("numericData refuses 64-bit integers beyond 2^53", () => {
  rejects(
    () => numericData({ dtype: "int64", shape: [1], data: new BigInt64Array([2n ** 60n]) }, "big.npy"),
    /big\.npy: element 0/,
  );
});
