/**
 * The shape of the code that ARCHITECTURE.md describes, checked: no function
 * of `src/` or `tasks/` over 80 lines but the numeric ports; folders of
 * `src/` that import only downwards (the layer table below), with no cycle;
 * nothing in `src/` that imports `tasks/`; no task that imports another
 * task; no `_private` module imported from outside its folder (tests aside).
 */
import { assert, assertEquals } from "./_assert.ts";
import { isNumericPort, longFunctions, NUMERIC_PORTS, scanLongFunctions } from "../scripts/long_functions.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const LIMIT = 80;

/**
 * The layers of `src/`, bottom first, as ARCHITECTURE.md lists them: a module
 * may import modules of its own unit (a folder, or a file directly in
 * `src/`), of another unit of its layer (no cycle between units), and of the
 * layers below, never of a layer above. A new folder or file of `src/` must be
 * placed here, and in ARCHITECTURE.md.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts", "rng.ts", "io.ts", "stats.ts", "gap_statistics.ts", "float64_kernels.ts", "cli.ts"],
  ["arrays", "data", "metrics"],
  ["backend"],
  ["losses", "models"],
  ["run"],
  ["forward"],
  ["train", "evaluate"],
  ["plot", "measure"],
  ["ufm"],
  ["sweep"],
  ["serve"],
];

/** One import: the importing file and the imported one, both from the repository root. */
interface Edge {
  from: string;
  to: string;
}

/** The `.ts` files under `dir` (from the repository root), sorted. */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await tsFiles(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/**
 * The relative imports of `text` (a file at `file`): `import … from`,
 * `export … from`, side-effect imports and dynamic `import("…")` with a
 * literal specifier, resolved from the repository root.
 */
export function importsOf(file: string, text: string): Edge[] {
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specifiers.filter((s) => s.startsWith(".")).map((s) => ({
    from: file,
    to: new URL(s, `file:///${file}`).pathname.slice(1),
  }));
}

/** The unit of a file of `src/`: its folder under `src/`, or its own name for a file directly in `src/`. */
function unitOf(file: string): string {
  return file.split("/")[1];
}

/** Imports between units of `src/` that go up the layer table, and files of units the table lacks. */
export function layerViolations(edges: readonly Edge[], layers: readonly (readonly string[])[]): string[] {
  const layerOf = new Map(layers.flatMap((units, i) => units.map((u) => [u, i] as const)));
  const problems = new Set<string>();
  for (const { from, to } of edges) {
    if (!from.startsWith("src/") || !to.startsWith("src/")) continue;
    const [a, b] = [unitOf(from), unitOf(to)];
    for (const u of [a, b]) if (!layerOf.has(u)) problems.add(`src/${u} is in no layer of the table`);
    if (a === b || !layerOf.has(a) || !layerOf.has(b)) continue;
    if (layerOf.get(b)! > layerOf.get(a)!) problems.add(`${from} imports ${to}: upward (${a} → ${b})`);
  }
  return [...problems];
}

/** A cycle among the units of `src/` (as `a → b → a`), or null when the unit graph has none. */
export function unitCycle(edges: readonly Edge[]): string | null {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!from.startsWith("src/") || !to.startsWith("src/")) continue;
    const [a, b] = [unitOf(from), unitOf(to)];
    if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (u: string): string | null => {
    if (state.get(u) === "done") return null;
    if (state.get(u) === "open") return [...path.slice(path.indexOf(u)), u].join(" → ");
    state.set(u, "open");
    path.push(u);
    for (const v of next.get(u) ?? []) {
      const found = visit(v);
      if (found) return found;
    }
    path.pop();
    state.set(u, "done");
    return null;
  };
  for (const u of [...next.keys()].sort()) {
    const found = visit(u);
    if (found) return found;
  }
  return null;
}

/** Every relative import of the `.ts` files under `dirs`. */
async function importGraph(dirs: readonly string[]): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const dir of dirs) {
    for (const file of await tsFiles(dir)) {
      edges.push(...importsOf(file, await Deno.readTextFile(`${ROOT}/${file}`)));
    }
  }
  return edges;
}

Deno.test("no function of src/ or tasks/ is over 80 lines, but the numeric ports", async () => {
  const long = await scanLongFunctions(["src", "tasks"], LIMIT, ROOT);
  const named = long.filter((f) => !isNumericPort(f)).map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
  assertEquals(named, [], "give these functions named steps (scripts/long_functions.ts lists them)");
  // The allow-list names functions that exist, so that it cannot outlive them.
  const all = await scanLongFunctions(["src"], 1, ROOT);
  for (const port of NUMERIC_PORTS) assert(all.some((f) => isNumericPort(f) && f.name === port.name), port.name);
});

Deno.test("the scanner finds a function over the limit, however it is written", () => {
  const body = Array.from({ length: LIMIT }, (_, i) => `  total += ${i}; // }`).join("\n");
  const text = `export function long(): number {\n  let total = "{";\n${body}\n  return 0;\n}\n` +
    `const arrow = (x: number): number => {\n${body}\n  return x;\n};\n` +
    `class A {\n  method(): void {\n${body}\n  }\n}\nfunction short(): void {}\n`;
  assertEquals(longFunctions("x.ts", text, LIMIT).map((f) => f.name), ["long", "arrow (arrow)", "method"]);
});

Deno.test("src/ imports downwards only, by the layer table of ARCHITECTURE.md, with no cycle", async () => {
  const edges = await importGraph(["src"]);
  assert(edges.length > 100, `only ${edges.length} imports found: is the pattern still right?`);
  assertEquals(layerViolations(edges, LAYERS), []);
  assertEquals(unitCycle(edges), null);
  const units = new Set((await tsFiles("src")).map(unitOf));
  assertEquals([...units].filter((u) => !LAYERS.flat().includes(u)), [], "units of src/ missing from the table");
  assertEquals(LAYERS.flat().filter((u) => !units.has(u)), [], "units of the table missing from src/");
  const outside = edges.filter((e) => !e.to.startsWith("src/")).map((e) => `${e.from} imports ${e.to}`);
  assertEquals(outside, [], "src/ imports nothing outside src/ (tasks/ least of all)");
});

Deno.test("the layer and cycle checks catch an upward import and a cycle", () => {
  const up = [{ from: "src/metrics/a.ts", to: "src/plot/b.ts" }];
  assertEquals(layerViolations(up, LAYERS), ["src/metrics/a.ts imports src/plot/b.ts: upward (metrics → plot)"]);
  assertEquals(layerViolations([{ from: "src/new/a.ts", to: "src/io.ts" }], LAYERS), [
    "src/new is in no layer of the table",
  ]);
  const cycle = [{ from: "src/train/a.ts", to: "src/evaluate/b.ts" }, {
    from: "src/evaluate/b.ts",
    to: "src/train/c.ts",
  }];
  assertEquals(layerViolations(cycle, LAYERS), []);
  assertEquals(unitCycle(cycle), "evaluate → train → evaluate");
  assertEquals(
    importsOf(
      "src/x/a.ts",
      `import { a } from "./b.ts";\nexport {\n  c,\n} from "../y/c.ts";\nawait import("../z.ts");`,
    )
      .map((e) => e.to),
    ["src/x/b.ts", "src/y/c.ts", "src/z.ts"],
  );
});

Deno.test("no task imports another task; tasks share only _-prefixed helpers", async () => {
  const edges = await importGraph(["tasks"]);
  const between = edges.filter((e) => e.to.startsWith("tasks/") && !e.to.split("/").at(-1)!.startsWith("_"));
  assertEquals(between.map((e) => `${e.from} imports ${e.to}`), []);
  for (const file of await tsFiles("tasks")) {
    if (file.split("/").at(-1)!.startsWith("_")) continue;
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    assert(/^async function main\(/m.test(text), `${file}: no main`);
    assert(
      /if \(import\.meta\.main\) \{[^]*?await runTask\([^]*?, main\);\n\}/.test(text),
      `${file}: main is not run`,
    );
  }
});

Deno.test("no _private module is imported from outside its folder (tests may)", async () => {
  const edges = await importGraph(["src", "tasks", "scripts", "bench"]);
  const dir = (path: string) => path.split("/").slice(0, -1).join("/");
  const reaching = edges.filter((e) => e.to.split("/").at(-1)!.startsWith("_") && dir(e.to) !== dir(e.from));
  const allowed = reaching.filter((e) => e.from.startsWith("tasks/") && e.to.startsWith("tasks/"));
  assertEquals(reaching.filter((e) => !allowed.includes(e)).map((e) => `${e.from} imports ${e.to}`), []);
});
