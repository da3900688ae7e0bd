/**
 * File helpers shared by every part of the package. Results and checkpoints
 * are written atomically: to a temporary file beside the target, then renamed,
 * so a crash never leaves a half-written file under the final name.
 */
import { resolve } from "node:path";
import { UserError } from "./errors.ts";

/**
 * Writes `data` to `path` atomically (temporary file, then rename).
 *
 * @example
 * ```ts
 * await writeFileAtomic("runs/a/log.bin", new Uint8Array([1, 2]));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}${TEMPORARY_MARK}${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    // The temporary name means nothing to the user: the error names the file they asked for.
    const why = (e as Error).message.replaceAll(tmp, path);
    throw new UserError(`${path}: cannot write (${why})`);
  }
}

/** What {@linkcode writeFileAtomic} inserts between a target's name and the writer's id. */
const TEMPORARY_MARK = ".tmp-";

/**
 * Removes the temporary files that writers killed mid-write (kill -9, out of
 * memory) left in `dir`. Call it only while holding the folder's lock, when
 * no other process can be writing there. Returns the names removed.
 */
export async function removeTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !/\.tmp-\d+-[0-9a-f]{8}$/.test(e.name)) continue;
    await Deno.remove(joinPath(dir, e.name)).catch(() => {});
    removed.push(e.name);
  }
  return removed;
}

/** Writes `value` as pretty-printed JSON to `path` atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Whether `path` exists (file or directory). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Joins path segments with single slashes. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
}

/**
 * A file name made from text that comes from outside (a run's dataset or
 * model name, a title): every run of characters other than ASCII letters,
 * digits, `.`, `_`, `+` and `-`, and every run of two or more dots, becomes
 * one `_`; leading dots and dashes are dropped (no hidden files, nothing read
 * as a flag); at most 200 characters. The result is never empty, `.` or `..`
 * and holds no path separator, NUL or control character, so it cannot leave
 * the folder it is joined to.
 *
 * @example
 * ```ts
 * safeFileName("cifar100-wide_resnet50-w0.5-e200-nc1"); // unchanged
 * safeFileName("../../../escaped-mlp"); // "_escaped-mlp"
 * ```
 */
export function safeFileName(text: string): string {
  const name = text.replace(/(?:[^A-Za-z0-9._+-]|\.{2,})+/g, "_").replace(/^[.-]+/, "").slice(0, 200);
  return name === "" ? "_" : name;
}

/**
 * `dir/name`, after checking that it resolves to a path inside `dir` (not
 * `dir` itself, not beside or above it); throws {@linkcode UserError} naming
 * both otherwise. `name` may hold folders (`figures/a.svg`).
 *
 * @example
 * ```ts
 * pathInside("/out", "figures/a.svg"); // "/out/figures/a.svg"
 * pathInside("/out", "../a.svg"); // throws: outside /out
 * ```
 */
export function pathInside(dir: string, name: string): string {
  const base = resolve(dir);
  const path = resolve(base, name);
  if (!path.startsWith(base.endsWith("/") ? base : `${base}/`)) {
    throw new UserError(`${JSON.stringify(name)} would be written at ${path}, outside the output folder ${base}`);
  }
  return joinPath(dir, name);
}

/**
 * The text of `path`; when it does not exist, {@linkcode UserError} with
 * `missing` as the message, and for any other failure one line naming the
 * file.
 *
 * @example
 * ```ts
 * const text = await readTextOrFail("runs/a/info.json", "runs/a/info.json: no such file (is runs/a a run folder?)");
 * ```
 */
export async function readTextOrFail(path: string, missing: string): Promise<string> {
  return await readOrFail(path, missing, Deno.readTextFile);
}

/**
 * The bytes of `path`, with the errors of {@linkcode readTextOrFail}.
 *
 * @example
 * ```ts
 * const bytes = await readBytesOrFail("W.npy", "W.npy: file not found");
 * ```
 */
export async function readBytesOrFail(path: string, missing: string): Promise<Uint8Array> {
  return await readOrFail(path, missing, Deno.readFile);
}

async function readOrFail<T>(path: string, missing: string, read: (path: string) => Promise<T>): Promise<T> {
  try {
    return await read(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(missing);
    throw new UserError(`${path}: cannot read (${(e as Error).message})`);
  }
}

/** Reads `n` bytes from the file's position, or fewer at its end. */
export async function readUpTo(file: Deno.FsFile, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await file.read(out.subarray(got));
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}
