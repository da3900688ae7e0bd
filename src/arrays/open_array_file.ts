/**
 * Arrays on disk opened for reading row by row: a `.npy` file, a member of a
 * `.npz` archive (stored or deflated: its directory read with zip.js, its
 * bytes streamed from the file and inflated 16 KB at a time), or a JSON array.
 *
 * @module
 */
import { configure, type Entry, type FileEntry, Reader, ZipReader } from "@zip.js/zip.js";
import { UserError } from "../errors.ts";
import {
  decodeNpyElements,
  fortranToC,
  type NdArray,
  type NpyData,
  npyDataOffset,
  type NpyHeader,
  parseNpyHeader,
} from "./npy.ts";
import { parseJsonArray } from "./json_array.ts";
import { readFileAt, StreamBytes } from "./_byte_reader.ts";

configure({ useWebWorkers: false });

/** An array on disk, read whole or in consecutive rows along its first axis. */
export interface ArrayFile {
  /** How messages name it: the path, or `archive.npz:key`. */
  readonly name: string;
  /** Its header (a JSON array reports float64, C order). */
  readonly header: NpyHeader;
  /** The whole array, C order, host byte order (float16 widened to float32). */
  readAll(): Promise<NdArray>;
  /** A cursor at row 0; each call starts a new one. */
  rows(): Promise<RowCursor>;
  /** Releases the file; the object is unusable afterwards. */
  close(): void;
}

/** Consecutive rows of an {@linkcode ArrayFile}. */
export interface RowCursor {
  /** The next `count` rows (fewer at the end, none past it): elements C order, host byte order. */
  next(count: number): Promise<NpyData>;
  /** Releases what the cursor holds. */
  close(): Promise<void>;
}

/**
 * Opens an array named as a user types it: `x.npy`, `x.json`, or
 * `archive.npz:key` (the member `key.npy` of a NumPy archive). Reads only the
 * header; errors are one-line UserErrors naming the file.
 *
 * @example
 * ```ts
 * const f = await openArrayFile("feats.npz:features");
 * const cursor = await f.rows();
 * const first = await cursor.next(1024); // up to 1024 rows
 * ```
 */
export async function openArrayFile(spec: string): Promise<ArrayFile> {
  const m = /^(.*\.npz):([^/:]+)$/i.exec(spec);
  if (m !== null) return await openNpzMember(m[1], m[2]);
  const lower = spec.toLowerCase();
  if (lower.endsWith(".npy")) return await NpyFile.open(spec);
  if (lower.endsWith(".json")) return await JsonFile.open(spec);
  if (lower.endsWith(".npz")) {
    throw new UserError(`${spec}: name the array inside the archive, as ${spec}:features (or use --npz)`);
  }
  throw new UserError(`${spec}: expected a .npy, .npz:key or .json file`);
}

async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new UserError(`${path}: not a file`);
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    throw new UserError(`${path}: cannot read (${(e as Error).message})`);
  }
}

function rowLength(h: NpyHeader): number {
  return h.shape.slice(1).reduce((a, b) => a * b, 1);
}

function rowCount(h: NpyHeader): number {
  return h.shape.length === 0 ? 1 : h.shape[0];
}

function sizeMismatch(name: string, h: NpyHeader, dataBytes: number): UserError {
  return new UserError(
    `${name}: shape (${h.shape.join(", ")}) of ${h.dtype} needs ${h.length * h.itemSize} data bytes, ` +
      `file has ${dataBytes}`,
  );
}

/** A `.npy` file: C-order rows are one read each, Fortran-order rows one read per column. */
class NpyFile implements ArrayFile {
  #file: Deno.FsFile;
  private constructor(readonly name: string, readonly header: NpyHeader, file: Deno.FsFile) {
    this.#file = file;
  }

  static async open(path: string): Promise<NpyFile> {
    const file = await openFile(path);
    try {
      const size = (await file.stat()).size;
      const prefix = new Uint8Array(Math.min(12, size));
      await readFileAt(file, 0, prefix, path);
      const offset = npyDataOffset(prefix, path);
      if (offset > size) parseNpyHeader(prefix, path); // throws: the header runs past the end
      const head = new Uint8Array(Math.min(offset, size));
      await readFileAt(file, 0, head, path);
      const header = parseNpyHeader(head, path);
      if (size - offset !== header.length * header.itemSize) throw sizeMismatch(path, header, size - offset);
      return new NpyFile(path, header, file);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  async readAll(): Promise<NdArray> {
    const h = this.header;
    const raw = new Uint8Array(h.length * h.itemSize);
    await readFileAt(this.#file, h.dataOffset, raw, this.name);
    const data = decodeNpyElements(h, raw);
    return {
      dtype: h.dtype === "float16" ? "float32" : h.dtype,
      shape: h.shape,
      data: h.fortranOrder ? fortranToC(data, h.shape) : data,
    };
  }

  rows(): Promise<RowCursor> {
    const h = this.header;
    const file = this.#file;
    const name = this.name;
    const total = rowCount(h);
    const width = rowLength(h);
    let row = 0;
    const fortran = h.fortranOrder && h.shape.length >= 2;
    // In Fortran order element (i, rest) is at i + N·f(rest): row i's C-order position p holds column cols[p].
    const cols = fortran ? fortranToC(Float64Array.from({ length: width }, (_, c) => c), h.shape.slice(1)) : null;
    return Promise.resolve({
      async next(count: number): Promise<NpyData> {
        const n = Math.max(0, Math.min(count, total - row));
        if (!fortran) {
          const raw = new Uint8Array(n * width * h.itemSize);
          await readFileAt(file, h.dataOffset + row * width * h.itemSize, raw, name);
          row += n;
          return decodeNpyElements(h, raw);
        }
        // One read per column of the chunk's rows, then a transpose of [width, n] into [n, width].
        const raw = new Uint8Array(n * width * h.itemSize);
        for (let c = 0; c < width; c++) {
          const at = h.dataOffset + (c * total + row) * h.itemSize;
          await readFileAt(file, at, raw.subarray(c * n * h.itemSize, (c + 1) * n * h.itemSize), name);
        }
        row += n;
        const byColumn = decodeNpyElements(h, raw);
        const out = new (byColumn.constructor as new (n: number) => NpyData)(n * width);
        for (let p = 0; p < width; p++) {
          const c = cols![p];
          for (let i = 0; i < n; i++) out[i * width + p] = byColumn[c * n + i];
        }
        return out;
      },
      close: () => Promise.resolve(),
    });
  }

  close(): void {
    this.#file.close();
  }
}

/** A JSON array, read whole (JSON is for small arrays: a classifier, a few labels). */
class JsonFile implements ArrayFile {
  private constructor(readonly name: string, readonly header: NpyHeader, readonly array: NdArray) {}

  static async open(path: string): Promise<JsonFile> {
    const file = await openFile(path);
    file.close();
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new UserError(`${path}: cannot read (${(e as Error).message})`);
    }
    const array = parseJsonArray(text, path);
    const header: NpyHeader = {
      dtype: "float64",
      shape: array.shape,
      fortranOrder: false,
      bigEndian: false,
      itemSize: 8,
      length: array.data.length,
      dataOffset: 0,
    };
    return new JsonFile(path, header, array);
  }

  readAll(): Promise<NdArray> {
    return Promise.resolve(this.array);
  }

  rows(): Promise<RowCursor> {
    return Promise.resolve(memoryRows(this.array));
  }

  close(): void {}
}

function memoryRows(array: NdArray): RowCursor {
  const width = array.shape.slice(1).reduce((a, b) => a * b, 1);
  let at = 0;
  return {
    next(count: number): Promise<NpyData> {
      const end = Math.min(array.data.length, at + Math.max(0, count) * width);
      const out = array.data.subarray(at, end);
      at = end;
      return Promise.resolve(out);
    },
    close: () => Promise.resolve(),
  };
}

/** A zip.js reader over a file, by positioned reads. */
class FileZipReader extends Reader<Deno.FsFile> {
  #file: Deno.FsFile;
  #name: string;
  constructor(file: Deno.FsFile, size: number, name: string) {
    super(file);
    this.#file = file;
    this.#name = name;
    this.size = size;
  }

  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    if (index < 0 || length < 0 || index + length > this.size) {
      throw new UserError(`${this.#name}: not a valid .npz archive (a record points past the end of the file)`);
    }
    const out = new Uint8Array(length);
    await readFileAt(this.#file, index, out, this.#name);
    return out;
  }
}

/**
 * Opens member `key` (stored as `key.npy`, as np.savez names it, or `key`) of
 * a `.npz` archive. Only stored and deflated members are read; the member's
 * declared size must be exactly what its `.npy` header needs, and the
 * stream stops once that is read: a deflated member is inflated 16 KB of
 * compressed bytes at a time, so a zip bomb costs at most its declared size
 * in time and about 16 MB (one read's inflation) in memory.
 *
 * @example
 * ```ts
 * const w = await (await openNpzMember("run.npz", "W")).readAll();
 * ```
 */
export async function openNpzMember(path: string, key: string): Promise<ArrayFile> {
  const name = `${path}:${key}`;
  const file = await openFile(path);
  try {
    const size = (await file.stat()).size;
    let entries: Entry[];
    try {
      entries = await new ZipReader(new FileZipReader(file, size, path)).getEntries();
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${path}: not a readable .npz archive (${(e as Error).message})`);
    }
    checkMemberNames(entries, path, key);
    const entry = entries.find((e) => e.filename === `${key}.npy`) ?? entries.find((e) => e.filename === key);
    if (entry === undefined || entry.directory) {
      const keys = entries.filter((e) => !e.directory).map((e) => e.filename.replace(/\.npy$/, ""));
      throw new UserError(`${path}: no array '${key}' in the archive (it holds: ${keys.join(", ") || "nothing"})`);
    }
    if (entry.encrypted) throw new UserError(`${name}: encrypted members are not supported`);
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw new UserError(`${name}: compression method ${entry.compressionMethod} (only stored and deflated members)`);
    }
    const member = new NpzMember(name, entry as FileEntry, file, path);
    await member.init();
    return member;
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Refuses an archive whose member names do not pick one array: two members
 * of one name (zip allows it; this reader would take the first, NumPy takes
 * the last), or both `key` and `key.npy` (NumPy's `np.load(f)[key]` reads
 * `key`, this reader `key.npy`).
 */
function checkMemberNames(entries: readonly Entry[], path: string, key: string): void {
  const seen = new Set<string>();
  for (const { filename } of entries) {
    if (seen.has(filename)) {
      throw new UserError(`${path}: duplicate member '${filename}' in the archive; which one is meant is ambiguous`);
    }
    seen.add(filename);
  }
  if (seen.has(key) && seen.has(`${key}.npy`)) {
    throw new UserError(`${path}: both members '${key}' and '${key}.npy' answer to '${key}'; rename one`);
  }
}

/**
 * Compressed bytes of a deflated `.npz` member read at a time: their
 * inflation (at most about 1032 times as many bytes, for zeros) stays near
 * 16 MB.
 */
const DEFLATED_READ_BYTES = 16 << 10;

/** Bytes of a stored `.npz` member read at a time (nothing inflates them). */
const STORED_READ_BYTES = 1 << 20;

class NpzMember implements ArrayFile {
  header!: NpyHeader;
  #entry: FileEntry;
  #file: Deno.FsFile;
  #path: string;
  constructor(readonly name: string, entry: FileEntry, file: Deno.FsFile, path: string) {
    this.#entry = entry;
    this.#file = file;
    this.#path = path;
  }

  /**
   * The member's bytes as a stream: its stored bytes read from the archive
   * {@linkcode DEFLATED_READ_BYTES} at a time (stored ones in larger reads), inflated when deflated. Each
   * read is asked for only when the reader wants more, so what is held at
   * once is one read's inflation: a deflated member of zeros (about 1000:1)
   * holds some 16 MB, not the hundreds of MB that one large compressed read
   * would inflate to at once.
   */
  async #memberBytes(): Promise<ReadableStream<Uint8Array>> {
    const entry = this.#entry;
    const name = this.name;
    // A handle of its own: a cancelled stream's last read may still be under way when the next stream starts.
    const file = await openFile(this.#path);
    let position: number;
    let end: number;
    try {
      // The local header repeats the name and has its own extra field: the data start after both.
      const local = new Uint8Array(30);
      await readFileAt(file, entry.offset, local, name);
      const view = new DataView(local.buffer);
      if (view.getUint32(0, true) !== 0x04034b50) {
        throw new UserError(`${name}: not a valid .npz archive (no local header where the directory points)`);
      }
      position = entry.offset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
      end = position + entry.compressedSize;
      if (end > (await file.stat()).size) {
        throw new UserError(`${name}: not a valid .npz archive (a record points past the end of the file)`);
      }
    } catch (e) {
      file.close();
      throw e;
    }
    const deflated = entry.compressionMethod === 8;
    let open = true;
    const release = (): void => {
      if (open) file.close();
      open = false;
    };
    const stored = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (position >= end) {
          release();
          return controller.close();
        }
        const chunk = new Uint8Array(Math.min(deflated ? DEFLATED_READ_BYTES : STORED_READ_BYTES, end - position));
        await readFileAt(file, position, chunk, name);
        position += chunk.length;
        controller.enqueue(chunk);
      },
      cancel: release,
    }, { highWaterMark: 0 });
    if (!deflated) return stored;
    return stored.pipeThrough(
      new DecompressionStream("deflate-raw") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }

  /** Opens a (decompressing) stream of the member and reads the header from it. */
  async #stream(): Promise<{ bytes: StreamBytes; header: NpyHeader }> {
    const entry = this.#entry;
    const bytes = new StreamBytes(await this.#memberBytes(), this.name);
    try {
      const declared = entry.uncompressedSize;
      const prefix = await bytes.readExact(Math.min(12, declared));
      const offset = npyDataOffset(prefix, this.name);
      if (offset > declared) parseNpyHeader(prefix, this.name);
      const rest = await bytes.readExact(offset - prefix.length);
      const head = new Uint8Array(offset);
      head.set(prefix);
      head.set(rest, prefix.length);
      const header = parseNpyHeader(head, this.name);
      if (declared - offset !== header.length * header.itemSize) {
        throw sizeMismatch(this.name, header, declared - offset);
      }
      return { bytes, header };
    } catch (e) {
      await bytes.close();
      throw e;
    }
  }

  async init(): Promise<void> {
    const { bytes, header } = await this.#stream();
    await bytes.close();
    this.header = header;
  }

  async readAll(): Promise<NdArray> {
    const { bytes, header: h } = await this.#stream();
    try {
      const data = decodeNpyElements(h, await bytes.readExact(h.length * h.itemSize));
      return {
        dtype: h.dtype === "float16" ? "float32" : h.dtype,
        shape: h.shape,
        data: h.fortranOrder ? fortranToC(data, h.shape) : data,
      };
    } finally {
      await bytes.close();
    }
  }

  async rows(): Promise<RowCursor> {
    const h = this.header;
    // A deflate stream has no random access, so a Fortran-order member is read whole (see the README).
    if (h.fortranOrder && h.shape.length >= 2) return memoryRows(await this.readAll());
    const { bytes } = await this.#stream();
    const width = rowLength(h);
    const total = rowCount(h);
    let row = 0;
    return {
      async next(count: number): Promise<NpyData> {
        const n = Math.max(0, Math.min(count, total - row));
        row += n;
        return decodeNpyElements(h, await bytes.readExact(n * width * h.itemSize));
      },
      close: () => bytes.close(),
    };
  }

  close(): void {
    this.#file.close();
  }
}
