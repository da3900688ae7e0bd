/**
 * A minimal reader of POSIX ustar / GNU tar archives, enough to unpack the
 * CIFAR archives: regular files and directories, GNU long names (`L`) and pax
 * `path` records (`x`). Anything that would write outside the target folder
 * (absolute paths, `..`) is refused.
 */
import { UserError } from "../errors.ts";

/** One regular file or directory of an archive. */
export interface TarEntry {
  /** Relative path with `/` separators, no trailing slash. */
  path: string;
  type: "file" | "directory";
  /** File contents (a view into the archive); empty for directories. */
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function octal(header: Uint8Array, start: number, length: number, what: string): number {
  const text = field(header, start, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new UserError(`${what}: corrupt tar header (bad number '${text}')`);
  return parseInt(text, 8);
}

function checksumOk(header: Uint8Array, what: string): boolean {
  const stored = octal(header, 148, 8, what);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum === stored;
}

function safePath(raw: string, what: string): string {
  const path = raw.replace(/^\.\//, "").replace(/\/+$/, "");
  if (path.startsWith("/") || path.split("/").some((p) => p === "..")) {
    throw new UserError(`${what}: refusing unsafe path '${raw}' in the archive`);
  }
  return path;
}

/**
 * Lists the files and directories of an uncompressed tar archive.
 *
 * @example
 * ```ts
 * for (const e of readTar(bytes, "cifar-10-binary.tar")) console.log(e.path, e.data.length);
 * ```
 */
export function readTar(bytes: Uint8Array, what: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | null = null;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return entries; // end-of-archive marker
    if (!checksumOk(header, what)) throw new UserError(`${what}: corrupt tar header at byte ${offset}`);
    const size = octal(header, 124, 12, what);
    const type = String.fromCharCode(header[156] || 48); // NUL means a regular file, like '0'
    const dataStart = offset + BLOCK;
    if (dataStart + size > bytes.length) {
      throw new UserError(`${what}: truncated tar archive (entry at byte ${offset})`);
    }
    const data = bytes.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === "x") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(decoder.decode(data));
      if (m) longName = m[1];
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = null;
    if (type === "0" || type === "7") entries.push({ path: safePath(name, what), type: "file", data });
    else if (type === "5") entries.push({ path: safePath(name, what), type: "directory", data: new Uint8Array(0) });
    // Links, devices and global pax headers are not part of the CIFAR archives: skipped.
  }
  throw new UserError(`${what}: truncated tar archive (no end-of-archive marker)`);
}
