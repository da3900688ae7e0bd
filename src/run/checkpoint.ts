/**
 * Checkpoint files: a small self-describing binary container, so a run folder
 * needs nothing but this package (and NumPy-style tools can read it: the
 * header is JSON, the payload raw little-endian float32).
 *
 * Layout (format 2, magic `NCLCKPT2`):
 *
 * | bytes | content |
 * | --- | --- |
 * | 8 | `NCLCKPT2` |
 * | 4 | header length H, uint32 little-endian |
 * | 4 | CRC-32 of the header bytes, uint32 little-endian |
 * | H | JSON `{ meta, tensors: [{ name, shape, offset }], payload_bytes, payload_crc32 }`, space-padded so the payload starts on a multiple of 4 |
 * | … | every tensor's float32 values back to back (`offset` counts bytes from the payload's start) |
 *
 * Every read checks both CRC-32s (zlib's polynomial, as `zlib.crc32` and
 * Python's `zlib.crc32` compute it) and validates the header: finite integer
 * shapes, aligned in-range offsets, unique names, an object `meta`. Any
 * mismatch is a {@linkcode UserError} naming the file. Format-1 files
 * (`NCLCKPT1`, no checksums), written by earlier versions, are still read,
 * with the same header validation.
 *
 * This module knows bytes and files only; moving values in and out of tfjs
 * variables is `src/forward/checkpoint_variables.ts`.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { UserError } from "../errors.ts";
import { readBytesOrFail, readUpTo, writeFileAtomic } from "../io.ts";

const MAGIC_V1 = "NCLCKPT1";
const MAGIC = "NCLCKPT2";
/** Largest header accepted: far above any real one (a WideResNet's is a few tens of KB). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** Largest tensor accepted, in values (2^31 − 1: the most a tfjs tensor may hold). */
const MAX_TENSOR_VALUES = 2 ** 31 - 1;

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

/** What identifies a checkpoint's content without reading its payload: its size and payload checksum. */
export interface CheckpointIdentity {
  /** File size in bytes. */
  bytes: number;
  /** CRC-32 of the payload as the header records it (`null` for a format-1 file, which has none). */
  crc32: number | null;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  offset: number;
}

interface Header {
  meta: Record<string, unknown>;
  tensors: HeaderEntry[];
  payload_bytes?: number;
  payload_crc32?: number;
}

const encoder = new TextEncoder();

/** Serialises `tensors` and `meta` into checkpoint bytes (format 2). */
export function encodeCheckpoint(tensors: StoredTensor[], meta: Record<string, unknown>): Uint8Array {
  let offset = 0;
  const entries = tensors.map((t) => {
    const e = { name: t.name, shape: t.shape, offset };
    offset += t.values.length * 4;
    return e;
  });
  const payload = new Uint8Array(offset);
  tensors.forEach((t, i) => {
    payload.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), entries[i].offset);
  });
  let header = JSON.stringify({ meta, tensors: entries, payload_bytes: offset, payload_crc32: crc32(payload) });
  const prefix = MAGIC.length + 8;
  header += " ".repeat((4 - ((prefix + encoder.encode(header).length) % 4)) % 4);
  const headerBytes = encoder.encode(header);
  const out = new Uint8Array(prefix + headerBytes.length + offset);
  out.set(encoder.encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(MAGIC.length, headerBytes.length, true);
  view.setUint32(MAGIC.length + 4, crc32(headerBytes), true);
  out.set(headerBytes, prefix);
  out.set(payload, prefix + headerBytes.length);
  return out;
}

const invalid = (path: string, why: string) => new UserError(`${path}: not a valid checkpoint (${why})`);

/** The format version and the payload's start, from the file's first 16 (format 2) or 12 (format 1) bytes. */
function readPrefix(bytes: Uint8Array, path: string): { version: 1 | 2; headerStart: number; headerLength: number } {
  const magic = bytes.length >= 8 ? new TextDecoder().decode(bytes.subarray(0, 8)) : "";
  const version = magic === MAGIC ? 2 : magic === MAGIC_V1 ? 1 : 0;
  if (version === 0) throw invalid(path, "wrong magic bytes");
  const headerStart = version === 2 ? 16 : 12;
  if (bytes.length < headerStart) throw invalid(path, "truncated header");
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) throw invalid(path, `header length ${headerLength} is implausible`);
  return { version: version as 1 | 2, headerStart, headerLength };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses and validates the JSON header; `payloadLength` is the bytes that follow it in the file. */
function parseHeader(bytes: Uint8Array, path: string, version: 1 | 2, payloadLength: number): Header {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid(path, "unreadable header");
  }
  if (!isRecord(raw)) throw invalid(path, "header is not an object");
  if (!isRecord(raw.meta)) throw invalid(path, "header has no 'meta' object");
  if (!Array.isArray(raw.tensors)) throw invalid(path, "header has no 'tensors' list");
  const names = new Set<string>();
  for (const [i, e] of raw.tensors.entries()) {
    if (!isRecord(e) || typeof e.name !== "string" || e.name === "") throw invalid(path, `tensor ${i} has no name`);
    if (names.has(e.name)) throw invalid(path, `tensor '${e.name}' appears twice`);
    names.add(e.name);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw invalid(path, `tensor '${e.name}' has shape ${JSON.stringify(e.shape)}`);
    }
    const n = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (n > MAX_TENSOR_VALUES) throw invalid(path, `tensor '${e.name}' has ${n} values, more than any tensor may hold`);
    if (!Number.isSafeInteger(e.offset) || (e.offset as number) < 0 || (e.offset as number) % 4 !== 0) {
      throw invalid(path, `tensor '${e.name}' has offset ${JSON.stringify(e.offset)}`);
    }
    if ((e.offset as number) + 4 * n > payloadLength) {
      throw invalid(path, `tensor '${e.name}' runs past the end of the file`);
    }
  }
  if (version === 2) {
    if (raw.payload_bytes !== payloadLength) {
      throw invalid(path, `payload is ${payloadLength} bytes, the header says ${JSON.stringify(raw.payload_bytes)}`);
    }
    if (!Number.isSafeInteger(raw.payload_crc32)) throw invalid(path, "header has no payload checksum");
  }
  return raw as unknown as Header;
}

/** Parses checkpoint bytes, checking both checksums; `path` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  const { version, headerStart, headerLength } = readPrefix(bytes, path);
  const start = headerStart + headerLength;
  if (start > bytes.length) throw invalid(path, "truncated header");
  const headerBytes = bytes.subarray(headerStart, start);
  if (version === 2 && crc32(headerBytes) !== new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true)) {
    throw invalid(path, "header checksum mismatch: the file is corrupt");
  }
  const header = parseHeader(headerBytes, path, version, bytes.length - start);
  const payload = bytes.slice(start); // a copy, aligned to 4 bytes for Float32Array
  if (version === 2 && crc32(payload) !== header.payload_crc32) {
    throw invalid(path, "payload checksum mismatch: the file is corrupt");
  }
  const tensors = new Map<string, StoredTensor>();
  for (const e of header.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(e.name, { name: e.name, shape: e.shape, values: new Float32Array(payload.buffer, e.offset, n) });
  }
  return { meta: header.meta, tensors };
}

/** Writes checkpoint bytes to `path` atomically (temporary file, then rename). */
export async function writeCheckpoint(path: string, tensors: StoredTensor[], meta: Record<string, unknown>) {
  await writeFileAtomic(path, encodeCheckpoint(tensors, meta));
}

/** Reads and verifies a checkpoint file. */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  return decodeCheckpoint(await readBytesOrFail(path, `${path}: checkpoint not found`), path);
}

/**
 * Reads only a checkpoint's `meta` and identity (e.g. the epoch of
 * `last.ckpt`), without its tensors, which can be hundreds of megabytes. The
 * header's checksum and structure are verified; the payload's is not (that
 * needs the whole file: {@linkcode readCheckpoint}).
 *
 * @example
 * ```ts
 * const { meta } = await readCheckpointHeader("runs/a/last.ckpt");
 * ```
 */
export async function readCheckpointHeader(
  path: string,
): Promise<{ meta: Record<string, unknown>; identity: CheckpointIdentity }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: checkpoint not found`);
    throw new UserError(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    const stat = await file.stat();
    const size = stat.size;
    const prefix = await readUpTo(file, 16);
    const { version, headerStart, headerLength } = readPrefix(prefix, path);
    if (headerStart + headerLength > size) throw invalid(path, "truncated header");
    await file.seek(headerStart, Deno.SeekMode.Start);
    const headerBytes = await readUpTo(file, headerLength);
    if (version === 2 && crc32(headerBytes) !== new DataView(prefix.buffer).getUint32(12, true)) {
      throw invalid(path, "header checksum mismatch: the file is corrupt");
    }
    const header = parseHeader(headerBytes, path, version, size - headerStart - headerLength);
    const identity: CheckpointIdentity = { bytes: size, crc32: version === 2 ? header.payload_crc32! : null };
    return { meta: header.meta, identity };
  } finally {
    file.close();
  }
}

/**
 * Whether the payload of the format-2 checkpoint at `path` still has the
 * CRC-32 its header records, read in chunks of 8 MiB (the file may be far
 * larger than memory allows twice). A format-1 file, which records none, is
 * never intact. The header is checked as {@linkcode readCheckpointHeader}
 * checks it.
 *
 * @example
 * ```ts
 * if (!(await checkpointPayloadIntact("runs/a/epoch-0003.ckpt"))) console.log("changed since it was written");
 * ```
 */
export async function checkpointPayloadIntact(path: string): Promise<boolean> {
  const { identity } = await readCheckpointHeader(path);
  if (identity.crc32 === null) return false;
  const file = await Deno.open(path);
  try {
    const { headerStart, headerLength } = readPrefix(await readUpTo(file, 16), path);
    await file.seek(headerStart + headerLength, Deno.SeekMode.Start);
    const chunk = new Uint8Array(8 << 20);
    let crc = 0;
    for (let n = await file.read(chunk); n !== null; n = await file.read(chunk)) crc = crc32(chunk.subarray(0, n), crc);
    return crc === identity.crc32;
  } finally {
    file.close();
  }
}

/**
 * The `epoch` a checkpoint's meta records, checked to be an integer in
 * `[min, max]` (a run's checkpoints lie between epoch 0 and its length).
 */
export function checkpointEpoch(meta: Record<string, unknown>, path: string, min: number, max: number): number {
  const epoch = meta.epoch;
  if (!Number.isSafeInteger(epoch) || (epoch as number) < min || (epoch as number) > max) {
    throw invalid(path, `epoch ${JSON.stringify(epoch)} is not an integer in [${min}, ${max}]`);
  }
  return epoch as number;
}

/** The part of `last.ckpt`'s meta that an epoch interrupted mid-way adds. */
export interface PartialEpoch {
  /** Batches of the interrupted epoch already trained. */
  batches: number;
  /** The data generator's state when that epoch started (its order and augmentations are replayed). */
  rng: number[];
  /** Running sums of loss, top-1 and top-5 hits, and samples seen. */
  sums: number[];
  seen: number;
}

/** What `last.ckpt`'s meta says about where training stands, checked by {@linkcode resumeState}. */
export interface ResumeState {
  /** Epochs completed. */
  epoch: number;
  /** Optimiser steps taken (Adam's bias correction depends on it). */
  step: number;
  /** The data generator's state after `epoch` (or at the interruption). */
  rng: number[];
  /** Best validation top-1 so far; -Infinity before any (JSON writes it as null). */
  bestValTop1: number;
  /** The epoch interrupted mid-way, if any. */
  partial: PartialEpoch | null;
}

/** What a run's shape allows `last.ckpt`'s meta to say. */
export interface ResumeLimits {
  /** The run's epochs (`config.json`). */
  epochs: number;
  /** Training batches per epoch. */
  batchesPerEpoch: number;
  /** Training samples per epoch. */
  samplesPerEpoch: number;
}

/** A generator state as {@linkcode Rng.state} writes it: 4 uint32 words, not all 0, then the spare normal or null. */
function isRngState(v: unknown): v is number[] {
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 5)) return false;
  const words = v.slice(0, 4);
  if (!words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) || words.every((w) => w === 0)) return false;
  return v.length === 4 || v[4] === null || Number.isFinite(v[4]);
}

/**
 * The training state of `last.ckpt`'s meta, every field type- and
 * range-checked against the run (`limits`), so that a hand-edited or crafted
 * checkpoint cannot change what training does: `epoch` an integer in
 * `[0, epochs]`, `step` the number of batches trained so far, `rng` a
 * generator state, `best_val_top1` a percentage or null, `partial` (an epoch
 * interrupted mid-way, before the last) with `batches` in
 * `[1, batchesPerEpoch]`, `rng`, three finite sums and `seen` in
 * `[0, samplesPerEpoch]`. Throws {@linkcode UserError} naming the file and
 * the field.
 *
 * @example
 * ```ts
 * const { meta } = await readCheckpoint("runs/a/last.ckpt");
 * const state = resumeState(meta, "runs/a/last.ckpt", { epochs: 30, batchesPerEpoch: 20, samplesPerEpoch: 2000 });
 * ```
 */
export function resumeState(meta: Record<string, unknown>, path: string, limits: ResumeLimits): ResumeState {
  const field = (name: string, rule: string): never => {
    throw invalid(path, `meta '${name}' must be ${rule}, got ${JSON.stringify(meta[name]) ?? "nothing"}`);
  };
  const epoch = checkpointEpoch(meta, path, 0, limits.epochs);
  if (!isRngState(meta.rng)) field("rng", "a generator state (4 integers in [0, 2^32), not all 0, and one number)");
  const best = meta.best_val_top1;
  if (!(best === null || (typeof best === "number" && best >= 0 && best <= 100))) {
    field("best_val_top1", "a percentage in [0, 100] or null");
  }
  let partial: PartialEpoch | null = null;
  if (meta.partial !== undefined && meta.partial !== null) {
    partial = partialEpoch(meta.partial, path, epoch, limits);
  }
  const steps = epoch * limits.batchesPerEpoch + (partial?.batches ?? 0);
  if (meta.step !== steps) {
    field("step", `${steps} (the batches trained by epoch ${epoch}${partial ? " and its partial epoch" : ""})`);
  }
  return {
    epoch,
    step: steps,
    rng: meta.rng as number[],
    bestValTop1: best === null ? -Infinity : best as number,
    partial,
  };
}

/** `meta.partial` of `last.ckpt`, checked (see {@linkcode resumeState}). */
function partialEpoch(raw: unknown, path: string, epoch: number, limits: ResumeLimits): PartialEpoch {
  const bad = (name: string, rule: string, value: unknown): never => {
    throw invalid(path, `meta '${name}' must be ${rule}, got ${JSON.stringify(value) ?? "nothing"}`);
  };
  if (!isRecord(raw)) return bad("partial", "an object", raw);
  if (epoch >= limits.epochs) return bad("partial", `absent after the run's last epoch (${limits.epochs})`, raw);
  const { batches, rng, sums, seen } = raw;
  if (!Number.isSafeInteger(batches) || (batches as number) < 1 || (batches as number) > limits.batchesPerEpoch) {
    bad("partial.batches", `an integer in [1, ${limits.batchesPerEpoch}]`, batches);
  }
  if (!isRngState(rng)) {
    bad("partial.rng", "a generator state (4 integers in [0, 2^32), not all 0, and one number)", rng);
  }
  if (!Array.isArray(sums) || sums.length !== 3 || !sums.every((s) => Number.isFinite(s))) {
    bad("partial.sums", "3 finite numbers", sums);
  }
  if (!Number.isSafeInteger(seen) || (seen as number) < 0 || (seen as number) > limits.samplesPerEpoch) {
    bad("partial.seen", `an integer in [0, ${limits.samplesPerEpoch}]`, seen);
  }
  return { batches: batches as number, rng: rng as number[], sums: sums as number[], seen: seen as number };
}
