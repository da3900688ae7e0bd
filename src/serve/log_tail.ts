/**
 * Reading a run's `log.jsonl` as it grows, from where the previous read
 * stopped. Training rewrites the whole file each epoch (written beside it,
 * then renamed into place), always as the old lines plus new ones, so the new
 * file's first `offset` bytes are the lines already read: a read opens the
 * file, checks that the last line it consumed still ends at `offset`, and
 * reads only the bytes after it. When the file shrank or changed before
 * `offset` (a resumed run drops the records after its checkpoint), it reads
 * the file again from the start.
 *
 * Only complete lines count: a last line without its newline (a writer that
 * appends in place, caught mid-write) is left for the next read.
 *
 * @module
 */
import type { EpochRecord } from "../run/epoch_log.ts";

/** How much of a file a read took, and what it found. */
export interface LogRead {
  /** Records parsed from the new complete lines. */
  added: EpochRecord[];
  /** true when the file was read from the start again (earlier records are void). */
  restarted: boolean;
  /** Bytes read by this call. */
  bytesRead: number;
}

const NEWLINE = 0x0a;

/** Parses one line of `log.jsonl`; `null` for a line that is not a JSON object with a positive integer `epoch`. */
export function parseLogLine(line: string): EpochRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const epoch = (value as { epoch?: unknown }).epoch;
  return Number.isSafeInteger(epoch) && (epoch as number) >= 1 ? value as EpochRecord : null;
}

async function readRange(file: Deno.FsFile, start: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(start, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return out.subarray(0, got);
}

/**
 * The records of one `log.jsonl`, kept up to date by {@linkcode LogTail.read}.
 *
 * @example
 * ```ts
 * const tail = new LogTail("runs/a/log.jsonl");
 * await tail.read(); // every record so far
 * const { added } = await tail.read(); // only the epochs logged since
 * tail.records.at(-1)?.epoch;
 * ```
 */
export class LogTail {
  /** Every record read so far, in file order. */
  records: EpochRecord[] = [];
  /** Bytes of the file consumed: the end of the last complete line. */
  offset = 0;
  /** The last complete line's bytes (with its newline), to recognise the same prefix in a replaced file. */
  #lastLine: Uint8Array = new Uint8Array(0);

  /** `path`: the log file; a missing file reads as empty. */
  constructor(readonly path: string) {}

  /** Reads what was added since the last call (or everything, when the file changed before the offset). */
  async read(): Promise<LogRead> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const restarted = this.offset > 0;
      this.#reset();
      return { added: [], restarted, bytesRead: 0 };
    }
    try {
      const size = (await file.stat()).size;
      let restarted = false;
      if (size < this.offset || !(await this.#samePrefix(file))) {
        restarted = this.offset > 0;
        this.#reset();
      }
      if (size === this.offset) return { added: [], restarted, bytesRead: 0 };
      const bytes = await readRange(file, this.offset, size - this.offset);
      const end = bytes.lastIndexOf(NEWLINE) + 1;
      if (end === 0) return { added: [], restarted, bytesRead: bytes.length };
      const text = new TextDecoder().decode(bytes.subarray(0, end));
      const added: EpochRecord[] = [];
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        const record = parseLogLine(line);
        if (record) added.push(record);
      }
      const lineStart = bytes.lastIndexOf(NEWLINE, end - 2) + 1;
      this.#lastLine = bytes.slice(lineStart, end);
      this.offset += end;
      for (const r of added) this.records.push(r);
      return { added, restarted, bytesRead: bytes.length };
    } finally {
      file.close();
    }
  }

  /** Whether the file still holds the last consumed line just before `offset`. */
  async #samePrefix(file: Deno.FsFile): Promise<boolean> {
    if (this.offset === 0) return true;
    const n = this.#lastLine.length;
    const bytes = await readRange(file, this.offset - n, n);
    return bytes.length === n && bytes.every((b, i) => b === this.#lastLine[i]);
  }

  #reset(): void {
    this.records = [];
    this.offset = 0;
    this.#lastLine = new Uint8Array(0);
  }
}

/**
 * The last complete records of a log without reading all of it: at most the
 * final `maxBytes` bytes (default 16 KiB, a hundred epochs or so), so that
 * listing a thousand runs costs the same whatever their length.
 *
 * @example
 * ```ts
 * const recent = await readLogEnd("runs/a/log.jsonl"); // [] when there is no log yet
 * recent.at(-1)?.epoch;
 * ```
 */
export async function readLogEnd(path: string, maxBytes = 16384): Promise<EpochRecord[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  try {
    const size = (await file.stat()).size;
    const start = Math.max(0, size - maxBytes);
    const bytes = await readRange(file, start, size - start);
    // Drop a partial first line (when the window starts mid-line) and a partial last one.
    const first = start === 0 ? 0 : bytes.indexOf(NEWLINE) + 1;
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    if (end <= first) return [];
    const text = new TextDecoder().decode(bytes.subarray(first, end));
    return text.split("\n").map((l) => l.trim() === "" ? null : parseLogLine(l)).filter((r) => r !== null);
  } finally {
    file.close();
  }
}
