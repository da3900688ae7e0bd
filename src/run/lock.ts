/**
 * One writer at a time: advisory locks on a lock file inside the folder they
 * guard (a run folder's `.lock`, a sweep folder's `.sweep.lock`).
 *
 * The lock is the kernel's `flock` on the open file (Deno's
 * `FsFile.tryLock`), not the file's existence, so a holder that dies in any
 * way (kill -9, the OOM killer, a node that reboots) releases it with its
 * last open descriptor: nothing is ever left stuck and nothing has to guess
 * whether a process id is still alive. The file itself stays in place (deleting a
 * locked file would let a second process lock a new file of the same name);
 * the holder writes its process id, host, purpose and start time into it, which
 * is only read to tell the second writer who holds the lock. On NFS, Linux
 * clients map `flock` onto the server's byte-range locks (NFSv4), so the
 * same lock also holds between the nodes of a cluster.
 *
 * @example
 * ```ts
 * const lock = await acquireLock("runs/a/.lock", "train");
 * try {
 *   // ... write the run folder ...
 * } finally {
 *   lock.release();
 * }
 * ```
 *
 * @module
 */
import { hostname } from "node:os";
import { UserError } from "../errors.ts";

/** Who holds a lock, as its holder wrote it into the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** What the holder is doing, e.g. `train`, `evaluate`, `sweep`. */
  purpose: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** A held lock; {@linkcode Lock.release} gives it up (so does the process's exit). */
export interface Lock {
  readonly path: string;
  release(): void;
}

/** Thrown when another process holds the lock; its message is one line naming the holder. */
export class LockedError extends UserError {
  constructor(message: string, readonly holder: LockHolder | null) {
    super(message);
    this.name = "LockedError";
  }
}

async function openLockFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true, write: true, create: true });
  } catch (e) {
    throw new UserError(`${path}: cannot open the lock file (${(e as Error).message})`);
  }
}

/** The holder recorded in a lock file, or `null` when it is empty or unreadable. */
export async function readLockHolder(path: string): Promise<LockHolder | null> {
  try {
    const h = JSON.parse(await Deno.readTextFile(path)) as Partial<LockHolder>;
    if (typeof h?.pid !== "number" || typeof h.host !== "string") return null;
    return { pid: h.pid, host: h.host, purpose: String(h.purpose ?? "?"), since: String(h.since ?? "?") };
  } catch {
    return null;
  }
}

function describe(holder: LockHolder | null): string {
  if (!holder) return "another process";
  return `'${holder.purpose}' (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
}

/**
 * Takes the exclusive lock on `path` (creating the file), or throws
 * {@linkcode LockedError} at once when another process holds it: one line
 * naming `what` is locked and by whom.
 *
 * @param path The lock file, e.g. `runs/a/.lock`.
 * @param purpose What this process is doing, recorded for the next one's error message.
 * @param what How the error names the guarded thing (default: the lock file's folder).
 */
export async function acquireLock(path: string, purpose: string, what?: string): Promise<Lock> {
  const file = await openLockFile(path);
  let got: boolean;
  try {
    got = await file.tryLock(true);
  } catch (e) {
    file.close();
    throw new UserError(`${path}: cannot lock (${(e as Error).message}); does this file system support flock?`);
  }
  if (!got) {
    file.close();
    // The holder writes its record right after locking; give it a moment before saying "another process".
    let holder = await readLockHolder(path);
    for (let i = 0; i < 10 && holder === null; i++) {
      await new Promise((r) => setTimeout(r, 20));
      holder = await readLockHolder(path);
    }
    const folder = what ?? path.replace(/\/[^/]*$/, "");
    throw new LockedError(`${folder}: in use by ${describe(holder)}; wait for it to finish or stop it`, holder);
  }
  const holder: LockHolder = { pid: Deno.pid, host: hostname(), purpose, since: new Date().toISOString() };
  const bytes = new TextEncoder().encode(JSON.stringify(holder) + "\n");
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
  await file.write(bytes);
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      file.close(); // closing the last descriptor releases the flock
    },
  };
}

/**
 * Whether a live process holds the lock on `path` (a missing file: no), found
 * by trying the lock without taking it over: the file is opened read-only and
 * nothing is written, so the holder record stays as it is. A holder that died
 * in any way (kill -9 included) holds nothing.
 *
 * @example
 * ```ts
 * if (!(await isLockHeld("runs/small/.sweep.lock"))) console.log("no sweep is running there");
 * ```
 */
export async function isLockHeld(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new UserError(`${path}: cannot open the lock file (${(e as Error).message})`);
  }
  try {
    const got = await file.tryLock(true);
    if (got) await file.unlock();
    return !got;
  } finally {
    file.close();
  }
}

/**
 * Runs `fn` holding the exclusive lock on `path`, waiting for it when another
 * process holds it: for short read-modify-write sections (a shared manifest
 * updated by many processes), never for long work.
 *
 * @example
 * ```ts
 * await withLock("runs/sweep/.manifest.lock", async () => {
 *   const m = await readManifest("runs/sweep");
 *   // ... change m ...
 *   await writeManifest("runs/sweep", m!);
 * });
 * ```
 */
export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const file = await openLockFile(path);
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}
