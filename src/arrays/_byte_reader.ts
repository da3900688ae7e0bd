/**
 * Exact reads from the two kinds of byte sources an array can live in: a file
 * (random access) and a decompressing stream (sequential). Both throw a
 * UserError naming the array when the bytes run out early.
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** Reads exactly `into.length` bytes of `file` at `position`; a UserError naming `name` when the file ends first. */
export async function readFileAt(file: Deno.FsFile, position: number, into: Uint8Array, name: string): Promise<void> {
  await file.seek(position, Deno.SeekMode.Start);
  let done = 0;
  while (done < into.length) {
    const n = await file.read(into.subarray(done));
    if (n === null) throw new UserError(`${name}: truncated (the file ends ${into.length - done} bytes early)`);
    done += n;
  }
}

/** Sequential exact reads from a byte stream, never buffering more than one of its chunks beyond what was asked. */
export class StreamBytes {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array = new Uint8Array(0);
  #name: string;
  #failure: () => string | null;

  /** `failure` names why the stream ended early, when its producer knows (a bad archive, say). */
  constructor(stream: ReadableStream<Uint8Array>, name: string, failure: () => string | null = () => null) {
    this.#reader = stream.getReader();
    this.#name = name;
    this.#failure = failure;
  }

  /** The next `n` bytes, in a new array. */
  async readExact(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      if (this.#pending.length === 0) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await this.#reader.read();
        } catch (e) {
          throw new UserError(`${this.#name}: cannot decompress (${this.#failure() ?? (e as Error).message})`);
        }
        if (chunk.done) {
          const why = this.#failure();
          throw new UserError(
            `${this.#name}: ${why !== null ? `cannot decompress (${why})` : `truncated (${n - done} bytes missing)`}`,
          );
        }
        this.#pending = chunk.value;
      }
      const take = Math.min(n - done, this.#pending.length);
      out.set(this.#pending.subarray(0, take), done);
      this.#pending = this.#pending.subarray(take);
      done += take;
    }
    return out;
  }

  /** Stops the stream (its producer sees a cancellation). */
  async close(): Promise<void> {
    try {
      await this.#reader.cancel();
    } catch {
      // Already errored or closed.
    }
  }
}
