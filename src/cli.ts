/**
 * The one command-line parser of the package's tasks. Deno's standard
 * `@std/cli` lives on JSR, which this project cannot depend on, and
 * `node:util`'s `parseArgs` cannot express the reference's two-letter short
 * flags (`-tb`), so tasks declare their flags here.
 *
 * Accepted forms: `--name value`, `--name=value`, `--flag`, `--no-flag`
 * (booleans), and the declared short aliases (`-e 200`, `-tb 100`). List
 * flags take comma-separated values and may be repeated; any other flag
 * given twice is an error (neither value silently wins).
 *
 * Paths (`path` and `paths` flags) come out absolute, by one rule:
 * - a relative path the user types is relative to the folder they ran the
 *   command from. `deno task` runs every task in the repository root but sets
 *   `INIT_CWD` to that folder (and a nested `deno task` keeps it), so that is
 *   the base when it is set and readable, else the process's working folder
 *   (`deno run` from anywhere);
 * - a default written in a flag spec, and any built-in default a task takes
 *   from {@linkcode repositoryPath} (e.g. `runs/figures`), is relative to the
 *   repository root, where the README says outputs go, whatever the folder.
 *
 * Specs written through {@linkcode defineFlags} keep their literal types, so
 * {@linkcode parseFlags} and {@linkcode runTask} hand the task typed values
 * (`values.lr` is a `number`, `values["save-path"]` a `string | undefined`,
 * a `choice` the union of its choices): tasks read them without casts.
 *
 * A task that starts another (sweep, reproduce) passes absolute paths, and
 * the sweep's runner sets the child's `INIT_CWD` to its own folder, so a
 * child reads every path as its parent did.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT, UserError } from "./errors.ts";

/** The repository root (the folder of `deno.json`), absolute. */
const REPOSITORY_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The kinds of flag {@linkcode parseFlags} understands; see {@linkcode FlagSpec.type}. */
export type FlagType =
  | "string"
  | "strings"
  | "number"
  | "int"
  | "boolean"
  | "choice"
  | "list"
  | "numbers"
  | "ints"
  | "path"
  | "paths";

/** How one flag is parsed and validated. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `save-path`. */
  name: string;
  /**
   * `list`: comma-separated strings; `numbers` / `ints`: comma-separated
   * numbers checked against `min`/`max` one by one. A repeated list flag adds
   * to the values given before it (`--run a --run b,c` is `[a, b, c]`).
   * `path` / `paths`: a file or folder / a comma list of them, made absolute
   * (see the module doc for the rule). `strings`: a repeatable flag whose
   * values are kept whole, commas included (`--sbatch-arg --exclude=n1,n2`).
   */
  type: FlagType;
  /**
   * For `path` / `paths`: what the path names. {@linkcode runTask} checks,
   * before the task starts, that an existing path is of this kind and that no
   * file stands where a parent folder must be.
   */
  expect?: "file" | "folder";
  /** Extra spellings, with dashes, e.g. `["-e", "--epochs"]`. */
  aliases?: readonly string[];
  default?: unknown;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** `min` is exclusive (value must be greater). */
  minExclusive?: boolean;
  /**
   * The configuration field this flag fills (e.g. `momentum` for `--mom`),
   * for tasks whose flags build a configuration object as data: the parser
   * ignores it; see `TRAIN_FLAGS` in `tasks/train.ts`.
   */
  config?: string;
  help: string;
}

/**
 * What a flag of spec `S` parses to: `number` for `number`/`int`, `number[]`
 * for `numbers`/`ints`, `string[]` for `list`/`strings`/`paths`, the union of
 * the `choices` for `choice`, `boolean`, else `string`.
 */
export type FlagValue<S extends FlagSpec> = S["type"] extends "number" | "int" ? number
  : S["type"] extends "boolean" ? boolean
  : S["type"] extends "choice" ? (S extends { choices: readonly (infer C)[] } ? C : string)
  : S["type"] extends "numbers" | "ints" ? number[]
  : S["type"] extends "list" | "strings" | "paths" ? string[]
  : S["type"] extends "string" | "path" ? string
  : unknown;

/**
 * Parsed values keyed by flag name (dashes kept, e.g. `values["save-path"]`),
 * typed by the specs: a flag without a `default` may be `undefined`. Specs
 * whose names are not literal types (`FlagSpec[]`) give `unknown` values.
 *
 * @example
 * ```ts
 * const SPECS = defineFlags([{ name: "lr", type: "number", default: 0.1, help: "learning rate" }]);
 * const lr: number = parseFlags(["--lr", "0.05"], SPECS).lr;
 * ```
 */
export type FlagValues<S extends readonly FlagSpec[] = readonly FlagSpec[]> = {
  [K in S[number] as K["name"]]: string extends K["name"] ? unknown
    : K extends { default: undefined } ? FlagValue<K> | undefined
    : K extends { default: unknown } ? FlagValue<K>
    : FlagValue<K> | undefined;
};

/**
 * The specs as written, with their literal types kept (names, types,
 * choices, defaults), so that {@linkcode parseFlags} and {@linkcode runTask}
 * give typed values.
 *
 * @example
 * ```ts
 * const FLAGS = defineFlags([
 *   { name: "epochs", aliases: ["-e"], type: "int", default: 5, help: "epochs" },
 *   { name: "out", type: "path", help: "output folder" },
 * ]);
 * // parseFlags(args, FLAGS): { epochs: number; out: string | undefined }
 * ```
 */
export function defineFlags<const S extends readonly FlagSpec[]>(specs: S): S {
  return specs;
}

/** Options of {@linkcode parseFlags}. */
export interface ParseOptions {
  /** Base of relative paths the user typed (default: {@linkcode userFolder}). */
  cwd?: string;
}

/**
 * Parses `args` against `specs`; throws {@linkcode UserError} on any mistake.
 * `path` and `paths` values come out absolute.
 *
 * @example
 * ```ts
 * const v = parseFlags(["--out", "figs", "-e", "5"], [
 *   { name: "out", type: "path", default: "runs/figures", help: "output folder" },
 *   { name: "epochs", aliases: ["-e"], type: "int", help: "epochs" },
 * ], { cwd: "/home/me" });
 * v.out; // "/home/me/figs"
 * ```
 */
export function parseFlags<const S extends readonly FlagSpec[]>(
  args: string[],
  specs: S,
  options: ParseOptions = {},
): FlagValues<S> {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    for (const a of s.aliases ?? []) byName.set(a, s);
  }
  const values: Record<string, unknown> = {};
  for (const s of specs) if (s.default !== undefined) values[s.name] = defaultValue(s);
  const givenLists = new Set<string>();
  /** How each scalar flag was given: a second one is refused rather than silently taking over. */
  const givenScalars = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let key = arg;
    let inline: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("-") && eq > 0) {
      key = arg.slice(0, eq);
      inline = arg.slice(eq + 1);
    }
    let spec = byName.get(key);
    let negated = false;
    if (!spec && key.startsWith("--no-")) {
      const s = byName.get(`--${key.slice(5)}`);
      if (s?.type === "boolean") {
        spec = s;
        negated = true;
      }
    }
    if (!spec) {
      if (!arg.startsWith("-")) throw new UserError(`unexpected argument '${arg}' (flags start with --)`);
      const valid = specs.map((s) => [`--${s.name}`, ...(s.aliases ?? [])].join("/")).join(", ");
      throw new UserError(`unknown flag '${key}'; valid flags: ${valid}`);
    }
    if (!LIST_TYPES.includes(spec.type)) {
      const given = spec.type === "boolean" || inline !== undefined ? arg : `${arg} ${args[i + 1] ?? ""}`.trim();
      const earlier = givenScalars.get(spec.name);
      if (earlier !== undefined) {
        throw new UserError(`${key}: given twice ('${earlier}', then '${given}'); give it once`);
      }
      givenScalars.set(spec.name, given);
    }
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        if (!["true", "false"].includes(inline)) {
          throw new UserError(`${key}: expected true or false, got '${inline}'`);
        }
        values[spec.name] = (inline === "true") !== negated;
      } else values[spec.name] = !negated;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= args.length) throw new UserError(`${key}: missing value`);
      raw = args[++i];
    }
    const value = convert(key, raw, spec, options.cwd);
    if (Array.isArray(value) && givenLists.has(spec.name)) {
      values[spec.name] = [...(values[spec.name] as unknown[]), ...value];
    } else values[spec.name] = value;
    if (Array.isArray(value)) givenLists.add(spec.name);
  }
  // Each value was made by `convert` (or is the spec's default) for its spec's type, which is what FlagValues<S> says.
  return values as FlagValues<S>;
}

/** Flag types that take several values, repeated flags adding to them; every other type takes one. */
const LIST_TYPES: readonly FlagType[] = ["strings", "list", "numbers", "ints", "paths"];

function defaultValue(spec: FlagSpec): unknown {
  if (spec.type === "path") return repositoryPath(spec.default as string);
  if (spec.type === "paths") return (spec.default as string[]).map((p) => repositoryPath(p));
  return spec.default;
}

function convert(key: string, raw: string, spec: FlagSpec, cwd: string | undefined): unknown {
  switch (spec.type) {
    case "string":
      return raw;
    case "path":
      if (raw === "") throw new UserError(`${key}: empty path`);
      return resolve(cwd ?? userFolder(), raw);
    case "paths":
      return splitList(raw).map((p) => resolve(cwd ?? userFolder(), p));
    case "choice":
      if (!spec.choices!.includes(raw)) {
        throw new UserError(`${key}: unknown value '${raw}'; choose one of ${spec.choices!.join(", ")}`);
      }
      return raw;
    case "list":
      return splitList(raw);
    case "strings":
      return [raw];
    case "numbers":
    case "ints":
      return splitList(raw).map((item) => toNumber(key, item, spec, spec.type === "ints"));
    case "number":
    case "int":
      return toNumber(key, raw, spec, spec.type === "int");
  }
}

function splitList(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Decimal notation only: `0.1`, `-3`, `5e-4`, `.5`; not `0x10`, `0b1`, `Infinity` or an empty string. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function toNumber(key: string, raw: string, spec: FlagSpec, integer: boolean): number {
  const text = raw.trim();
  const v = Number(text);
  if (!DECIMAL.test(text)) throw new UserError(`${key}: expected a decimal number, got '${raw}'`);
  if (!Number.isFinite(v)) throw new UserError(`${key}: ${raw} is outside the range of a float64`);
  if (integer && !Number.isInteger(v)) throw new UserError(`${key}: expected an integer, got '${raw}'`);
  // Above 2^53 neighbouring integers share one float64: two seeds would silently be the same run.
  if (integer && !Number.isSafeInteger(v)) throw new UserError(`${key}: ${raw} is beyond 2^53 - 1`);
  checkRange(key, v, spec);
  return v;
}

function checkRange(key: string, v: number, spec: FlagSpec): void {
  if (spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min)) {
    throw new UserError(`${key}: ${v} is out of range (must be ${spec.minExclusive ? ">" : ">="} ${spec.min})`);
  }
  if (spec.max !== undefined && v > spec.max) {
    throw new UserError(`${key}: ${v} is out of range (must be <= ${spec.max})`);
  }
}

/**
 * The folder the user ran the command from: `INIT_CWD` when `deno task` set
 * it and env access to it is granted, else the process's working folder.
 */
export function userFolder(): string {
  const granted = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" }).state === "granted";
  const init = granted ? Deno.env.get("INIT_CWD") : undefined;
  return init && isAbsolute(init) ? init : Deno.cwd();
}

/**
 * An absolute path inside the repository, for defaults (`runs/figures`).
 *
 * @example
 * ```ts
 * repositoryPath("runs", "small"); // "<repository>/runs/small"
 * ```
 */
export function repositoryPath(...parts: string[]): string {
  return resolve(REPOSITORY_ROOT, ...parts);
}

/** A default as the user would type it: lists comma-separated, strings unquoted. */
function formatDefault(spec: FlagSpec): string {
  const d = spec.default;
  const text = Array.isArray(d) ? (d.length === 0 ? "none" : d.join(",")) : String(d);
  return spec.type === "path" || spec.type === "paths" ? `${text}, in the repository` : text;
}

/** A help text listing every flag with its default. */
export function helpText(usage: string, specs: readonly FlagSpec[]): string {
  const lines = [usage, "", "Flags:"];
  for (const s of specs) {
    const names = [`--${s.name}`, ...(s.aliases ?? [])].join(", ");
    const def = s.default === undefined ? "" : ` (default: ${formatDefault(s)})`;
    const choices = s.choices ? ` [${s.choices.join("|")}]` : "";
    lines.push(`  ${names.padEnd(28)} ${s.help}${choices}${def}`);
  }
  return lines.join("\n");
}

/** The entry at `path`, or null when there is none (or it cannot be read). */
function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/**
 * Checks the `path` / `paths` flags that declare `expect`: an existing path
 * must be a file or a folder as declared, and the nearest existing parent
 * must be a folder. Throws {@linkcode UserError} naming the flag, so that a
 * mistyped output folder fails before any work, not after it.
 */
export function checkPathFlags(values: Readonly<Record<string, unknown>>, specs: readonly FlagSpec[]): void {
  for (const spec of specs) {
    const value = values[spec.name];
    if (!spec.expect || value === undefined) continue;
    for (const path of Array.isArray(value) ? value as string[] : [value as string]) {
      const flag = `--${spec.name} ${path}`;
      const info = statOrNull(path);
      if (info) {
        if (spec.expect === "folder" && !info.isDirectory) throw new UserError(`${flag}: is a file, not a folder`);
        if (spec.expect === "file" && info.isDirectory) throw new UserError(`${flag}: is a folder, not a file`);
        continue;
      }
      for (let p = resolve(path, "..");; p = resolve(p, "..")) {
        const parent = statOrNull(p);
        if (parent && !parent.isDirectory) throw new UserError(`${flag}: ${p} is a file, not a folder`);
        if (parent || p === resolve(p, "..")) break;
      }
    }
  }
}

/** Deno's file-system errors: what went wrong, as a phrase. */
const FILE_SYSTEM_ERRORS: [new (...args: never[]) => Error, string][] = [
  [Deno.errors.AlreadyExists, "already exists"],
  [Deno.errors.NotADirectory, "not a folder"],
  [Deno.errors.IsADirectory, "is a folder, not a file"],
  [Deno.errors.PermissionDenied, "permission denied"],
  [Deno.errors.NotFound, "no such file or folder"],
  [Deno.errors.FilesystemLoop, "too many levels of symbolic links"],
];

/**
 * One line for a file-system error (`not a folder: /tmp/x`), or null for any
 * other error. Deno's messages read `File exists (os error 17): mkdir '/tmp/x'`;
 * the path is the last quoted one (a rename names the target last).
 */
export function fileSystemErrorLine(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  if (e instanceof Deno.errors.NotCapable) return notPermittedLine(e.message);
  const known = FILE_SYSTEM_ERRORS.find(([type]) => e instanceof type);
  const m = /^(.*?) \(os error \d+\)(?:: (\w+) .*'([^']*)')?$/s.exec(e.message);
  // Errors of other kinds (ENOSPC, EROFS) arrive as plain Errors carrying an OS error code.
  if (!known && !(m && e.constructor === Error)) return null;
  const op = m?.[2];
  const path = m?.[3];
  const what = known ? known[1] : m![1].toLowerCase();
  if (!path) return m ? what : `${what}: ${e.message}`;
  if (known?.[0] === Deno.errors.AlreadyExists && op === "mkdir") return `exists and is not a folder: ${path}`;
  if (known?.[0] === Deno.errors.NotADirectory) {
    // The culprit is a parent that is a file; name it, and the path that needed it.
    for (let p = resolve(path, ".."); p !== resolve(p, ".."); p = resolve(p, "..")) {
      const info = statOrNull(p);
      if (info && !info.isDirectory) return `${what}: ${p} (needed for ${path})`;
    }
  }
  return `${what} (${op}): ${path}`;
}

/**
 * One line for Deno's refusal of a path the task's permissions do not cover
 * (`Requires all access to "/proc", run again with the --allow-all flag`):
 * Deno lets a program read or write under `/dev`, `/proc` and `/sys` only
 * with `--allow-all`, which no task asks for.
 */
function notPermittedLine(message: string): string {
  const m = /^Requires (\w+) access to "(.*)", run again/s.exec(message);
  if (!m) return `not permitted: ${message}`;
  const [, kind, path] = m;
  if (kind === "all") {
    return `not permitted: ${path} (a system path: Deno reaches /dev, /proc and /sys only with --allow-all)`;
  }
  return `not permitted (${kind} access): ${path}`;
}

/**
 * A message as one line: line breaks and other control characters escaped
 * as in a string literal (`\n`, `\x00`), so a file name holding a newline
 * cannot make an error look like two.
 *
 * @example
 * ```ts
 * oneLine("runs/a\nb: no such folder"); // "runs/a\\nb: no such folder"
 * ```
 */
export function oneLine(message: string): string {
  const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return message.replace(
    // deno-lint-ignore no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f]/g,
    (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * Runs a task's main function: prints `--help`, checks the path flags, and
 * turns a {@linkcode UserError} or a file-system error (a bad output folder,
 * no permission) into one line on stderr and exit status 2. Any other error
 * is a bug and keeps its stack trace.
 */
export async function runTask<const S extends readonly FlagSpec[]>(
  usage: string,
  specs: S,
  main: (values: FlagValues<S>) => Promise<void>,
): Promise<void> {
  const args = Deno.args;
  if (args.includes("--help") || args.includes("-h")) {
    console.log(helpText(usage, specs));
    return;
  }
  try {
    const values = parseFlags(args, specs);
    checkPathFlags(values, specs);
    await main(values);
  } catch (e) {
    const line = e instanceof UserError ? e.message : fileSystemErrorLine(e);
    if (line === null) throw e;
    console.error(`error: ${oneLine(line)}`);
    Deno.exit(EXIT.user);
  }
}
