/**
 * Running the package's tasks (`tasks/train.ts`, `tasks/evaluate.ts`) as
 * subprocesses: one Deno process per stage of a run, so that runs are
 * independent (a crash or divergence ends one run, not the sweep), several
 * can run in parallel, and each one's output goes to its own log file.
 *
 * The permission flags are those of the task's line in `deno.json`, read at
 * run time, so the sweep grants a subprocess exactly what `deno task <name>` does.
 * A relative path in the arguments means what it means to this process: the
 * child starts in this process's folder with `INIT_CWD` set to it.
 *
 * Children never outlive the sweep: each one is known to
 * {@linkcode signalChildren} (a local sweep stopped by SIGINT/SIGTERM, and a
 * Slurm array task warned of its time limit, send them SIGTERM) and starts
 * with `NCL_DIE_WITH_PARENT=1`, which makes the train and evaluate tasks exit
 * when their parent dies, even by SIGKILL.
 *
 * @module
 */
import { repositoryPath } from "../cli.ts";

/** The tasks a sweep runs per run. */
export type SweepTask = "train" | "evaluate";

/** How a subprocess ended. */
export interface TaskResult {
  /** Exit status (0: success; 2: user error; 3: training diverged; 4: interrupted, `last.ckpt` written). */
  code: number;
  /** The subprocess's `error: ...` line without the prefix, or its last stderr line; empty on success. */
  errorLine: string;
  /** The signal that killed it, if one did (then `errorLine` says so). */
  signal?: Deno.Signal | null;
}

/** The environment variable that tells a task to exit when its parent process dies. */
export const DIE_WITH_PARENT_ENV = "NCL_DIE_WITH_PARENT";

const liveChildren = new Set<Deno.ChildProcess>();

/**
 * Sends `signal` to every subprocess this process's runners have started and
 * that is still running; returns how many it signalled.
 */
export function signalChildren(signal: Deno.Signal): number {
  let n = 0;
  for (const child of liveChildren) {
    try {
      child.kill(signal);
      n++;
    } catch {
      // It exited between the check and the signal.
    }
  }
  return n;
}

/**
 * How a child killed by `signal` is recorded: `killed by SIGTERM`; SIGKILL
 * adds `(out of memory?)`, since the kernel's OOM killer is its usual sender.
 */
export function signalReason(signal: Deno.Signal): string {
  return signal === "SIGKILL" ? "killed by SIGKILL (out of memory?)" : `killed by ${signal}`;
}

/**
 * Runs `task` with `args`, appending its output (stdout and stderr) to
 * `logPath`. The sweep's tests substitute a fake to check scheduling without
 * training.
 */
export type TaskRunner = (task: SweepTask, args: string[], logPath: string) => Promise<TaskResult>;

const REPO_ROOT = new URL("../../", import.meta.url);

function urlPath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** The `--allow-*` flags of `deno task <name>` as `deno.json` declares them. */
export async function taskPermissions(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO_ROOT))) as {
    tasks?: Record<string, string>;
  };
  const line = config.tasks?.[task];
  if (!line) throw new Error(`deno.json has no '${task}' task`);
  return line.split(/\s+/).filter((t) => t.startsWith("--allow-"));
}

/** The command that runs `tasks/<task>.ts` with `args` as `deno task <task>` would, from any folder. */
export async function taskCommand(task: string, args: string[]): Promise<string[]> {
  return [
    Deno.execPath(),
    "run",
    `--config=${repositoryPath("deno.json")}`,
    ...await taskPermissions(task),
    repositoryPath("tasks", `${task}.ts`),
    ...args,
  ];
}

/** The last `error: ...` line of `stderr` (prefix removed), else its last non-empty line. */
export function errorLineOf(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split(/[\r\n]+/).map((l) => l.trim()).filter((l) =>
    l !== ""
  );
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].startsWith("error: ")) return lines[i].slice("error: ".length);
  }
  return lines.at(-1) ?? "";
}

/**
 * The real runner: `deno run --config <repo>/deno.json <permissions> tasks/<task>.ts <args>`,
 * output appended to `logPath`, with `options.env` added to the environment.
 *
 * @example
 * ```ts
 * const run = subprocessRunner();
 * const { code } = await run("evaluate", ["--save-path", "runs/mlp-1-ce-20-1"], "runs/logs/mlp-1-ce-20-1.log");
 * ```
 */
export function subprocessRunner(options: { env?: Record<string, string> } = {}): TaskRunner {
  const permissions = new Map<SweepTask, string[]>();
  return async (task, args, logPath) => {
    if (!permissions.has(task)) permissions.set(task, await taskPermissions(task));
    const script = urlPath(new URL(`tasks/${task}.ts`, REPO_ROOT));
    const fullArgs = ["run", `--config=${urlPath(new URL("deno.json", REPO_ROOT))}`, ...permissions.get(task)!, script];
    fullArgs.push(...args);
    const log = await Deno.open(logPath, { create: true, append: true });
    const encoder = new TextEncoder();
    try {
      await log.write(encoder.encode(`\n$ deno ${[...fullArgs.slice(0, 1), script, ...args].join(" ")}\n`));
      const child = new Deno.Command(Deno.execPath(), {
        args: fullArgs,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // The tasks read relative paths against INIT_CWD when it is set (`deno task` sets it to the
        // user's folder); this process read them against its own folder, so the child must too.
        env: { ...options.env, NO_COLOR: "1", INIT_CWD: Deno.cwd(), [DIE_WITH_PARENT_ENV]: "1" },
      }).spawn();
      liveChildren.add(child);
      let stderrTail = "";
      const decoder = new TextDecoder();
      // Both streams go to the one log, chunk by chunk, as they arrive; stderr's tail is kept for the reason line.
      const copy = async (stream: ReadableStream<Uint8Array>, keepTail: boolean): Promise<void> => {
        for await (const chunk of stream) {
          await log.write(chunk);
          if (keepTail) stderrTail = (stderrTail + decoder.decode(chunk, { stream: true })).slice(-8192);
        }
      };
      const [status] = await Promise.all([child.status, copy(child.stdout, false), copy(child.stderr, true)])
        .finally(() => liveChildren.delete(child));
      const code = status.code;
      if (status.signal) {
        const reason = signalReason(status.signal);
        await log.write(encoder.encode(`${reason}\n`));
        return { code, errorLine: reason, signal: status.signal };
      }
      return { code, errorLine: code === 0 ? "" : errorLineOf(stderrTail) || `exit status ${code}` };
    } finally {
      log.close();
    }
  };
}

/**
 * TensorFlow's thread counts for each of `jobs` runs of `model` trained side
 * by side on `cores` cores: the cores shared out, one op at a time. Two runs
 * of two intra-op and two inter-op threads each on two cores spent much of
 * their time contending. Only for the MLP, whose numbers do not depend on the
 * thread counts (tested); a convolution's gradients round differently with
 * another count, and a sweep's run must equal the same run trained alone.
 * Empty when a single job runs, or when the user set either variable.
 *
 * @example
 * ```ts
 * sweepThreadEnv("mlp", 2, 2, {}); // { TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" }
 * sweepThreadEnv("resnet18", 2, 2, {}); // {}
 * ```
 */
export function sweepThreadEnv(
  model: string,
  jobs: number,
  cores: number,
  env: Record<string, string>,
): Record<string, string> {
  if (model !== "mlp" || jobs < 2) return {};
  if (env.TF_NUM_INTRAOP_THREADS !== undefined || env.TF_NUM_INTEROP_THREADS !== undefined) return {};
  return { TF_NUM_INTRAOP_THREADS: String(Math.max(1, Math.floor(cores / jobs))), TF_NUM_INTEROP_THREADS: "1" };
}
