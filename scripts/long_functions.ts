/**
 * Lists the functions of `src/` and `tasks/` (or of the files and folders
 * given) longer than a limit, 80 lines by default: declarations, methods,
 * function expressions and arrow functions with a block body, each measured
 * from the line its signature starts on to its closing brace. Numeric ports
 * kept as their sources wrote them (`NUMERIC_PORTS`) are listed apart;
 * `tests/structure_test.ts` fails on any other.
 * Exits 1 when any other function is over the limit.
 *
 *   deno run --allow-read scripts/long_functions.ts [--limit 80] [--paths src,tasks]
 *
 * A scanner, not a parser: it blanks comments, strings, template literals
 * and regular expressions, then matches braces, which is enough for code
 * that `deno fmt` formats.
 *
 * @module
 */
import { runTask } from "../src/cli.ts";

const USAGE = "deno run --allow-read scripts/long_functions.ts [--limit 80] [--paths src,tasks]";

/**
 * Functions that are line-by-line ports of published numerical routines, long
 * by nature, by file and name: EISPACK's `tql2` and `tred2`, and Nocedal &
 * Wright's Algorithm 7.5, L-BFGS. Every other function of `src/` and
 * `tasks/` stays within the limit (`tests/structure_test.ts`).
 */
export const NUMERIC_PORTS: readonly { file: string; name: string }[] = [
  { file: "src/metrics/symmetric_eigen.ts", name: "tql2" },
  { file: "src/metrics/symmetric_eigen.ts", name: "tred2" },
  { file: "src/ufm/lbfgs.ts", name: "minimizeLbfgs" },
];

/** Whether `f` is one of the {@linkcode NUMERIC_PORTS}. */
export function isNumericPort(f: { file: string; name: string }): boolean {
  return NUMERIC_PORTS.some((p) => p.file === f.file && p.name === f.name);
}

/** One function over the limit. */
export interface LongFunction {
  file: string;
  /** 1-based line of its signature. */
  line: number;
  name: string;
  lines: number;
}

const KEYWORDS = new Set([
  "if",
  "for",
  "while",
  "switch",
  "catch",
  "return",
  "function",
  "typeof",
  "await",
  "new",
  "throw",
  "with",
  "super",
  "import",
  "export",
  "async",
]);

/**
 * Index of the quote closing the string or template literal that opens at
 * `i`, past the `${…}` expressions of a template (which may hold strings).
 */
function endOfString(text: string, i: number): number {
  const quote = text[i];
  let k = i + 1;
  while (k < text.length && text[k] !== quote) {
    if (text[k] === "\\") k += 2;
    else if (quote === "`" && text[k] === "$" && text[k + 1] === "{") {
      let depth = 1;
      k += 2;
      while (k < text.length && depth > 0) {
        const c = text[k];
        if (c === '"' || c === "'" || c === "`") k = endOfString(text, k);
        else if (c === "{") depth++;
        else if (c === "}") depth--;
        k++;
      }
    } else k++;
  }
  return k;
}

/**
 * `text` with the contents of comments, strings, template literals and
 * regular expressions replaced by spaces (newlines kept), so that braces and
 * parentheses left are code.
 */
export function skeleton(text: string): string {
  const out = text.split("");
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let last = ""; // the last significant character of code
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const stop = text.indexOf("*/", i + 2) + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      const k = endOfString(text, i);
      blank(i + 1, k);
      i = k + 1;
      last = c;
    } else if (c === "/" && (last === "" || "(,=:[!&|?{};".includes(last) || /\breturn\s*$/.test(text.slice(0, i)))) {
      let k = i + 1;
      let inClass = false;
      while (k < text.length && (inClass || text[k] !== "/") && text[k] !== "\n") {
        if (text[k] === "\\") k++;
        else if (text[k] === "[") inClass = true;
        else if (text[k] === "]") inClass = false;
        k++;
      }
      blank(i + 1, k);
      i = k + 1;
      last = "/";
    } else {
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return out.join("");
}

/** Index of the bracket closing the one at `open` in skeleton `s`, or -1. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let k = open; k < s.length; k++) {
    if ("([{".includes(s[k])) depth++;
    else if (")]}".includes(s[k]) && --depth === 0) return k;
  }
  return -1;
}

/**
 * After a parameter list closing at `close`: the index of the body's `{`
 * (past a return type, which may hold object types), or -1 when what follows
 * is no function body (a call, say).
 */
function bodyAfter(s: string, close: number): number {
  let depth = 0;
  let prev = ")";
  for (let k = close + 1; k < s.length; k++) {
    const c = s[k];
    if (/\s/.test(c)) continue;
    if (depth === 0 && c === "{" && !":|&,".includes(prev)) return k;
    if ("([{<".includes(c)) depth++;
    else if (")]}".includes(c)) {
      if (--depth < 0) return -1;
    } else if (c === ">" && prev !== "=") depth--;
    else if (depth === 0 && (c === ";" || c === "," || (c === "=" && s[k + 1] !== ">"))) return -1;
    prev = c === ">" && s[k - 1] === "=" ? "=>" : c;
  }
  return -1;
}

/** Line number (1-based) of index `k` of `s`. */
function lineOf(s: string, k: number): number {
  let n = 1;
  for (let i = 0; i < k; i++) if (s[i] === "\n") n++;
  return n;
}

/** Every function of one file's `text` longer than `limit` lines, with its name. */
export function longFunctions(file: string, text: string, limit: number): LongFunction[] {
  const s = skeleton(text);
  const found = new Map<number, LongFunction>(); // by body start: a function found twice counts once
  const add = (signature: number, body: number, name: string): void => {
    const end = closing(s, body);
    if (end < 0 || found.has(body)) return;
    const line = lineOf(s, signature);
    const lines = lineOf(s, end) - line + 1;
    if (lines > limit) found.set(body, { file, line, name, lines });
  };
  // Declarations and function expressions.
  for (const m of s.matchAll(/\bfunction\b\s*\*?\s*([\w$]*)\s*(?:<[^(]*>)?\(/g)) {
    const close = closing(s, m.index + m[0].length - 1);
    const body = close < 0 ? -1 : bodyAfter(s, close);
    if (body >= 0) add(m.index, body, m[1] || "(function expression)");
  }
  // Methods and constructors: a name at the start of a line, its parameters, then a body.
  const method =
    /^[ \t]*(?:(?:public|private|protected|static|async|override|get|set)\s+)*\*?([\w$]+)\s*(?:<[^(]*>)?\(/gm;
  for (const m of s.matchAll(method)) {
    if (KEYWORDS.has(m[1])) continue;
    const close = closing(s, m.index + m[0].length - 1);
    const body = close < 0 ? -1 : bodyAfter(s, close);
    if (body >= 0) add(m.index + m[0].length - m[0].trimStart().length, body, m[1]);
  }
  // Arrow functions with a block body, named after what they are assigned to, or where they are passed.
  for (const m of s.matchAll(/=>\s*\{/g)) {
    const lineStart = s.lastIndexOf("\n", m.index) + 1;
    const head = text.slice(lineStart, m.index).trim();
    const assigned = head.match(/(?:const|let|var)\s+([\w$]+)/) ?? head.match(/^(?!async\b)([\w$.]+)\s*[:=(]/);
    add(lineStart, m.index + m[0].length - 1, assigned ? `${assigned[1]} (arrow)` : "(arrow function)");
  }
  return [...found.values()].sort((a, b) => a.line - b.line);
}

/** The `.ts` files under `path` (or `path` itself) of folder `root`, sorted, named from `root`. */
async function tsFiles(root: string, path: string): Promise<string[]> {
  const info = await Deno.stat(`${root}/${path}`);
  if (info.isFile) return path.endsWith(".ts") ? [path] : [];
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${path}`)) {
    files.push(...await tsFiles(root, `${path}/${entry.name}`));
  }
  return files.sort();
}

/**
 * Every function over `limit` lines in the `.ts` files under `paths` of
 * folder `root` (default: the working folder), in file and line order; files
 * are named from `root` (`src/…`).
 */
export async function scanLongFunctions(
  paths: readonly string[],
  limit: number,
  root = ".",
): Promise<LongFunction[]> {
  const long: LongFunction[] = [];
  for (const path of paths) {
    for (const file of await tsFiles(root, path)) {
      long.push(...longFunctions(file, await Deno.readTextFile(`${root}/${file}`), limit));
    }
  }
  return long;
}

if (import.meta.main) {
  await runTask(USAGE, [
    { name: "limit", type: "int", min: 1, default: 80, help: "longest function allowed, in lines" },
    { name: "paths", type: "list", default: ["src", "tasks"], help: "files and folders to scan" },
  ], async (flags) => {
    const long = await scanLongFunctions(flags.paths, flags.limit);
    const ports = long.filter(isNumericPort);
    const others = long.filter((f) => !isNumericPort(f));
    for (const f of others) console.log(`${f.file}:${f.line} ${f.name}: ${f.lines} lines`);
    for (const f of ports) console.log(`${f.file}:${f.line} ${f.name}: ${f.lines} lines (numeric port)`);
    console.log(`${others.length} function(s) over ${flags.limit} lines, ${ports.length} numeric port(s)`);
    if (others.length > 0) Deno.exitCode = 1;
  });
}
