/** The HTML/Markdown report and the plot, heatmap and report tasks end to end. */
import assert from "node:assert/strict";
import { buildReport, parseRunInfo, type ReportSection, type RunRecord } from "../src/plot/mod.ts";
import { grid, syntheticInfo, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { assertWellFormedXml } from "./fixtures/plot/xml.ts";
import { DEFAULT_CONFIG } from "../src/train/config.ts";

const specs = grid([0.5, 2], [100, 200], [1], ["cross_entropy", "label_smoothing"], 6);
const runs: RunRecord[] = specs.map((s) => ({
  dir: "x",
  info: parseRunInfo(JSON.stringify(syntheticInfo(s)), "x"),
  config: { ...DEFAULT_CONFIG, lr: 0.1, seed: s.seed, width: s.width, loss: s.loss, extensions: [], environment: {} },
}));

const extra: ReportSection = {
  title: "Unconstrained feature model",
  markdown:
    "All losses reach **NC** with `lr = 0.1`:\n\n- CE: 1e-7\n- LS: 2e-7\n\n| loss | NC1 |\n| --- | --- |\n| CE | 1e-7 |",
  figures: [{
    kind: "line",
    name: "ufm-nc1",
    title: "UFM NC1",
    xLabel: "iteration",
    yLabel: "NC1",
    xScale: "linear",
    yScale: "log",
    series: [{
      label: "CE",
      color: "#1f77b4",
      marker: "circle",
      runs: 1,
      points: [{ x: 0, y: 1 }, { x: 10, y: 1e-4 }],
    }],
  }],
};

Deno.test("buildReport: self-contained HTML, Markdown twin, tables, extra sections", () => {
  const report = buildReport(runs, [extra], { generated: "2024-01-01" });
  const { html, markdown, figures } = report;
  // Self-contained: no scripts, no external stylesheets or images, nothing fetched.
  assert.ok(!/<script|<link|<img|src=|@import/i.test(html));
  assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), "no URLs besides the SVG namespace");
  // Dynamics of the largest setting (8) + grid figures (diff, 2 acc, variance, lines = 5) + the UFM figure.
  assert.equal(figures.length, 14);
  assert.equal((html.match(/<svg xmlns/g) ?? []).length, 14);
  for (const f of figures) {
    assertWellFormedXml(f.svg);
    assert.ok(markdown.includes(`](${f.path})`), `markdown links ${f.path}`);
    assert.match(f.path, /^figures\/[\w.-]+\.svg$/);
  }
  assert.ok(figures.some((f) => f.path === "figures/cifar100-wide_resnet50-w2-e200-nc1.svg"));
  // One table row per run, with the reference-style name and best-validation accuracy.
  assert.equal((markdown.match(/^\| wideres50-[^|]+\| cifar100 \|/gm) ?? []).length, 8);
  assert.ok(markdown.includes("| wideres50-05-ls-100-1 | cifar100 | LS (α = 0.05) | 0.5 | 100 | 1 | 100 |"));
  assert.ok(html.includes("<td>wideres50-2-ce-200-1</td>"));
  // Configuration: lr is shared, width differs.
  assert.ok(markdown.includes("| lr | 0.1 |"));
  assert.match(markdown, /Settings that differ between runs:\n\n\| run \| loss \| width \|/);
  // The extra section: markdown as is in .md, converted in .html.
  assert.ok(markdown.includes("## Unconstrained feature model\n\nAll losses reach **NC**"));
  assert.ok(html.includes("<p>All losses reach <strong>NC</strong> with <code>lr = 0.1</code>:</p>"));
  assert.ok(html.includes("<ul><li>CE: 1e-7</li><li>LS: 2e-7</li></ul>"));
  assert.ok(html.includes("<th>loss</th><th>NC1</th>"));
  assert.ok(figures.some((f) => f.path === "figures/ufm-nc1.svg"));
  // Every SVG gradient id is unique in the page.
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("buildReport: html body wins over markdown, and figure names never collide", () => {
  const twin: ReportSection = { ...extra, title: "Again", html: "<p>custom <b>html</b></p>" };
  const report = buildReport(runs.slice(0, 1), [extra, twin], { generated: "x" });
  assert.ok(report.html.includes("<p>custom <b>html</b></p>"));
  assert.ok(report.markdown.includes("## Again\n\nAll losses reach"));
  assert.deepEqual(report.figures.filter((f) => f.path.includes("ufm")).map((f) => f.path), [
    "figures/ufm-nc1.svg",
    "figures/ufm-nc1-2.svg",
  ]);
  // One run, one grid cell: no grid section.
  assert.ok(!report.markdown.includes("Width × training length"));
});

async function task(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      `tasks/${name}.ts`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("tasks: plot, heatmap and report write their files; bad input is one line, status 2", async () => {
  const root = await Deno.makeTempDir({ prefix: "plot_tasks_" });
  try {
    await writeSyntheticRuns(
      `${root}/runs`,
      specs.filter((s) => !(s.width === 0.5 && s.epochs === 200 && s.loss === "label_smoothing")),
    );
    const plot = await task("plot", [
      "--runs",
      `${root}/runs`,
      "--width",
      "2",
      "--epochs",
      "200",
      "--out",
      `${root}/fig`,
      "--format",
      "png",
      "--width-px",
      "500",
    ]);
    assert.equal(plot.code, 0, plot.stderr);
    const pngs = [...Deno.readDirSync(`${root}/fig`)].map((e) => e.name).sort();
    assert.equal(pngs.length, 8);
    assert.ok(pngs.includes("cifar100-wide_resnet50-w2-e200-nc4-ncc.png"));

    const dirs = `${root}/runs/wideres50-2-ce-100-1,${root}/runs/wideres50-2-ls-100-1`;
    const explicit = await task("plot", ["--run", dirs, "--out", `${root}/fig2`, "--no-log-nc1"]);
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.match(explicit.stdout, /2 runs → 8 figures/);

    const heat = await task("heatmap", ["--runs", `${root}/runs`, "--out", `${root}/heat`]);
    assert.equal(heat.code, 0, heat.stderr);
    assert.match(heat.stdout, /1 runs missing/);
    assert.match(heat.stdout, /width 0\.5 epochs 200 label_smoothing seed 1: no run/);
    assert.ok((await Deno.stat(`${root}/heat/cifar100-wide_resnet50-heatmap-diff-ce-ls.svg`)).isFile);

    const rep = await task("report", ["--runs", `${root}/runs`, "--out", `${root}/report`]);
    assert.equal(rep.code, 0, rep.stderr);
    const md = await Deno.readTextFile(`${root}/report/report.md`);
    for (const m of md.matchAll(/\]\((figures\/[^)]+)\)/g)) {
      assert.ok((await Deno.stat(`${root}/report/${m[1]}`)).isFile);
    }
    assert.ok((await Deno.readTextFile(`${root}/report/report.html`)).startsWith("<!doctype html>"));

    await Deno.mkdir(`${root}/empty`);
    await Deno.mkdir(`${root}/bad/r1`, { recursive: true });
    await Deno.writeTextFile(`${root}/bad/r1/info.json`, '{"run": {"model": "m"');
    const failures = [
      await task("plot", ["--runs", `${root}/missing`]),
      await task("heatmap", ["--runs", `${root}/empty`]),
      await task("report", ["--runs", `${root}/bad`]),
      await task("plot", ["--runs", `${root}/runs`, "--width", "abc"]),
      await task("plot", ["--runs", `${root}/runs`, "--format", "jpg"]),
    ];
    for (const f of failures) {
      assert.equal(f.code, 2, f.stderr);
      assert.equal(f.stderr.trim().split("\n").length, 1, f.stderr);
      assert.match(f.stderr, /^error: /);
    }
    assert.match(failures[2].stderr, /bad\/r1\/info\.json: not valid JSON/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
