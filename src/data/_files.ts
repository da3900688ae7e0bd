/**
 * Private file helpers for the loaders: read a file whole (a missing file is a
 * {@linkcode UserError}), undo gzip when the bytes say so, and checksum.
 */
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { UserError } from "../errors.ts";

/** Reads `path` whole; a missing or unreadable file is a one-line {@linkcode UserError}. */
export async function readFileOrUserError(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${what}: file not found: ${path}`);
    if (e instanceof Deno.errors.IsADirectory) throw new UserError(`${what}: ${path} is a directory, expected a file`);
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UserError(`${what}: cannot read ${path}: permission denied`);
    }
    throw e;
  }
}

/** Whether `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses `bytes` if they are gzip (by magic number, not by file name, so
 * a `.gz` that was already unpacked still loads); returns them unchanged otherwise.
 */
export function gunzipIfNeeded(bytes: Uint8Array, path: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new UserError(`${path}: corrupt or truncated gzip data (${(e as Error).message})`);
  }
}

/** Lower-case hex digest of `bytes` (`sha256` or `md5`). */
export function hexDigest(algorithm: "sha256" | "md5", bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest("hex");
}

/** The first of `candidates` that exists as a file, or `null`. */
export async function firstExisting(candidates: string[]): Promise<string | null> {
  for (const c of candidates) {
    try {
      if ((await Deno.stat(c)).isFile) return c;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return null;
}

/** `"<path> (<bytes> bytes)"` for each file, for `config.json`. */
export async function describeFiles(paths: string[]): Promise<string[]> {
  return await Promise.all(paths.map(async (p) => `${p} (${(await Deno.stat(p)).size} bytes)`));
}
