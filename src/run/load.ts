/**
 * Finding and reading run folders: a folder is a run when it holds an
 * `info.json`; its `config.json` (the flat training configuration) is read
 * alongside when present.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { exists, joinPath } from "../io.ts";
import { readRunConfig, type RunConfig } from "./config.ts";
import { RUN_FILES } from "./files.ts";
import { readRunInfo, type RunInfo } from "./info.ts";

/** One evaluated run folder: where it lives, its `info.json`, and its `config.json` when present. */
export interface RunRecord {
  /** The run folder. */
  dir: string;
  info: RunInfo;
  /** The run's configuration, when the folder has a `config.json`. */
  config?: RunConfig;
}

/** Where to look for runs. */
export interface RunSources {
  /** Folders scanned recursively for `info.json`. */
  roots?: string[];
  /** Run folders given one by one (each must hold an `info.json`). */
  dirs?: string[];
  /**
   * Called for a run found under `roots` that cannot be read (broken
   * `info.json` or `config.json`), which is then left out; without it such a
   * run is an error. Folders in `dirs` are always an error when unreadable.
   */
  onSkip?(dir: string, reason: string): void;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Every folder under `root` (itself included) that holds an `info.json`, sorted.
 * Throws {@linkcode UserError} when `root` does not exist or is not a folder.
 * Symbolic links below `root` are not followed (a link back up the tree would
 * loop forever); `onLink` hears of each one that leads to a folder.
 */
export async function findRunDirs(root: string, onLink?: (path: string) => void): Promise<string[]> {
  const info = await statOrNull(root);
  if (!info) throw new UserError(`--runs ${root}: no such folder`);
  if (!info.isDirectory) throw new UserError(`--runs ${root}: not a folder`);
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const children: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name === RUN_FILES.info) found.push(dir);
      else if (entry.isDirectory && !entry.name.startsWith(".")) children.push(joinPath(dir, entry.name));
      else if (
        entry.isSymlink && onLink && (await statOrNull(joinPath(dir, entry.name)).catch(() => null))?.isDirectory
      ) {
        onLink(joinPath(dir, entry.name));
      }
    }
    for (const child of children) await walk(child);
  };
  await walk(root);
  return found.sort();
}

/** Reads one run folder's `info.json` (required) and `config.json` (optional), both validated. */
export async function loadRun(dir: string): Promise<RunRecord> {
  const record: RunRecord = { dir, info: await readRunInfo(dir) };
  if (await exists(joinPath(dir, RUN_FILES.config))) record.config = await readRunConfig(dir);
  return record;
}

/**
 * Loads the runs found under `roots` and the folders in `dirs`, each folder once.
 *
 * @example
 * ```ts
 * const runs = await loadRuns({ roots: ["runs/"] });
 * ```
 */
export async function loadRuns(sources: RunSources): Promise<RunRecord[]> {
  const found = new Set<string>();
  const onLink = sources.onSkip &&
    ((path: string) =>
      sources.onSkip!(path, "a symbolic link to a folder, not followed when scanning (give it with --run)"));
  for (const root of sources.roots ?? []) for (const d of await findRunDirs(root, onLink)) found.add(d);
  const given = new Set((sources.dirs ?? []).map((d) => d.replace(/\/+$/, "") || d));
  const runs: RunRecord[] = [];
  for (const d of new Set([...found, ...given])) {
    try {
      runs.push(await loadRun(d));
    } catch (e) {
      if (!(e instanceof UserError) || !sources.onSkip || given.has(d)) throw e;
      sources.onSkip(d, e.message);
    }
  }
  return runs;
}
