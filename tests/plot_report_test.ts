/** The HTML/Markdown report and the plot, heatmap and report tasks end to end. */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { buildReport, parseRunInfo, type ReportSection, type RunRecord } from "../src/plot/mod.ts";
import { grid, syntheticInfo, writeSyntheticRuns } from "./fixtures/plot/synthetic_runs.ts";
import { assertWellFormedXml } from "./fixtures/plot/xml.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { runTask } from "./_task.ts";

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
  assert(!/<script|<link|<img|src=|@import/i.test(html));
  assert(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), "no URLs besides the SVG namespace");
  // Dynamics of the largest setting (8) + grid figures (diff, 2 acc, variance, lines = 5) + the UFM figure.
  assertEquals(figures.length, 14);
  assertEquals((html.match(/<svg xmlns/g) ?? []).length, 14);
  for (const f of figures) {
    assertWellFormedXml(f.svg);
    assert(markdown.includes(`](${f.path})`), `markdown links ${f.path}`);
    assertMatch(f.path, /^figures\/[\w.-]+\.svg$/);
  }
  assert(figures.some((f) => f.path === "figures/cifar100-wide_resnet50-w2-e200-nc1.svg"));
  // One table row per run, with the reference-style name and best-validation accuracy.
  assertEquals((markdown.match(/^\| wideres50-[^|]+\| cifar100 \|/gm) ?? []).length, 8);
  assert(markdown.includes("| wideres50-05-ls-100-1 | cifar100 | LS (α = 0.05) | 0.5 | 100 | 1 | 100 |"));
  assert(html.includes("<td>wideres50-2-ce-200-1</td>"));
  // Configuration: lr is shared, width differs.
  assert(markdown.includes("| lr | 0.1 |"));
  assertMatch(markdown, /Settings that differ between runs:\n\n\| run \| loss \| width \|/);
  // The extra section: markdown as is in .md, converted in .html.
  assert(markdown.includes("## Unconstrained feature model\n\nAll losses reach **NC**"));
  assert(html.includes("<p>All losses reach <strong>NC</strong> with <code>lr = 0.1</code>:</p>"));
  assert(html.includes("<ul><li>CE: 1e-7</li><li>LS: 2e-7</li></ul>"));
  assert(html.includes("<th>loss</th><th>NC1</th>"));
  assert(figures.some((f) => f.path === "figures/ufm-nc1.svg"));
  // Every SVG gradient id is unique in the page.
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assertEquals(new Set(ids).size, ids.length);
});

Deno.test("buildReport: an Environment section with the CPU, threads, versions and commit of the runs", () => {
  const machine = (cpu: string, commit: string) => ({
    backend: "tensorflow",
    versions: { tfjs_core: "4.22.0", tensorflow: "2.16.2", deno: "2.9.6" },
    cpu_model: cpu,
    logical_cpus: 2,
    threads: { tf_intra_op: 1, tf_inter_op: "default" },
    package: { name: "@nc-losses/nc-losses", version: "0.1.0" },
    git_commit: commit,
    dataset_summary: { train: 100 },
    started: "2024-01-01T00:00:00Z",
  });
  const withEnv = runs.map((r, i) => ({
    ...r,
    config: { ...r.config!, environment: machine(i === 0 ? "AMD EPYC 7B13" : "Intel(R) Xeon(R)", "f".repeat(40)) },
  }));
  const { markdown, html } = buildReport(withEnv, [], { generated: "2024-01-01" });
  assert(markdown.includes("## Environment"));
  for (
    const row of ["| threads.tf_intra_op | 1 |", "| package.version | 0.1.0 |", "| versions.tensorflow | 2.16.2 |"]
  ) {
    assert(markdown.includes(row), row);
  }
  assert(markdown.includes(`| git_commit | ${"f".repeat(40)} |`));
  // The CPU model differs between runs, so it is a column of the varying table; the start time is left out.
  assertMatch(markdown, /What differs between runs:\n\n\| run \| cpu_model \|\n/);
  assert(markdown.includes("| AMD EPYC 7B13 |") && !markdown.includes("started"));
  assert(html.includes("<td>Intel(R) Xeon(R)</td>"));
  // Runs without a recorded machine get no such section.
  assert(!buildReport(runs, [], { generated: "2024-01-01" }).markdown.includes("## Environment"));
});

Deno.test("buildReport: both documents come from one description, and figure names never collide", () => {
  const twin: ReportSection = { ...extra, title: "Again" };
  const report = buildReport(runs.slice(0, 1), [extra, twin], { generated: "x" });
  assert(report.markdown.includes("## Again\n\nAll losses reach"));
  assert(report.html.includes("<h2>Again</h2>\n<p>All losses reach <strong>NC</strong>"));
  // The same table in both: every Markdown row of the final-metrics table is a row of the HTML table.
  const mdRows = report.markdown.split("\n").filter((l) => l.startsWith("| wideres50"));
  assertEquals(mdRows.length, 1);
  const cells = mdRows[0].split("|").slice(1, -1).map((c) => c.trim());
  assert(report.html.includes(`<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`), mdRows[0]);
  assertEquals(report.figures.filter((f) => f.path.includes("ufm")).map((f) => f.path), [
    "figures/ufm-nc1.svg",
    "figures/ufm-nc1-2.svg",
  ]);
  // One run, one grid cell: no grid section.
  assert(!report.markdown.includes("Width × training length"));
});

/** `deno task <name> <args>` with the task's own permissions from deno.json. */
const task = (name: string, args: string[]) => runTask(name, args);

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
    assertEquals(plot.code, 0, plot.stderr);
    const pngs = [...Deno.readDirSync(`${root}/fig`)].map((e) => e.name).sort();
    assertEquals(pngs.length, 8);
    assert(pngs.includes("cifar100-wide_resnet50-w2-e200-nc4-ncc.png"));

    const dirs = `${root}/runs/wideres50-2-ce-100-1,${root}/runs/wideres50-2-ls-100-1`;
    const explicit = await task("plot", ["--run", dirs, "--out", `${root}/fig2`, "--no-log-nc1"]);
    assertEquals(explicit.code, 0, explicit.stderr);
    assertMatch(explicit.stdout, /2 runs → 8 figures/);

    const heat = await task("heatmap", ["--runs", `${root}/runs`, "--out", `${root}/heat`]);
    assertEquals(heat.code, 0, heat.stderr);
    assertMatch(heat.stdout, /1 runs missing/);
    assertMatch(heat.stdout, /width 0\.5 epochs 200 label_smoothing seed 1: no run/);
    assert((await Deno.stat(`${root}/heat/cifar100-wide_resnet50-heatmap-diff-ce-ls.svg`)).isFile);

    const rep = await task("report", ["--runs", `${root}/runs`, "--out", `${root}/report`]);
    assertEquals(rep.code, 0, rep.stderr);
    const md = await Deno.readTextFile(`${root}/report/report.md`);
    for (const m of md.matchAll(/\]\((figures\/[^)]+)\)/g)) {
      assert((await Deno.stat(`${root}/report/${m[1]}`)).isFile);
    }
    assert((await Deno.readTextFile(`${root}/report/report.html`)).startsWith("<!doctype html>"));

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
      assertEquals(f.code, 2, f.stderr);
      assertEquals(f.stderr.trim().split("\n").length, 1, f.stderr);
      assertMatch(f.stderr, /^error: /);
    }
    assertMatch(failures[2].stderr, /bad\/r1\/info\.json: not valid JSON/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
