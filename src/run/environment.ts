/**
 * Where a run was made, as far as it decides whether the run's numbers come
 * out the same elsewhere: the CPU model and the thread counts (float32 sums
 * are ordered by the kernels TensorFlow picks for a CPU and by how it splits
 * them over threads), the package version and, in a git checkout, the commit.
 * `deno task train` writes it into `config.json`'s `environment` block beside
 * the TensorFlow and Deno versions, and the report shows it.
 *
 * @example
 * ```ts
 * import { machineEnvironment } from "./src/run/environment.ts";
 * const env = await machineEnvironment();
 * console.log(env.cpu_model, env.threads, env.package.version, env.git_commit);
 * ```
 *
 * @module
 */
import { cpus } from "node:os";
import { joinPath } from "../io.ts";

/** The package's name and version; `deno.json` says the same (a test checks). */
export const PACKAGE: { readonly name: string; readonly version: string } = {
  name: "@nc-losses/nc-losses",
  version: "0.1.0",
};

/** Thread counts of a process: a number when set, `"default"` when TensorFlow picks (one per logical CPU). */
export interface ThreadCounts {
  /** TensorFlow's intra-op threads (`TF_NUM_INTRAOP_THREADS`): how many threads one kernel uses. */
  tf_intra_op: number | "default";
  /** TensorFlow's inter-op threads (`TF_NUM_INTEROP_THREADS`): how many kernels run at once. */
  tf_inter_op: number | "default";
}

/** What {@linkcode machineEnvironment} records. */
export interface MachineEnvironment {
  /** The CPU's model name as the operating system reports it, or null where it cannot be read. */
  cpu_model: string | null;
  /** Logical CPUs the process sees. */
  logical_cpus: number;
  threads: ThreadCounts;
  package: { name: string; version: string };
  /** The commit checked out where the package's files are, or null outside a git checkout. */
  git_commit: string | null;
}

/** Options of {@linkcode machineEnvironment}, for tests. */
export interface MachineEnvironmentOptions {
  /** Environment variables (default: the process's). */
  env?: Record<string, string | undefined>;
  /** The CPU model (default: ask the operating system). */
  cpuModel?: string | null;
  /** The checkout to read the commit of (default: the package's own folder, when it is on disk). */
  checkout?: string | null;
}

/**
 * The CPU model, thread counts, package version and git commit of this
 * process. Never throws: what cannot be read is null.
 */
export async function machineEnvironment(options: MachineEnvironmentOptions = {}): Promise<MachineEnvironment> {
  const env = options.env ?? readEnv();

  const checkout = options.checkout !== undefined ? options.checkout : packageFolder();
  return {
    cpu_model: options.cpuModel !== undefined ? options.cpuModel : cpuModel(),
    logical_cpus: navigator.hardwareConcurrency,
    threads: threadCounts(env),
    package: { ...PACKAGE },
    git_commit: checkout === null ? null : await gitCommit(checkout),
  };
}

/**
 * The model name of the first CPU (`node:os`'s `cpus()`, which needs
 * `--allow-sys`; Deno lets only `--allow-all` read `/proc/cpuinfo` itself),
 * or null when it is not allowed or not reported.
 */
export function cpuModel(): string | null {
  try {
    const model = cpus()[0]?.model?.trim();
    return model ? model : null;
  } catch {
    return null;
  }
}

/** TensorFlow's thread counts as the environment sets them. */
export function threadCounts(env: Record<string, string | undefined>): ThreadCounts {
  const count = (v: string | undefined): number | "default" => {
    const n = Number(v);
    return v !== undefined && Number.isInteger(n) && n > 0 ? n : "default";
  };
  return { tf_intra_op: count(env.TF_NUM_INTRAOP_THREADS), tf_inter_op: count(env.TF_NUM_INTEROP_THREADS) };
}

/**
 * The commit checked out in `dir` (a repository or a worktree), read from
 * `.git` without running git: HEAD, then the branch it names in the loose
 * refs or `packed-refs`. Null when there is no checkout or it cannot be read.
 */
export async function gitCommit(dir: string): Promise<string | null> {
  let gitDir = joinPath(dir, ".git");
  const dotGit = await readText(gitDir);
  if (dotGit !== null) {
    // A worktree or submodule: `.git` is a file naming the real folder.
    const m = /^gitdir:\s*(.+)$/m.exec(dotGit);
    if (!m) return null;
    gitDir = m[1].trim().startsWith("/") ? m[1].trim() : joinPath(dir, m[1].trim());
  }
  const head = (await readText(joinPath(gitDir, "HEAD")))?.trim();
  if (!head) return null;
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  // A worktree keeps its HEAD; branches live in the common folder.
  const common = (await readText(joinPath(gitDir, "commondir")))?.trim();
  const refDirs = common ? [gitDir, common.startsWith("/") ? common : joinPath(gitDir, common)] : [gitDir];
  for (const d of refDirs) {
    const loose = (await readText(joinPath(d, ref)))?.trim();
    if (loose && /^[0-9a-f]{40}$/.test(loose)) return loose;
    const packed = await readText(joinPath(d, "packed-refs"));
    const line = packed?.split("\n").find((l) => l.endsWith(` ${ref}`));
    if (line && /^[0-9a-f]{40} /.test(line)) return line.slice(0, 40);
  }
  return null;
}

/** The package's root folder when it is loaded from disk, else null (e.g. from a registry). */
function packageFolder(): string | null {
  const url = new URL("../..", import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : null;
}

/** A text file's contents, or null when it is missing, unreadable or not allowed. */
async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

function readEnv(): Record<string, string | undefined> {
  const get = (k: string): string | undefined => {
    try {
      return Deno.env.get(k);
    } catch {
      return undefined;
    }
  };
  return {
    TF_NUM_INTRAOP_THREADS: get("TF_NUM_INTRAOP_THREADS"),
    TF_NUM_INTEROP_THREADS: get("TF_NUM_INTEROP_THREADS"),
  };
}
