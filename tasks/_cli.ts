/**
 * The one command-line parser of the package's tasks. Deno's standard
 * `@std/cli` lives on JSR, which this project cannot depend on, and
 * `node:util`'s `parseArgs` cannot express the reference's two-letter short
 * flags (`-tb`), so tasks declare their flags here.
 *
 * Accepted forms: `--name value`, `--name=value`, `--flag`, `--no-flag`
 * (booleans), and the declared short aliases (`-e 200`, `-tb 100`). List
 * flags take comma-separated values and may be repeated.
 */
import { UserError } from "../src/errors.ts";

/** How one flag is parsed and validated. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `save-path`. */
  name: string;
  /**
   * `list`: comma-separated strings; `numbers` / `ints`: comma-separated
   * numbers checked against `min`/`max` one by one. A repeated list flag adds
   * to the values given before it (`--run a --run b,c` is `[a, b, c]`).
   */
  type: "string" | "number" | "int" | "boolean" | "choice" | "list" | "numbers" | "ints";
  /** Extra spellings, with dashes, e.g. `["-e", "--epochs"]`. */
  aliases?: string[];
  default?: unknown;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** `min` is exclusive (value must be greater). */
  minExclusive?: boolean;
  help: string;
}

/** Parsed values keyed by flag name (dashes kept, e.g. `values["save-path"]`). */
export type FlagValues = Record<string, unknown>;

/** Parses `args` against `specs`; throws {@linkcode UserError} on any mistake. */
export function parseFlags(args: string[], specs: FlagSpec[]): FlagValues {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    for (const a of s.aliases ?? []) byName.set(a, s);
  }
  const values: FlagValues = {};
  for (const s of specs) if (s.default !== undefined) values[s.name] = s.default;
  const givenLists = new Set<string>();
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
    const value = convert(key, raw, spec);
    if (Array.isArray(value) && givenLists.has(spec.name)) {
      values[spec.name] = [...(values[spec.name] as unknown[]), ...value];
    } else values[spec.name] = value;
    if (Array.isArray(value)) givenLists.add(spec.name);
  }
  return values;
}

function convert(key: string, raw: string, spec: FlagSpec): unknown {
  switch (spec.type) {
    case "string":
      return raw;
    case "choice":
      if (!spec.choices!.includes(raw)) {
        throw new UserError(`${key}: unknown value '${raw}'; choose one of ${spec.choices!.join(", ")}`);
      }
      return raw;
    case "list":
      return splitList(raw);
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

function toNumber(key: string, raw: string, spec: FlagSpec, integer: boolean): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v)) throw new UserError(`${key}: expected a number, got '${raw}'`);
  if (integer && !Number.isInteger(v)) throw new UserError(`${key}: expected an integer, got '${raw}'`);
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

/** A help text listing every flag with its default. */
export function helpText(usage: string, specs: FlagSpec[]): string {
  const lines = [usage, "", "Flags:"];
  for (const s of specs) {
    const names = [`--${s.name}`, ...(s.aliases ?? [])].join(", ");
    const def = s.default === undefined ? "" : ` (default: ${JSON.stringify(s.default)})`;
    const choices = s.choices ? ` [${s.choices.join("|")}]` : "";
    lines.push(`  ${names.padEnd(28)} ${s.help}${choices}${def}`);
  }
  return lines.join("\n");
}

/**
 * Runs a task's main function: prints `--help`, turns a
 * {@linkcode UserError} into one line on stderr and exit status 2.
 */
export async function runTask(
  usage: string,
  specs: FlagSpec[],
  main: (values: FlagValues) => Promise<void>,
): Promise<void> {
  const args = Deno.args;
  if (args.includes("--help") || args.includes("-h")) {
    console.log(helpText(usage, specs));
    return;
  }
  try {
    await main(parseFlags(args, specs));
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
