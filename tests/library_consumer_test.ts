/**
 * The package as another project uses it: a Deno project in a temporary
 * folder outside the repository links this package (`links` in its
 * `deno.json`), measures Neural Collapse of its own arrays through the light
 * entry point `@nc-losses/nc-losses/metrics`, with no permission at all, and
 * gets the closed-form values.
 */
import { assert, assertClose, assertEquals } from "./_assert.ts";
import { joinPath } from "../src/io.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const CONSUMER_MAIN = `
import { neuralCollapseMetrics } from "@nc-losses/nc-losses/metrics";

// Three class means on a simplex ETF in the plane (radius r, angles 90°, 210°, 330°), two samples
// each at ±s along x, and the means themselves as the classifier.
const r = 2, s = 0.25;
const means = [90, 210, 330].map((deg) => [r * Math.cos(deg * Math.PI / 180), r * Math.sin(deg * Math.PI / 180)]);
const features = new Float64Array(means.flatMap(([x, y]) => [x + s, y, x - s, y]));
const labels = new Int32Array([0, 0, 1, 1, 2, 2]);
const etf = neuralCollapseMetrics(features, labels, new Float64Array(means.flat()), null);

// nc4_bias = ‖W μ_G + b‖: μ_G = (1, 2), W μ_G = (1, −2), b = (2, 4), so ‖(3, 2)‖ = √13.
const bias = neuralCollapseMetrics(new Float64Array([0, 2, 2, 2]), [0, 1], new Float64Array([1, 0, 0, -1]),
  new Float64Array([2, 4]));

console.log(JSON.stringify({ nc1: etf.nc1, nc2: etf.nc2, nc3: etf.nc3, top1: etf.top1, nc4_bias: bias.nc4_bias }));
`;

async function deno(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("another Deno project links the package and measures NC of its arrays through the light API", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nc_losses_consumer_" });
  try {
    assert(!dir.startsWith(`${ROOT}/`), "the consumer lives outside the repository");
    const config = JSON.parse(await Deno.readTextFile(joinPath(ROOT, "deno.json")));
    await Deno.writeTextFile(
      joinPath(dir, "deno.json"),
      JSON.stringify({ imports: { [config.name]: `jsr:${config.name}@^${config.version}` }, links: [ROOT] }),
    );
    await Deno.writeTextFile(joinPath(dir, "main.ts"), CONSUMER_MAIN);

    // No --allow-* flag: measuring arrays in memory needs no permission.
    const run = await deno(["run", "main.ts"], dir);
    assertEquals(run.code, 0, run.stderr);
    const m = JSON.parse(run.stdout);
    const [r, s] = [2, 0.25];
    assertClose(m.nc1, (2 * s * s) / (3 * r * r), { abs: 1e-14 }, "NC1 = 2s²/(3r²)");
    assertClose(m.nc2, 0, { abs: 1e-7 }, "NC2 of an ETF classifier");
    assertClose(m.nc3, 0, { abs: 1e-7 }, "NC3 of a classifier equal to the means");
    assertEquals(m.top1, 100);
    assertClose(m.nc4_bias, Math.sqrt(13), { abs: 1e-15 }, "nc4_bias = √13");

    // The light entry point's module graph holds no TensorFlow (and no npm package at all).
    const info = await deno(["info", "--json", "main.ts"], dir);
    assertEquals(info.code, 0, info.stderr);
    const modules: { specifier: string }[] = JSON.parse(info.stdout).modules;
    assert(modules.some((mod) => mod.specifier.endsWith("/metrics.ts")), "the graph reaches the package");
    const heavy = modules.filter((mod) => /tensorflow|^npm:/.test(mod.specifier)).map((mod) => mod.specifier);
    assertEquals(heavy, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno publish --dry-run accepts the package without --allow-slow-types", async () => {
  // --allow-dirty: the suite also runs in working copies with uncommitted changes; the check is the same.
  const out = await deno(["publish", "--dry-run", "--allow-dirty"], ROOT);
  assertEquals(out.code, 0, out.stderr);
  assert(out.stderr.includes("Dry run complete") || out.stdout.includes("Dry run complete"), out.stderr);
  // Slow types are errors (exit 1) without --allow-slow-types; none may be reported.
  assert(!/error\[/.test(out.stderr), out.stderr);
});
