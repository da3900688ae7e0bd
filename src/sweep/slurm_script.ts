/**
 * The batch scripts of a sweep on Slurm, as plain text a user can read,
 * check and resubmit with `sbatch` by hand: one job array whose task `i`
 * trains then evaluates run `i` of the manifest (grid order), and one job
 * that draws the figures and the report after the array has ended.
 *
 * The array script asks Slurm for a warning signal before the time limit
 * (`--signal=B:USR1@<s>`, delivered to the batch shell only), passes it on to
 * the task, and when the task reports that it stopped early with `last.ckpt`
 * written (exit status 4) requeues itself, at most `maxRequeue` times; the
 * requeued task resumes from `last.ckpt`.
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** What `--executor slurm` asks of Slurm; `undefined` leaves a setting to the cluster's defaults. */
export interface SlurmOptions {
  partition?: string;
  /** Time limit per array task, in a format `sbatch --time` accepts (`2-00:00:00`, `90`, `4:00:00`). */
  time?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  /** Memory per node, as `sbatch --mem` takes it (`16G`). */
  mem?: string;
  account?: string;
  qos?: string;
  /** Further sbatch options, each one word as typed (`--constraint=a100`). */
  sbatchArgs: string[];
  /** Array tasks running at once (`--array=…%T`); undefined: no limit. */
  throttle?: number;
  /** Seconds before the time limit that Slurm sends SIGUSR1. */
  signalSeconds: number;
  /** How often a task interrupted by the time limit or preemption is requeued. */
  maxRequeue: number;
}

/** Defaults of the settings that have one. */
export const SLURM_DEFAULTS = { signalSeconds: 300, maxRequeue: 3 } as const;

/**
 * Checks a time limit against the formats `sbatch --time` accepts: `M`,
 * `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`/`INFINITE`; throws
 * {@linkcode UserError} otherwise. Returns the limit in seconds (Infinity for
 * none: `UNLIMITED`, or `0`, which Slurm reads as no limit).
 *
 * @example
 * ```ts
 * slurmTimeSeconds("2-00:00:00"); // 172800
 * slurmTimeSeconds("90"); // 5400
 * ```
 */
export function slurmTimeSeconds(time: string): number {
  if (/^(unlimited|infinite)$/i.test(time)) return Infinity;
  const bad = (): never => {
    throw new UserError(
      `--time: '${time}' is not a Slurm time limit; use minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S (e.g. 2-00:00:00)`,
    );
  };
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(time);
  if (!m) return bad();
  const [, d, a, b, c] = m;
  const n = (x: string | undefined): number => (x === undefined ? 0 : Number(x));
  const seconds = d !== undefined
    ? ((n(d) * 24 + n(a)) * 60 + n(b)) * 60 + n(c) // D-H[:M[:S]]
    : c !== undefined
    ? (n(a) * 60 + n(b)) * 60 + n(c) // H:M:S
    : b !== undefined
    ? n(a) * 60 + n(b) // M:S
    : n(a) * 60; // M
  return seconds || Infinity; // Slurm reads a limit of 0 as none
}

/**
 * Array task ids as an `--array` range list: `[0, 1, 2, 5, 7, 8]` → `0-2,5,7-8`,
 * with `%T` when `throttle` is given.
 */
export function arraySpec(ids: readonly number[], throttle?: number): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",") + (throttle ? `%${throttle}` : "");
}

/** Characters no line of a batch script can carry: a line break ends a comment or `#SBATCH` line early; bash drops NUL. */
const LINE_BREAKING = /[\n\r\0]/;

/**
 * `value` unchanged, or a {@linkcode UserError} naming `what` (a flag, a
 * path) when the value holds a character that no line of a batch script can
 * carry (a newline, a carriage return, NUL): written into a comment it would
 * start a line of its own, a command run on the node.
 */
export function scriptValue(value: string, what: string): string {
  const bad = LINE_BREAKING.exec(value);
  if (bad) {
    const name = bad[0] === "\n" ? "a newline" : bad[0] === "\r" ? "a carriage return" : "a NUL byte";
    throw new UserError(
      `${what} ${JSON.stringify(value)}: contains ${name}, which a Slurm batch script cannot hold; nothing submitted`,
    );
  }
  return value;
}

/**
 * A word for bash: left alone when it is plainly safe, else single-quoted
 * (which keeps spaces, quotes, `$`, backticks and globs literal). Throws
 * {@linkcode UserError} naming `what` for a word no script line can carry
 * ({@linkcode scriptValue}).
 */
export function shellQuote(word: string, what = "a value"): string {
  scriptValue(word, what);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * An option word for an `#SBATCH` line, as sbatch reads it (its
 * `_get_argument`: words split at white space, `'`/`"` quotes grouping,
 * backslash escaping the next character, an unquoted `#` ending the line, and
 * the words `packjob`/`hetjob` anywhere on the line taken as a job separator):
 * double-quoted, with `\` and `"` escaped, when it holds white space, quotes,
 * backslashes or `#`. Throws {@linkcode UserError} naming `what` for a word
 * sbatch would misread whatever the quoting (a line break, NUL, `packjob`,
 * `hetjob`).
 */
export function sbatchWord(word: string, what: string): string {
  scriptValue(word, what);
  if (/packjob|hetjob/i.test(word)) {
    throw new UserError(
      `${what} ${JSON.stringify(word)}: sbatch reads 'packjob' and 'hetjob' on an #SBATCH line as a job separator; ` +
        "nothing submitted",
    );
  }
  return /[\s'"\\#]/.test(word) ? `"${word.replace(/["\\]/g, "\\$&")}"` : word;
}

/** A comment line of a batch script: `# text`, refused when the text would end the comment early. */
function comment(text: string, what: string): string {
  return `# ${scriptValue(text, what)}`;
}

/** The `#SBATCH` lines of the resource settings shared by both scripts (`gpus` for the array only). */
function resourceLines(o: SlurmOptions, gpus: boolean): string[] {
  const lines: string[] = [];
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) lines.push(`#SBATCH ${sbatchWord(`--${flag}=${value}`, `--${flag}`)}`);
  };
  add("partition", o.partition);
  add("account", o.account);
  add("qos", o.qos);
  add("time", o.time);
  add("mem", o.mem);
  add("cpus-per-task", o.cpusPerTask);
  if (gpus) add("gpus-per-task", o.gpusPerTask);
  for (const a of o.sbatchArgs) lines.push(`#SBATCH ${sbatchWord(a, "--sbatch-arg")}`);
  return lines;
}

/** What the array script runs. */
export interface ArrayScriptSpec {
  /** Job name (`ncl-<sweep folder>`). */
  name: string;
  /** The sweep folder (absolute). */
  root: string;
  /** The repository (absolute): the task runs there. */
  repo: string;
  /** Array task id (grid position) → run name, for the script's comment and `--array`. */
  runs: ReadonlyMap<number, string>;
  /** The array task's command (argv): it finds its run from the manifest by `SLURM_ARRAY_TASK_ID`. */
  command: string[];
  /** Where Slurm writes the batch shell's own output (`%A_%a` patterns allowed). */
  output: string;
  /** Lines that say where the script came from. */
  header: string[];
  slurm: SlurmOptions;
}

/**
 * The job array's batch script.
 *
 * @example
 * ```ts
 * const text = arrayScript({ name: "ncl-small", root: "/scratch/runs/small", repo: "/home/me/nc-losses",
 *   runs: new Map([[0, "mlp-05-ce-30-1"]]), command: ["deno", "task", "sweep", "--array-task"],
 *   output: "/scratch/runs/small/logs/slurm/%A_%a.out", header: [], slurm: { sbatchArgs: [],
 *   signalSeconds: 300, maxRequeue: 3 } });
 * text.includes("#SBATCH --array=0"); // true
 * ```
 */
export function arrayScript(spec: ArrayScriptSpec): string {
  const o = spec.slurm;
  const ids = [...spec.runs.keys()];
  const width = Math.max(...ids.map((i) => String(i).length));
  return [
    "#!/bin/bash",
    ...spec.header.map((l) => comment(l, "the command line")),
    comment(`Array task i trains, then evaluates, run i of ${spec.root}/manifest.json (grid order):`, "--runs-dir"),
    ...[...spec.runs].map(([i, name]) => comment(`  ${String(i).padStart(width)}  ${name}`, "a run name")),
    "# Each run's output goes to <runs>/logs/<run>.log; this shell's own output to the --output file.",
    "#",
    `#SBATCH ${sbatchWord(`--job-name=${spec.name}`, "the job name")}`,
    `#SBATCH --array=${arraySpec(ids, o.throttle)}`,
    `#SBATCH ${sbatchWord(`--output=${spec.output}`, "--runs-dir")}`,
    "#SBATCH --open-mode=append",
    "#SBATCH --requeue",
    `#SBATCH --signal=B:USR1@${o.signalSeconds}`,
    ...resourceLines(o, true),
    "",
    "set -u",
    `cd ${shellQuote(spec.repo, "the repository")}`,
    `MAX_REQUEUE=${o.maxRequeue}`,
    `${spec.command.map((w) => shellQuote(w, "the array task's command")).join(" ")} &`,
    "child=$!",
    `# Slurm warns this shell alone with USR1, ${o.signalSeconds} s before the time limit. The task gets it as USR2`,
    "# (its own stop signal, distinct from Slurm's warning) and stops training after the current step with last.ckpt",
    "# written (exit status 4). A TERM (scancel, preemption) reaches every process of the job by itself.",
    "warned=0",
    `trap 'warned=1; echo "USR1: time limit in ${o.signalSeconds} s or less; stopping"; kill -USR2 "$child" 2>/dev/null' USR1`,
    `trap 'echo "TERM: stopping"' TERM`,
    "# A trapped signal interrupts `wait`; wait again until the task has ended.",
    "while :; do",
    '  wait "$child"',
    "  code=$?",
    '  kill -0 "$child" 2>/dev/null || break',
    "done",
    "# Stopped by the warning with last.ckpt written: run again, from last.ckpt, a bounded number of times.",
    'if [ "$code" -eq 4 ] && [ "$warned" -eq 1 ] && [ "${SLURM_RESTART_COUNT:-0}" -lt "$MAX_REQUEUE" ]; then',
    '  echo "requeueing ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} (restart $((${SLURM_RESTART_COUNT:-0} + 1)) of $MAX_REQUEUE)"',
    '  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    "fi",
    'exit "$code"',
    "",
  ].join("\n");
}

/** What the report script runs. */
export interface ReportScriptSpec {
  name: string;
  repo: string;
  /** Job ids whose end (in any state) the report waits for. */
  after: string[];
  command: string[];
  output: string;
  header: string[];
  slurm: SlurmOptions;
}

/** The dependent job's batch script: draws the figures and the report once the arrays have ended. */
export function reportScript(spec: ReportScriptSpec): string {
  return [
    "#!/bin/bash",
    ...spec.header.map((l) => comment(l, "the command line")),
    "# Draws the figures and the report of the evaluated runs once the array has ended (in any state).",
    "#",
    `#SBATCH ${sbatchWord(`--job-name=${spec.name}`, "the job name")}`,
    `#SBATCH ${sbatchWord(`--dependency=afterany:${spec.after.join(":")}`, "the dependency")}`,
    `#SBATCH ${sbatchWord(`--output=${spec.output}`, "--runs-dir")}`,
    ...resourceLines(spec.slurm, false),
    "",
    "set -u",
    `cd ${shellQuote(spec.repo, "the repository")}`,
    `exec ${spec.command.map((w) => shellQuote(w, "the report job's command")).join(" ")}`,
    "",
  ].join("\n");
}

/**
 * The command line of this process, for the batch scripts' header: each
 * argument quoted for bash, so that the line can be pasted back. Throws
 * {@linkcode UserError} naming the flag of an argument no script line can
 * carry (a newline, NUL).
 *
 * @example
 * ```ts
 * thisCommandLine("sweep", ["--dataset-root", "/a b"]); // "deno task sweep --dataset-root '/a b'"
 * ```
 */
export function thisCommandLine(task: string, args: readonly string[] = Deno.args): string {
  const flagOf = (i: number): string => {
    const a = args[i];
    if (a.startsWith("-")) return a.split("=")[0];
    return i > 0 && args[i - 1].startsWith("-") ? args[i - 1] : `argument ${i + 1}`;
  };
  return ["deno", "task", task, ...args.map((a, i) => shellQuote(a, flagOf(i)))].join(" ");
}
