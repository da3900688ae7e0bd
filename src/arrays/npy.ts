/**
 * NumPy's `.npy` format (version 1.0–3.0, either byte order, C or Fortran
 * order), so features, labels and classifiers can move between this package
 * and NumPy without conversion. `.npz` archives are read member by member in
 * `open_array_file.ts`; nested JSON arrays are `json_array.ts`.
 *
 * The `.npy` layout: the magic `\x93NUMPY`, a major and minor version byte, a
 * little-endian header length (2 bytes in version 1, 4 bytes in 2 and 3), an
 * ASCII Python dict literal `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }` padded with spaces and a newline so the data starts at a
 * multiple of 64 bytes, then the raw elements. Typed arrays use the host's byte
 * order, which is little-endian on every platform Deno runs on; reading
 * converts big-endian and Fortran-order files, writing produces
 * little-endian C order.
 *
 * @example
 * ```ts
 * const bytes = writeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
 * const back = readNpy(bytes, "x.npy"); // { dtype: "float32", shape: [2, 2], data: Float32Array [1, 2, 3, 4] }
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** Element types this module reads and writes, by NumPy name (float16 is read only, widened to float32). */
export type NpyDtype =
  | "float16"
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

/** What a `.npy` header says about the data that follows it. */
export interface NpyHeader {
  /** Element type as stored (float16 data decodes to float32). */
  dtype: NpyDtype;
  /** Dimensions; [] for a scalar. */
  shape: number[];
  /** Elements stored column-major (NumPy's `fortran_order`). */
  fortranOrder: boolean;
  /** Elements stored big-endian ('>' in the descr). */
  bigEndian: boolean;
  /** Bytes per element. */
  itemSize: number;
  /** Number of elements, the product of `shape`. */
  length: number;
  /** Offset of the first data byte from the start of the file. */
  dataOffset: number;
}

interface DtypeInfo {
  descr: string;
  size: number;
  make: (buffer: ArrayBuffer, byteOffset: number, length: number) => NpyData;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  // Decoded element by element into a Float32Array (see decodeNpyElements); `make` serves the other dtypes.
  float16: { descr: "<f2", size: 2, make: () => new Float32Array(0) },
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

/** Longest header accepted: NumPy writes under 100 bytes for any 2-D array and caps its own reads at 10 000. */
const MAX_HEADER_BYTES = 1 << 16;

/** Whether a dtype holds integers (bool excluded). */
export function isIntegerDtype(dtype: NpyDtype): boolean {
  return dtype !== "float16" && dtype !== "float32" && dtype !== "float64" && dtype !== "bool";
}

/**
 * The offset of the data section (the whole header's length) from the first
 * 12 bytes of a `.npy` file (fewer when the file is shorter). `name`
 * prefixes error messages. Checks the magic and the format version.
 *
 * @example
 * ```ts
 * npyDataOffset(bytes.subarray(0, 12), "x.npy"); // 128 for most files NumPy writes
 * ```
 */
export function npyDataOffset(prefix: Uint8Array, name: string): number {
  const fail = (msg: string): never => {
    throw new UserError(`${name}: ${msg}`);
  };
  if (prefix.length < 10 || MAGIC.some((m, i) => prefix[i] !== m)) fail("not a .npy file (missing \\x93NUMPY magic)");
  const major = prefix[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${prefix[7]}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (prefix.length < 8 + lenBytes) fail("truncated header");
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is implausible (over ${MAX_HEADER_BYTES} bytes)`);
  return 8 + lenBytes + headerLen;
}

/**
 * Parses the header of a `.npy` file; `bytes` holds at least the whole header
 * (the file, or its first {@linkcode npyDataOffset} bytes). Accepts every
 * layout NumPy writes for numeric arrays: versions 1.0–3.0, C or Fortran
 * order, little- or big-endian. Rejects structured and unsupported dtypes and
 * shapes whose element count is not a safe integer. `name` prefixes errors.
 *
 * @example
 * ```ts
 * const h = parseNpyHeader(await Deno.readFile("W.npy"), "W.npy"); // { dtype: "float32", shape: [10, 512], ... }
 * ```
 */
export function parseNpyHeader(bytes: Uint8Array, name: string): NpyHeader {
  const fail = (msg: string): never => {
    throw new UserError(`${name}: ${msg}`);
  };
  const dataOffset = npyDataOffset(bytes.subarray(0, 12), name);
  if (dataOffset > bytes.length) {
    fail(`header length ${dataOffset - (bytes[6] === 1 ? 10 : 12)} runs past the end of the file`);
  }
  const start = bytes[6] === 1 ? 10 : 12;
  const header = new TextDecoder(bytes[6] === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, dataOffset));

  if (/['"]descr['"]\s*:\s*\[/.test(header)) fail("structured dtypes (records) are not supported");
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  if (descr === undefined) fail(`malformed header (no 'descr' string): ${header.trim().slice(0, 200)}`);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) fail(`malformed header (no 'fortran_order'): ${header.trim().slice(0, 200)}`);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) fail(`malformed header (no 'shape' tuple): ${header.trim().slice(0, 200)}`);

  const parsed = dtypeFromDescr(descr!);
  if (parsed === null) {
    fail(
      `unsupported dtype '${descr}' (supported: float16/32/64, (u)int8–64, bool, either byte order)`,
    );
  }
  const shape: number[] = [];
  let length = 1;
  for (const part of shapeText!.split(",")) {
    const t = part.trim();
    if (t === "") continue;
    if (!/^\d+L?$/.test(t)) fail(`malformed shape '(${shapeText})'`);
    const dim = Number(t.replace("L", ""));
    length *= dim;
    if (!Number.isSafeInteger(dim) || !Number.isSafeInteger(length)) {
      fail(`shape (${shapeText}) has more elements than any file can hold`);
    }
    shape.push(dim);
  }
  const itemSize = DTYPES[parsed!.dtype].size;
  if (!Number.isSafeInteger(length * itemSize)) fail(`shape (${shapeText}) has more bytes than any file can hold`);
  return {
    dtype: parsed!.dtype,
    shape,
    fortranOrder: fortran === "True",
    bigEndian: parsed!.bigEndian,
    itemSize,
    length,
    dataOffset,
  };
}

/**
 * Parses the bytes of a `.npy` file into a C-order array in the host's byte
 * order, whatever order and endianness the file stores (Fortran-order data is
 * transposed, big-endian data byte-swapped, float16 widened exactly to
 * float32). `name` (usually the path) prefixes every error message. Rejects
 * structured and unsupported dtypes and a data section whose length does not
 * match the shape.
 *
 * @example
 * ```ts
 * const { shape, data } = readNpy(await Deno.readFile("features.npy"), "features.npy");
 * ```
 */
export function readNpy(bytes: Uint8Array, name: string): NdArray {
  const h = parseNpyHeader(bytes, name);
  const dataBytes = bytes.length - h.dataOffset;
  if (dataBytes !== h.length * h.itemSize) {
    throw new UserError(
      `${name}: shape (${h.shape.join(", ")}) of ${h.dtype} needs ${h.length * h.itemSize} data bytes, ` +
        `file has ${dataBytes}`,
    );
  }
  const data = decodeNpyElements(h, bytes.subarray(h.dataOffset));
  return {
    dtype: h.dtype === "float16" ? "float32" : h.dtype,
    shape: h.shape,
    data: h.fortranOrder ? fortranToC(data, h.shape) : data,
  };
}

/**
 * Decodes `raw`, whole elements of dtype `header.dtype` as stored (either byte
 * order), into a typed array in the host's byte order; float16 becomes
 * float32. The result may share memory with `raw` when no conversion is
 * needed and `raw` is aligned. Element order is left as stored.
 *
 * @example
 * ```ts
 * const values = decodeNpyElements(header, rawBytes); // e.g. Float32Array
 * ```
 */
export function decodeNpyElements(
  header: Pick<NpyHeader, "dtype" | "bigEndian" | "itemSize">,
  raw: Uint8Array,
): NpyData {
  const size = header.itemSize;
  const n = Math.floor(raw.length / size);
  if (header.dtype === "float16") return decodeFloat16(raw, n, header.bigEndian);
  const info = DTYPES[header.dtype];
  let bytes = raw.subarray(0, n * size);
  if (header.bigEndian && size > 1) {
    bytes = bytes.slice();
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  } else if (bytes.byteOffset % size !== 0) {
    // A typed-array view needs an aligned offset; NumPy aligns to 64, other writers may not.
    bytes = bytes.slice();
  }
  return info.make(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
}

let float16Table: Float32Array | null = null;

/** Widens IEEE half-precision values exactly through a table of all 65 536 bit patterns. */
function decodeFloat16(raw: Uint8Array, n: number, bigEndian: boolean): Float32Array {
  if (float16Table === null) {
    float16Table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) {
      const sign = bits & 0x8000 ? -1 : 1;
      const exp = (bits >> 10) & 0x1f;
      const frac = bits & 0x3ff;
      float16Table[bits] = exp === 0
        ? sign * frac * 2 ** -24
        : exp === 31
        ? (frac === 0 ? sign * Infinity : NaN)
        : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
  }
  const table = float16Table;
  const out = new Float32Array(n);
  const [hi, lo] = bigEndian ? [0, 1] : [1, 0];
  for (let i = 0; i < n; i++) out[i] = table[(raw[2 * i + hi] << 8) | raw[2 * i + lo]];
  return out;
}

/**
 * Reorders column-major (Fortran) elements of an array of `shape` into
 * row-major (C) order.
 *
 * @example
 * ```ts
 * fortranToC(new Float64Array([1, 4, 2, 5, 3, 6]), [2, 3]); // Float64Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function fortranToC<T extends NpyData>(data: T, shape: number[]): T {
  if (shape.length < 2) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  if (shape.length === 2) {
    const [rows, cols] = shape;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = data[j * rows + i];
    return out;
  }
  // Column-major strides: element (i_0, …, i_{n−1}) is at Σ_a i_a · Π_{b<a} shape_b.
  const strides = shape.map((_, a) => shape.slice(0, a).reduce((p, s) => p * s, 1));
  const index = new Array(shape.length).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let a = 0; a < shape.length; a++) f += index[a] * strides[a];
    out[c] = data[f];
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

function dtypeFromDescr(descr: string): { dtype: NpyDtype; bigEndian: boolean } | null {
  // '<' little-endian, '>' big-endian, '|' not applicable (one byte), '=' native (little-endian here).
  const order = descr[0];
  const code = descr.slice(1);
  for (const [dtype, info] of Object.entries(DTYPES) as [NpyDtype, DtypeInfo][]) {
    if (info.descr.slice(1) !== code) continue;
    if (order === "<" || order === "=" || (order === "|" && info.size === 1)) return { dtype, bigEndian: false };
    if (order === ">") return { dtype, bigEndian: info.size > 1 };
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
  if (info === undefined || array.dtype === "float16") {
    throw new UserError(`writeNpy: unsupported dtype '${array.dtype}'`);
  }
  const length = array.shape.reduce((a, b) => a * b, 1);
  if (array.shape.some((s) => !Number.isInteger(s) || s < 0) || length !== array.data.length) {
    throw new UserError(`writeNpy: shape [${array.shape}] does not match ${array.data.length} elements`);
  }
  if (array.data.BYTES_PER_ELEMENT !== info.size) {
    throw new UserError(`writeNpy: ${array.data.constructor.name} cannot hold dtype ${array.dtype}`);
  }
  const header = npyHeader(array.dtype, array.shape);
  const out = new Uint8Array(header.length + length * info.size);
  out.set(header, 0);
  const padded = header.length;
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, length * info.size), padded);
  return out;
}

/**
 * The header of a C-order little-endian `.npy` file of `dtype` and `shape`,
 * padded so that the data starts at a multiple of 64 bytes (version 1.0, or
 * 2.0 when the header needs more than 65 535 bytes), for writing the data
 * after it in pieces.
 *
 * @example
 * ```ts
 * const file = await Deno.open("h.npy", { write: true, create: true });
 * await file.write(npyHeader("float32", [n, d])); // then n·d float32 values
 * ```
 */
export function npyHeader(dtype: NpyDtype, shape: number[]): Uint8Array {
  const info = DTYPES[dtype];
  if (info === undefined || dtype === "float16") throw new UserError(`npyHeader: unsupported dtype '${dtype}'`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
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
  const out = new Uint8Array(padded);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  out.set(new TextEncoder().encode(header), 8 + lenBytes);
  return out;
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
