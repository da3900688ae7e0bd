/** `deno task ufm` end to end as a subprocess: a small run writes `ufm.json` and SVGs; bad input exits 2 in one line. */
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { joinPath } from "../src/io.ts";
import { runTask } from "./_task.ts";

/** `deno task ufm <args>` with the task's own permissions from deno.json. */
function ufmTask(args: string[]) {
  return runTask("ufm", args);
}

Deno.test("deno task ufm: a small run without sweeps writes ufm.json and one SVG per figure", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ufm_task_" });
  try {
    const r = await ufmTask(["--K", "4", "--d", "6", "--n", "5", "--no-sweep", "--out", tmp]);
    assertEquals(r.code, 0, r.stderr);
    const rec = JSON.parse(await Deno.readTextFile(joinPath(tmp, "ufm.json")));
    assertEquals(rec.task, "ufm");
    assertEquals(rec.runs.map((x: { options: { loss: string } }) => x.options.loss), [
      "cross_entropy",
      "label_smoothing",
      "focal_loss",
      "mean_square_error",
    ]);
    for (const run of rec.runs) {
      assert(run.nc.nc1 < 1e-6 && run.nc.nc2 < 1e-4 && typeof run.nc.nc4_bias === "number", JSON.stringify(run.nc));
    }
    assertEquals(rec.sweeps, { gamma: [], smoothing: [], lambda: [] });
    const svgs: string[] = [];
    for await (const e of Deno.readDir(tmp)) if (e.name.endsWith(".svg")) svgs.push(e.name);
    assertEquals(svgs.sort(), rec.figures.map((f: { name: string }) => `${f.name}.svg`).sort());
    assert(svgs.includes("ufm-dynamics-nc2.svg"));
    assertMatch(await Deno.readTextFile(joinPath(tmp, "ufm-dynamics-nc2.svg")), /^<svg[^>]*xmlns=/);
    assertMatch(r.stdout, /NC4/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task ufm: d < K − 1 exits 2 with one error line naming the flag, writing nothing", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ufm_task_" });
  try {
    const r = await ufmTask(["--K", "4", "--d", "2", "--no-sweep", "--out", joinPath(tmp, "out")]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stderr.trim(), "error: --d: must be an integer >= K - 1 = 3, got 2");
    assertEquals([...Deno.readDirSync(tmp)], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task ufm: parameters that overflow float64 exit 2 in one line, writing no nulls", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ufm_task_" });
  try {
    const r = await ufmTask(["--K", "4", "--d", "6", "--n", "5", "--no-sweep", "--rescale", "1e300", "--out", tmp]);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /^error: the UFM solves overflowed: ufm\.runs\[3\]\.\w+ = (Infinity|NaN)/m);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assertEquals([...Deno.readDirSync(tmp)], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
