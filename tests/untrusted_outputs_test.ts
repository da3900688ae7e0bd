/**
 * Run folders from someone else: no value read from `info.json` or
 * `config.json` chooses where plot, heatmap or report write, and the report's
 * Markdown carries no raw HTML from them.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { pathInside, safeFileName } from "../src/io.ts";
import { figureFileName } from "../src/plot/write_figures.ts";
import { buildReport, escapeMarkdown, parseRunInfo, type RunRecord } from "../src/plot/mod.ts";
import { grid, syntheticInfo, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { runTask } from "./_task.ts";

/** Every file under `dir`, recursively (links listed, not followed). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(path));
    else out.push(path);
  }
  return out;
}

Deno.test("safeFileName and figureFileName: no separator, no dot-dot, no control character, unique", () => {
  assertEquals(safeFileName("cifar100-wide_resnet50-w0.5-e200-nc1"), "cifar100-wide_resnet50-w0.5-e200-nc1");
  assertEquals(safeFileName("../../../escaped-mlp-w2-e2-nc1"), "_escaped-mlp-w2-e2-nc1");
  assertEquals(safeFileName(".."), "_");
  assertEquals(safeFileName(""), "_");
  assertEquals(safeFileName("-rf"), "rf");
  assertEquals(safeFileName(".hidden"), "hidden");
  assertEquals(safeFileName("a\u0000b\nc\\d/e"), "a_b_c_d_e");
  assertEquals(safeFileName("<svg onload=alert(1)>"), "_svg_onload_alert_1_");
  assertEquals(safeFileName("x".repeat(300)).length, 200);
  for (const name of ["..", "../", "/etc/passwd", "a/../../b", "\u0000", "..\u0000..", "...", ". ."]) {
    const safe = safeFileName(name);
    assert(
      !safe.includes("/") && !safe.includes("..") && ![...safe].some((c) => c.charCodeAt(0) < 32),
      `${name} → ${safe}`,
    );
    assert(safe !== "." && safe !== "" && !safe.startsWith("."), `${name} → ${safe}`);
  }
  const used = new Set<string>();
  assertEquals(figureFileName("a/b", used), "a_b");
  assertEquals(figureFileName("a_b", used), "a_b-2");
  assertEquals(figureFileName("a:b", used), "a_b-3");
});

Deno.test("pathInside refuses a name that leaves the folder", () => {
  assertEquals(pathInside("/out", "figures/a.svg"), "/out/figures/a.svg");
  assertThrows(() => pathInside("/out", "../a.svg"), UserError, "outside the output folder /out");
  assertThrows(() => pathInside("/out", "figures/../../a.svg"), UserError, "outside");
  assertThrows(() => pathInside("/out", "/etc/a.svg"), UserError, "outside");
  assertThrows(() => pathInside("/out", "."), UserError, "outside");
  assertThrows(() => pathInside("/out/", "../out2/a"), UserError, "outside");
});

Deno.test("plot, heatmap and report write only inside --out, whatever the runs' dataset says", async () => {
  const root = await Deno.makeTempDir({ prefix: "untrusted_out_" });
  try {
    // info.json's run.dataset and config.json's dataset both say "../../../escaped".
    const specs = grid([0.5, 2], [100, 200], [1], ["cross_entropy", "focal_loss"], 4)
      .map((s) => ({ ...s, dataset: "../../../escaped" }));
    await writeSyntheticRuns(`${root}/runs`, specs);
    const before = new Set(await filesUnder(root));
    for (const name of ["plot", "heatmap", "report"]) {
      const out = `${root}/a/b/c/${name}`;
      const r = await runTask(name, ["--runs", `${root}/runs`, "--out", out]);
      assertEquals(r.code, 0, r.stderr);
      const written = (await filesUnder(root)).filter((f) => !before.has(f));
      const outside = written.filter((f) => !f.startsWith(`${out}/`));
      assertEquals(outside, [], `${name} wrote outside ${out}`);
      assert(written.some((f) => f.includes("_escaped-wide_resnet50")), `${name}: ${written.join(", ")}`);
      for (const f of written) before.add(f);
    }
    // The report's Markdown links the figures it wrote.
    const md = await Deno.readTextFile(`${root}/a/b/c/report/report.md`);
    const links = [...md.matchAll(/\]\((figures\/[^)]+)\)/g)].map((m) => m[1]);
    assert(links.length > 0);
    for (const link of links) assert((await Deno.stat(`${root}/a/b/c/report/${link}`)).isFile, link);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report.md shows HTML and Markdown from run folders as text; report.html escapes it", () => {
  const evil = "<svg onload=alert(1)>";
  const info = syntheticInfo({ loss: "cross_entropy", width: 2, epochs: 100, seed: 1, checkpoints: 4 });
  const run = { ...(info.run as Record<string, unknown>), dataset: `${evil} *x* [a](javascript:b)`, model: evil };
  const runs: RunRecord[] = [{ dir: "x", info: parseRunInfo(JSON.stringify({ ...info, run }), "x/info.json") }];
  const report = buildReport(runs, [{ title: "Checks", markdown: `| run |\n| --- |\n| ${escapeMarkdown(evil)} |` }], {
    title: `${evil} | # title`,
    generated: "2020-01-01",
  });
  // Raw HTML in Markdown is any '<' not escaped by a backslash; a link or emphasis, any unescaped '[' or '*'.
  assertEquals([...report.markdown.matchAll(/(?<!\\)</g)].length, 0, report.markdown);
  assert(!/(?<!\\)\[a\]/.test(report.markdown) && !/(?<!\\)\*x/.test(report.markdown), report.markdown);
  assert(report.markdown.includes("\\<svg onload=alert(1)\\>"), report.markdown);
  assert(!report.html.includes("<svg onload"), "raw tag in report.html");
  assert(report.html.includes("<td>&lt;svg onload=alert(1)&gt;</td>"), "the section's escaped cell reads as text");
  assert(!report.html.includes('javascript:b">'), "a link was made");
});
