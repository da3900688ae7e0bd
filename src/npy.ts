/**
 * Dense numeric arrays on disk: NumPy's `.npy` format (version 1.0–3.0,
 * little-endian, C order) and nested JSON arrays, so features, labels and
 * classifiers can move between this package and NumPy without conversion.
 *
 * The `.npy` layout: the magic `\x93NUMPY`, a major and minor version byte, a
 * little-endian header length (2 bytes in version 1, 4 bytes in 2 and 3), an
 * ASCII Python dict literal `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }` padded with spaces and a newline so the data starts at a
 * multiple of 64 bytes, then the raw elements. Typed arrays use the host's byte
 * order, which is little-endian on every platform Deno runs on.
 *
 * @example
 * ```ts
 * const bytes = writeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
 * const back = readNpy(bytes, "x.npy"); // { dtype: "float32", shape: [2, 2], data: Float32Array [1, 2, 3, 4] }
 * ```
 *
 * @module
 */
import { UserError } from "./errors.ts";

/** Element types this module reads and writes, by NumPy name. */
export type NpyDtype =
  | "float32"
  | "float64"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool";

/** The typed array holding the elements (bool as 0/1 bytes, 64-bit integers as BigInt arrays). */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** An n-dimensional array: elements in C (row-major) order. */
export interface NdArray {
  dtype: NpyDtype;
  /** Dimensions; [] for a scalar. The product is `data.length`. */
  shape: number[];
  data: NpyData;
}

interface DtypeInfo {
  descr: string;
  size: number;
  make: (buffer: ArrayBuffer, byteOffset: number, length: number) => NpyData;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  float32: { descr: "<f4", size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  float64: { descr: "<f8", size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  int8: { descr: "|i1", size: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  uint8: { descr: "|u1", size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  int16: { descr: "<i2", size: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  uint16: { descr: "<u2", size: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  int32: { descr: "<i4", size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  uint32: { descr: "<u4", size: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  int64: { descr: "<i8", size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  uint64: { descr: "<u8", size: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
  bool: { descr: "|b1", size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Whether a dtype holds integers (bool excluded). */
export function isIntegerDtype(dtype: NpyDtype): boolean {
  return dtype !== "float32" && dtype !== "float64" && dtype !== "bool";
}

/**
 * Parses the bytes of a `.npy` file. `name` (usually the path) prefixes every
 * error message. Rejects big-endian data, Fortran order, structured and
 * unsupported dtypes, and a data section whose length does not match the shape.
 *
 * @example
 * ```ts
 * const { shape, data } = readNpy(await Deno.readFile("features.npy"), "features.npy");
 * ```
 */
export function readNpy(bytes: Uint8Array, name: string): NdArray {
  const fail = (msg: string): never => {
    throw new UserError(`${name}: ${msg}`);
  };
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) fail("not a .npy file (missing \\x93NUMPY magic)");
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail("truncated header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) fail(`header length ${headerLen} runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lenBytes, dataStart));

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  if (descr === undefined) fail(`malformed header (no 'descr' string): ${header.trim()}`);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) fail(`malformed header (no 'fortran_order'): ${header.trim()}`);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) fail(`malformed header (no 'shape' tuple): ${header.trim()}`);

  if (fortran === "True") {
    fail("Fortran-order arrays are not supported; save np.ascontiguousarray(a) instead");
  }
  if (descr!.startsWith(">")) {
    fail(`big-endian dtype '${descr}' is not supported; save a.astype('<${descr!.slice(1)}') instead`);
  }
  const dtype = dtypeFromDescr(descr!);
  if (dtype === null) {
    fail(`unsupported dtype '${descr}' (supported: ${Object.values(DTYPES).map((t) => t.descr).join(", ")})`);
  }
  const shape: number[] = [];
  for (const part of shapeText!.split(",")) {
    const t = part.trim();
    if (t === "") continue;
    if (!/^\d+L?$/.test(t)) fail(`malformed shape '(${shapeText})'`);
    shape.push(parseInt(t, 10));
  }
  const info = DTYPES[dtype!];
  const length = shape.reduce((a, b) => a * b, 1);
  const dataBytes = bytes.length - dataStart;
  if (dataBytes !== length * info.size) {
    fail(`shape (${shape.join(", ")}) of ${dtype} needs ${length * info.size} data bytes, file has ${dataBytes}`);
  }
  const offset = bytes.byteOffset + dataStart;
  // A typed-array view needs an aligned offset; NumPy aligns to 64, other writers may not.
  const data = offset % info.size === 0
    ? info.make(bytes.buffer as ArrayBuffer, offset, length)
    : info.make(bytes.slice(dataStart).buffer, 0, length);
  return { dtype: dtype!, shape, data };
}

function dtypeFromDescr(descr: string): NpyDtype | null {
  // '<' little-endian, '|' not applicable (one byte), '=' native (little-endian here).
  const order = descr[0];
  const code = descr.slice(1);
  for (const [dtype, info] of Object.entries(DTYPES) as [NpyDtype, DtypeInfo][]) {
    if (info.descr.slice(1) !== code) continue;
    if (order === "<" || order === "=" || (order === "|" && info.size === 1)) return dtype;
  }
  return null;
}

/**
 * Serialises an array as a version 1.0 `.npy` file (2.0 when the header
 * exceeds 65 535 bytes), C order, little-endian.
 *
 * @example
 * ```ts
 * await Deno.writeFile("labels.npy", writeNpy({ dtype: "int64", shape: [2], data: new BigInt64Array([0n, 3n]) }));
 * ```
 */
export function writeNpy(array: NdArray): Uint8Array {
  const info = DTYPES[array.dtype];
  if (info === undefined) throw new UserError(`writeNpy: unsupported dtype '${array.dtype}'`);
  const length = array.shape.reduce((a, b) => a * b, 1);
  if (array.shape.some((s) => !Number.isInteger(s) || s < 0) || length !== array.data.length) {
    throw new UserError(`writeNpy: shape [${array.shape}] does not match ${array.data.length} elements`);
  }
  if (array.data.BYTES_PER_ELEMENT !== info.size) {
    throw new UserError(`writeNpy: ${array.data.constructor.name} cannot hold dtype ${array.dtype}`);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  const dict = `{'descr': '${info.descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let lenBytes = 2;
  let major = 1;
  let total = 8 + lenBytes + dict.length + 1;
  if (Math.ceil(total / 64) * 64 - 8 - lenBytes > 0xffff) {
    lenBytes = 4;
    major = 2;
    total = 8 + lenBytes + dict.length + 1;
  }
  const padded = Math.ceil(total / 64) * 64;
  const headerLen = padded - 8 - lenBytes;
  const header = dict + " ".repeat(headerLen - dict.length - 1) + "\n";
  const out = new Uint8Array(padded + length * info.size);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  out.set(new TextEncoder().encode(header), 8 + lenBytes);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, length * info.size), padded);
  return out;
}

/**
 * Parses a JSON number or nested array of numbers (rectangular) into a
 * float64 {@linkcode NdArray}. `name` prefixes error messages.
 *
 * @example
 * ```ts
 * parseJsonArray("[[1, 2], [3, 4]]", "w.json"); // { dtype: "float64", shape: [2, 2], data: Float64Array [1, 2, 3, 4] }
 * ```
 */
export function parseJsonArray(text: string, name: string): NdArray {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${name}: invalid JSON (${(e as Error).message})`);
  }
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let pos = 0;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw new UserError(`${name}: element ${path || "(root)"} is not a number`);
      out[pos++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new UserError(`${name}: ragged array at ${path || "(root)"}; expected shape [${shape.join(", ")}]`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, "");
  return { dtype: "float64", shape, data: out };
}

/**
 * Reads an array from a `.npy` or `.json` file (chosen by extension).
 *
 * @example
 * ```ts
 * const w = await readArrayFile("runs/a/weights.npy");
 * ```
 */
export async function readArrayFile(path: string): Promise<NdArray> {
  const lower = path.toLowerCase();
  if (!lower.endsWith(".npy") && !lower.endsWith(".json")) {
    throw new UserError(`${path}: expected a .npy or .json file`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    throw new UserError(`${path}: cannot read (${(e as Error).message})`);
  }
  return lower.endsWith(".npy") ? readNpy(bytes, path) : parseJsonArray(new TextDecoder().decode(bytes), path);
}

/**
 * The elements as a typed array of JavaScript numbers: 64-bit integer data is
 * converted (exactly, or a UserError naming `name` when an element exceeds
 * 2⁵³), every other dtype is returned as is.
 */
export function numericData(
  array: NdArray,
  name: string,
): Exclude<NpyData, BigInt64Array | BigUint64Array> {
  const d = array.data;
  if (!(d instanceof BigInt64Array || d instanceof BigUint64Array)) return d;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new UserError(`${name}: element ${i} (${v}) is too large for a JavaScript number`);
    }
    out[i] = Number(v);
  }
  return out;
}
