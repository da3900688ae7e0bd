/**
 * `deno task sweep` as a user runs it: `--dry-run` output, bad input as one
 * line and exit status 2, and a real tiny sweep on the synthetic dataset whose
 * runs are trained and evaluated by subprocesses, then skipped on a re-run.
 */
import { assert, assertEquals } from "./_assert.ts";
import { exists, joinPath } from "../src/io.ts";
import { readManifest } from "../src/sweep/mod.ts";

import { sweep } from "./_sweep_helpers.ts";

// A small synthetic problem and a small MLP, so two runs train and evaluate in seconds on the CPU backend.
const TINY = [
  "--dataset",
  "synthetic",
  "--model",
  "mlp",
  "--losses",
  "ce,ls",
  "--widths",
  "1",
  "--epochs-list",
  "2",
  "--seeds",
  "1",
  "--synthetic-per-class",
  "20",
  "--synthetic-dim",
  "8",
  "--mlp-depth",
  "1",
  "--mlp-hidden",
  "16",
  "--save-interval",
  "1",
  // The default preset (small) keeps 100 images per class; the synthetic set here has 20.
  "--train-subset",
  "0",
  "--backend",
  "cpu",
];

Deno.test("--dry-run prints one line per run and writes nothing", async () => {
  const base = await Deno.makeTempDir();
  const root = joinPath(base, "sweep");
  const r = await sweep(["--preset", "paper-cifar10", "--runs-dir", root, "--seeds", "2", "--dry-run"]);
  assertEquals(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assertEquals(lines.length, 4 * 4 * 4);
  const mse = lines.find((l) => l.includes(" wideres50-1-mse-400-2 "));
  assert(mse, "README run wideres50-1-mse-400-2 listed");
  assert(
    mse.startsWith(
      "train    wideres50-1-mse-400-2  train --dataset cifar10 --model wide_resnet50 " +
        `--loss mean_square_error --width 1 -e 400 --seed 2 --save-path ${root}/wideres50-1-mse-400-2 --backend auto ` +
        `&& evaluate --save-path ${root}/wideres50-1-mse-400-2 --backend auto`,
    ),
    mse,
  );
  assertEquals(await exists(root), false);
  await Deno.remove(base, { recursive: true });
});

Deno.test("bad input is one line on stderr and exit status 2", async () => {
  const cases: [string[], string][] = [
    [["--preset", "nope"], "error: --preset: unknown preset 'nope'"],
    [["--widths", "0"], "error: --widths: 0 is out of range"],
    [["--epochs-list", "0,5"], "error: --epochs-list: 0 is out of range"],
    [["--losses", "hinge"], "error: --losses: unknown loss 'hinge'"],
  ];
  for (const [args, message] of cases) {
    const r = await sweep([...args, "--dry-run"]);
    assertEquals(r.code, 2, args.join(" "));
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert(r.stderr.startsWith(message), r.stderr);
  }
});

Deno.test("a tiny real sweep trains and evaluates through subprocesses, then skips on re-run", async () => {
  const base = await Deno.makeTempDir();
  const root = joinPath(base, "sweep");
  try {
    const r = await sweep(["--runs-dir", root, "--jobs", "2", ...TINY]);
    assertEquals(r.code, 0, r.stderr);
    const m = (await readManifest(root))!;
    assertEquals(Object.keys(m.runs), ["mlp-1-ce-2-1", "mlp-1-ls-2-1"]);
    for (const run of Object.values(m.runs)) {
      assertEquals(run.state, "evaluated", `${run.name}: ${run.reason}`);
      assert(run.trainSeconds > 0 && run.evaluateSeconds > 0);
      const info = JSON.parse(await Deno.readTextFile(joinPath(root, run.name, "info.json")));
      assertEquals(info.epochs, [1, 2]);
      assertEquals(info.run.loss, run.loss);
      assert((await Deno.readTextFile(joinPath(root, "logs", `${run.name}.log`))).includes("epoch 2/2"));
    }
    assert(r.stderr.includes("[2/2]"), r.stderr);

    const again = await sweep(["--runs-dir", root, ...TINY]);
    assertEquals(again.code, 0, again.stderr);
    assert(again.stderr.includes("2/2 evaluated, 0 failed, 2 skipped"), again.stderr);

    // The same folder with another grid is refused before anything runs.
    const other = await sweep(["--runs-dir", root, ...TINY.slice(0, -2), "--lr", "0.01"]);
    assertEquals(other.code, 2);
    assert(
      other.stderr.startsWith(`error: --runs-dir ${root}: its manifest.json was written by another`),
      other.stderr,
    );
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
