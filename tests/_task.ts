/**
 * Running a task as `deno task <name>` does: the task's own line of
 * `deno.json` (so its exact permissions), in the repository root, with
 * `INIT_CWD` set to the folder the user typed the command in. The command is
 * started directly rather than through `deno task`, so a test can signal the
 * task's own process.
 */
const ROOT = new URL("..", import.meta.url).pathname;

/** What a finished task printed and how it ended. */
export interface TaskOutput {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode taskCommand}. */
export interface TaskOptions {
  /** The user's folder (`INIT_CWD`); default: the repository root. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** The `deno run …` argument list of `deno task <name>`, read from `deno.json`. */
export async function taskArgs(name: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as { tasks: Record<string, string> };
  const line = config.tasks[name];
  if (!line) throw new Error(`deno.json has no task '${name}'`);
  const words = line.trim().split(/\s+/);
  if (words[0] !== "deno") throw new Error(`task '${name}' does not start with 'deno': ${line}`);
  return words.slice(1);
}

/** A `Deno.Command` that runs `deno task <name> <args>` with piped output. */
export async function taskCommand(name: string, args: string[], opts: TaskOptions = {}): Promise<Deno.Command> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return new Deno.Command(Deno.execPath(), {
    args: [...await taskArgs(name), ...args],
    cwd: ROOT,
    clearEnv: true,
    env: { ...env, NO_COLOR: "1", INIT_CWD: opts.cwd ?? ROOT, ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `deno task <name> <args>` to the end. */
export async function runTask(name: string, args: string[], opts: TaskOptions = {}): Promise<TaskOutput> {
  const out = await (await taskCommand(name, args, opts)).output();
  const dec = new TextDecoder();
  // Deno itself says this when another deno process holds node_modules' lock (tasks started
  // side by side); it is not the task's output, whose stderr the tests check line by line.
  const stderr = dec.decode(out.stderr).replace(/^Blocking waiting for file lock on node_modules directory\n/gm, "");
  return { code: out.code, signal: out.signal, stdout: dec.decode(out.stdout), stderr };
}
