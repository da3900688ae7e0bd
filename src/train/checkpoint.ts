/**
 * Checkpoint files: a small self-describing binary container, so a run folder
 * needs nothing but this package (and NumPy-style tools can read it: the
 * header is JSON, the payload raw little-endian float32).
 *
 * Layout: the 8 bytes `NCLCKPT1`, a little-endian uint32 header length, the
 * JSON header `{ meta, tensors: [{ name, shape, offset }] }` padded with spaces
 * to a multiple of 4 bytes, then every tensor's float32 values back to back
 * (`offset` counts bytes from the start of that payload).
 * Writes are atomic (temporary file, then rename).
 */
import { tf } from "../backend/tf.ts";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io.ts";

const MAGIC = "NCLCKPT1";

/** A named float32 tensor as stored in a checkpoint. */
export interface StoredTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A decoded checkpoint. */
export interface Checkpoint {
  meta: Record<string, unknown>;
  tensors: Map<string, StoredTensor>;
}

/** Serialises `tensors` and `meta` into checkpoint bytes. */
export function encodeCheckpoint(tensors: StoredTensor[], meta: Record<string, unknown>): Uint8Array {
  let offset = 0;
  const entries = tensors.map((t) => {
    const e = { name: t.name, shape: t.shape, offset };
    offset += t.values.length * 4;
    return e;
  });
  let header = JSON.stringify({ meta, tensors: entries });
  header += " ".repeat((4 - ((MAGIC.length + 4 + new TextEncoder().encode(header).length) % 4)) % 4);
  const headerBytes = new TextEncoder().encode(header);
  const start = MAGIC.length + 4 + headerBytes.length;
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, headerBytes.length, true);
  out.set(headerBytes, MAGIC.length + 4);
  tensors.forEach((t, i) => {
    out.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), start + entries[i].offset);
  });
  return out;
}

interface Header {
  meta: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number }[];
}

const invalid = (path: string, why: string) => new UserError(`${path}: not a valid checkpoint (${why})`);

/** The header's end in bytes (where the payload starts), from the file's first 12 bytes. */
function headerEnd(bytes: Uint8Array, path: string): number {
  if (bytes.length < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw invalid(path, "wrong magic bytes");
  }
  return MAGIC.length + 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
}

/** Parses the JSON header of checkpoint bytes that reach at least to its end. */
function decodeHeader(bytes: Uint8Array, path: string): { header: Header; start: number } {
  const start = headerEnd(bytes, path);
  if (start > bytes.length) throw invalid(path, "truncated header");
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, start))), start };
  } catch {
    throw invalid(path, "unreadable header");
  }
}

/** Parses checkpoint bytes; `path` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  const { header, start } = decodeHeader(bytes, path);
  const payload = bytes.slice(start); // copy: aligned to 4 bytes for Float32Array
  const tensors = new Map<string, StoredTensor>();
  for (const e of header.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset + 4 * n > payload.length) throw invalid(path, `tensor ${e.name} runs past the end of the file`);
    tensors.set(e.name, { name: e.name, shape: e.shape, values: new Float32Array(payload.buffer, e.offset, n) });
  }
  return { meta: header.meta, tensors };
}

/** Reads the current values of named variables into {@linkcode StoredTensor}s. */
export async function snapshot(vars: { name: string; variable: tf.Variable }[]): Promise<StoredTensor[]> {
  return await Promise.all(vars.map(async ({ name, variable }) => ({
    name,
    shape: variable.shape,
    values: (await variable.data()) as Float32Array,
  })));
}

/** Writes a checkpoint file atomically. */
export async function saveCheckpoint(
  path: string,
  vars: { name: string; variable: tf.Variable }[],
  meta: Record<string, unknown>,
): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(await snapshot(vars), meta));
}

/** Reads a checkpoint file. */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: checkpoint not found`);
    throw e;
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * Reads only a checkpoint's `meta` (e.g. the epoch of `last.ckpt`), without
 * its tensors, which can be hundreds of megabytes.
 *
 * @example
 * ```ts
 * const { epoch } = await readCheckpointMeta("runs/a/last.ckpt");
 * ```
 */
export async function readCheckpointMeta(path: string): Promise<Record<string, unknown>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: checkpoint not found`);
    throw e;
  }
  try {
    const prefix = await readUpTo(file, MAGIC.length + 4);
    const rest = await readUpTo(file, headerEnd(prefix, path) - prefix.length);
    const bytes = new Uint8Array(prefix.length + rest.length);
    bytes.set(prefix);
    bytes.set(rest, prefix.length);
    return decodeHeader(bytes, path).header.meta;
  } finally {
    file.close();
  }
}

/** Reads `n` bytes from the file's position, or fewer at its end. */
async function readUpTo(file: Deno.FsFile, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await file.read(out.subarray(got));
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}

/**
 * Assigns stored values to variables by name; every variable must be present
 * with the same shape (a checkpoint of another configuration is refused).
 */
export function restoreVariables(
  ckpt: Checkpoint,
  vars: { name: string; variable: tf.Variable }[],
  path: string,
): void {
  for (const { name, variable } of vars) {
    const t = ckpt.tensors.get(name);
    if (!t) throw new UserError(`${path}: has no tensor '${name}' (written by another model configuration?)`);
    if (t.shape.join(",") !== variable.shape.join(",")) {
      throw new UserError(`${path}: tensor '${name}' has shape [${t.shape}], the model expects [${variable.shape}]`);
    }
    tf.tidy(() => variable.assign(tf.tensor(t.values, t.shape, "float32")));
  }
}
