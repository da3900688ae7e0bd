/**
 * The run folder as a hostile user meets it: names that must not collide,
 * two writers at once, results that must not outlive the run or checkpoint
 * they came from, crafted and corrupted checkpoints, files left by killed
 * writers, and the formats of config.json and info.json (old ones still read).
 */
import { crc32 } from "node:zlib";
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { UserError } from "../src/errors.ts";
import { exists, joinPath, writeFileAtomic } from "../src/io.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  LockedError,
  parseRunConfig,
  parseRunInfo,
  planResume,
  readCheckpoint,
  readRunConfig,
  readRunInfo,
  runName,
  widthToken,
} from "../src/run/mod.ts";
import { datasetForConfig } from "../src/run/factories.ts";
import { expandGrid } from "../src/sweep/grid.ts";
import { evaluateRun } from "../src/evaluate/evaluate_run.ts";
import type { TrainConfig } from "../src/run/train_config.ts";
import { trainRun } from "../src/train/train.ts";
import { tinyConfig as tinyRun } from "./_train_fixture.ts";

await tf.setBackend("cpu");

/** The shared tiny run, smaller still: one hidden layer of 16 units, 3 classes in 8 dimensions, batches of 20. */
function tinyConfig(savePath: string, epochs: number, extra: Partial<TrainConfig> = {}): TrainConfig {
  const smaller = {
    mlpDepth: 1,
    mlpHidden: 16,
    width: 1,
    lr: 0.05,
    batchSize: 20,
    syntheticDim: 8,
    syntheticClasses: 3,
  };
  return tinyRun(savePath, epochs, { ...smaller, syntheticPerClass: 20, ...extra });
}

async function train(cfg: TrainConfig) {
  return await trainRun(cfg, await datasetForConfig(cfg));
}

/** A tiny run of 2 epochs trained and evaluated in a new folder, and its info.json as parsed JSON. */
async function evaluatedTinyRun() {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 2));
  await evaluateRun(dir);
  return { dir, raw: JSON.parse(await Deno.readTextFile(`${dir}/info.json`)) };
}

// ---------------------------------------------------------------- names

Deno.test("run names are injective: widths 1.5 and 15, 1.25 and 12.5 get different folders", () => {
  const widths = [0.0125, 0.125, 0.25, 0.5, 1, 1.25, 1.5, 2, 12.5, 15, 125, 1e-7];
  const tokens = widths.map(widthToken);
  assertEquals(new Set(tokens).size, widths.length, tokens.join(" "));
  assertEquals(widthToken(0.5), "05"); // the reference's spelling below 1 is kept
  assertEquals(widthToken(0.25), "025");
  assertEquals(widthToken(1.5), "1p5");
  assertEquals(widthToken(15), "15");
  assertEquals(widthToken(1e-7), "00000001");
  assertEquals(
    runName({ model: "wide_resnet50", width: 0.5, loss: "focal_loss", epochs: 200, seed: 321 }),
    "wideres50-05-fl-200-321",
  );
  const runs = expandGrid("/r", {
    dataset: "synthetic",
    model: "mlp",
    losses: ["cross_entropy"],
    widths: [1.5, 15, 1.25, 12.5],
    epochs: [2],
    seeds: [1],
    trainArgs: {},
  });
  assertEquals(new Set(runs.map((r) => r.dir)).size, 4);
});

// ---------------------------------------------------------------- one writer

Deno.test("two trainers on one folder: the second is refused and the first's run is what the folder holds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  const mse = tinyConfig(dir, 500, { loss: "mean_square_error" });
  let started: () => void = () => {};
  const holding = new Promise<void>((r) => (started = r));
  const stop = new AbortController();
  // The first trainer holds the lock from before it writes config.json until it returns (here: until stopped).
  const first = trainRun(mse, await datasetForConfig(mse), {}, { onStart: () => started(), signal: stop.signal });
  await holding;
  const e = await assertRejects(() => train(tinyConfig(dir, 3, { loss: "cross_entropy" })), LockedError);
  assert(e.message.includes(`in use by 'train' (pid ${Deno.pid}`), e.message);
  stop.abort();
  assert((await first).interrupted, "the first trainer finished before the second tried");
  assertEquals((await readRunConfig(dir)).loss, "mean_square_error");
  await assertRejects(() => train(tinyConfig(dir, 3)), UserError, "already holds a run");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate is refused while another process writes the run folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 1));
  const { acquireLock } = await import("../src/run/lock.ts");
  const lock = await acquireLock(`${dir}/.lock`, "train");
  await assertRejects(() => evaluateRun(dir), LockedError, "in use by 'train'");
  lock.release();
  await evaluateRun(dir);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a fresh train into a folder whose config.json describes another run is refused before writing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 1, { seed: 5 }));
  await Deno.remove(`${dir}/last.ckpt`); // as if killed before its first epoch ended
  const before = await Deno.readTextFile(`${dir}/config.json`);
  await assertRejects(() => train(tinyConfig(dir, 1, { seed: 6 })), UserError, "describes another run");
  assertEquals(await Deno.readTextFile(`${dir}/config.json`), before);
  await train(tinyConfig(dir, 1, { seed: 5 })); // the same run starts again
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------- stale results

Deno.test("evaluate never reuses results of another run or another checkpoint file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 2, { loss: "cross_entropy" }));
  const ce = await evaluateRun(dir);
  assertEquals(ce.run.loss, "cross_entropy");
  // Retrain the folder with another loss: everything but info.json goes, as a user would clear it.
  for (const e of Deno.readDirSync(dir)) if (e.name !== "info.json") await Deno.remove(`${dir}/${e.name}`);
  await train(tinyConfig(dir, 2, { loss: "mean_square_error" }));
  let measured = -1;
  const mse = await evaluateRun(dir, { onStart: (todo) => (measured = todo) });
  assertEquals(measured, 2, "rows of the cross-entropy run were reused");
  assertEquals(mse.run.loss, "mean_square_error");
  assert(mse.metrics.train_loss![1] !== ce.metrics.train_loss![1]);
  // A second evaluation reuses everything; a checkpoint whose checksum no longer matches is measured again.
  await evaluateRun(dir, { onStart: (todo) => (measured = todo) });
  assertEquals(measured, 0);
  const raw = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
  raw.checkpoints[0].crc32 = (raw.checkpoints[0].crc32 + 1) % 2 ** 32;
  await Deno.writeTextFile(`${dir}/info.json`, JSON.stringify(raw));
  await evaluateRun(dir, { onStart: (todo) => (measured = todo) });
  assertEquals(measured, 1);
  // A different way of measuring (augmentation is off for vectors; projection differs) is measured again.
  await evaluateRun(dir, { projection: "float32", onStart: (todo) => (measured = todo) });
  assertEquals(measured, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an info.json with a non-numeric epoch is refused in one line, and replaced under --force", async () => {
  const { dir, raw } = await evaluatedTinyRun();
  raw.epochs = "14";
  await Deno.writeTextFile(`${dir}/info.json`, JSON.stringify(raw));
  await assertRejects(() => evaluateRun(dir), UserError, 'info.json: "epochs" must be an array of positive integers');
  const info = await evaluateRun(dir, { force: true });
  assertEquals(info.epochs, [1, 2]);
  assert(info.metrics.nc1!.every((v) => typeof v === "number"));
  for (const bad of [[2, 1], [1, 1], [0, 1], [1.5]]) {
    assertThrows(() => parseRunInfo(JSON.stringify({ ...raw, epochs: bad }), "i.json"), UserError, "i.json");
  }
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------- checkpoints

/** A format-2 checkpoint with an arbitrary header, both checksums correct (so only validation can catch it). */
function craft(header: unknown, payload = new Uint8Array(8)): Uint8Array {
  const full = { payload_bytes: payload.length, payload_crc32: crc32(payload), ...(header as object) };
  let text = JSON.stringify(full);
  text += " ".repeat((4 - (text.length % 4)) % 4);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(16 + h.length + payload.length);
  out.set(new TextEncoder().encode("NCLCKPT2"));
  new DataView(out.buffer).setUint32(8, h.length, true);
  new DataView(out.buffer).setUint32(12, crc32(h), true);
  out.set(h, 16);
  out.set(payload, 16 + h.length);
  return out;
}

Deno.test("checkpoints: a flipped byte anywhere is caught by the checksums, naming the file", () => {
  const bytes = encodeCheckpoint([{ name: "w", shape: [2, 3], values: new Float32Array([1, 2, 3, 4, 5, 6]) }], {
    epoch: 1,
  });
  assertEquals(decodeCheckpoint(bytes, "a.ckpt").tensors.get("w")!.values[5], 6);
  const flip = (at: number) => {
    const b = bytes.slice();
    b[at] ^= 0x01;
    return b;
  };
  assertThrows(
    () => decodeCheckpoint(flip(bytes.length - 1), "a.ckpt"),
    UserError,
    "a.ckpt: not a valid checkpoint (payload checksum",
  );
  assertThrows(() => decodeCheckpoint(flip(20), "a.ckpt"), UserError, "header checksum");
  assertThrows(() => decodeCheckpoint(flip(13), "a.ckpt"), UserError, "header checksum");
  assertThrows(() => decodeCheckpoint(flip(0), "a.ckpt"), UserError, "wrong magic");
  assertThrows(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), "a.ckpt"), UserError, "a.ckpt");
});

Deno.test("checkpoints: crafted headers end in one line each", () => {
  const t = (tensors: unknown, meta: unknown = {}) => craft({ meta, tensors });
  const cases: [Uint8Array, string][] = [
    [t(null), "no 'tensors' list"],
    [t([{ name: "w", shape: [2], offset: 0 }], null), "no 'meta' object"],
    [t([{ name: "w", shape: [2], offset: -4 }]), "offset -4"],
    [t([{ name: "w", shape: [2], offset: 2 }]), "offset 2"],
    [t([{ name: "w", shape: [2], offset: 8 }]), "runs past the end"],
    [t([{ name: "w", shape: [-1, 2], offset: 0 }]), "shape [-1,2]"],
    [t([{ name: "w", shape: [1e300], offset: 0 }]), "shape"],
    [t([{ name: "w", shape: [65536, 65536], offset: 0 }]), "more than any tensor may hold"],
    [t([{ name: "w", shape: ["2"], offset: 0 }]), "shape"],
    [t([{ shape: [2], offset: 0 }]), "has no name"],
    [t([{ name: "w", shape: [1], offset: 0 }, { name: "w", shape: [1], offset: 4 }]), "appears twice"],
    [craft({ meta: {}, tensors: [], payload_bytes: 4 }), "the header says 4"],
    [craft({ meta: {}, tensors: [], payload_crc32: null }), "no payload checksum"],
  ];
  for (const [bytes, why] of cases) assertThrows(() => decodeCheckpoint(bytes, "c.ckpt"), UserError, why);
  const huge = craft({ meta: {}, tensors: [] });
  new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
  assertThrows(() => decodeCheckpoint(huge, "c.ckpt"), UserError, "implausible");
});

Deno.test("--load refuses a last.ckpt whose epoch lies outside the run, without writing anything", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 2));
  const last = await readCheckpoint(`${dir}/last.ckpt`);
  for (const epoch of [-5, 3, 1.5, "1", null]) {
    await Deno.writeFile(`${dir}/last.ckpt`, encodeCheckpoint([...last.tensors.values()], { ...last.meta, epoch }));
    const listing = [...Deno.readDirSync(dir)].map((e) => e.name).sort().join();
    await assertRejects(
      () => planResume({ ...tinyConfig(dir, 4), load: true }, { epochs: 4 }),
      UserError,
      "last.ckpt: not a valid checkpoint (epoch",
    );
    await assertRejects(() => train(tinyConfig(dir, 2, { load: true })), UserError, "not an integer in [0, 2]");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort().join(), listing);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate refuses a corrupt or mislabelled checkpoint in one line naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 2));
  const bytes = await Deno.readFile(`${dir}/epoch-0002.ckpt`);
  bytes[bytes.length - 3] ^= 0x40;
  await Deno.writeFile(`${dir}/epoch-0002.ckpt`, bytes);
  await assertRejects(() => evaluateRun(dir), UserError, "epoch-0002.ckpt: not a valid checkpoint (payload checksum");
  await Deno.copyFile(`${dir}/epoch-0001.ckpt`, `${dir}/epoch-0002.ckpt`);
  await assertRejects(() => evaluateRun(dir), UserError, "epoch-0002.ckpt: not a valid checkpoint (epoch 1");
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------- interruption

Deno.test("a run stopped mid-epoch and resumed ends bit-identical to an uninterrupted one", async () => {
  const a = await Deno.makeTempDir({ prefix: "run_" });
  const b = await Deno.makeTempDir({ prefix: "run_" });
  const cfgA = tinyConfig(a, 3);
  await trainRun(cfgA, await datasetForConfig(cfgA));
  const cfgB = tinyConfig(b, 3);
  const stop = new AbortController();
  const first = await trainRun(cfgB, await datasetForConfig(cfgB), {}, {
    signal: stop.signal,
    onBatch: (epoch, batch) => epoch === 2 && batch === 2 && stop.abort(),
  });
  assertEquals(first.interrupted, { epoch: 1, batch: 2 });
  assertEquals((await readCheckpoint(`${b}/last.ckpt`)).meta.epoch, 1);
  const plan = await planResume({ ...cfgB, load: true }, {});
  assertEquals(plan.completedEpochs, 1);
  let start: unknown = null;
  await trainRun(plan.config, await datasetForConfig(plan.config), {}, { onStart: (s) => (start = s.startBatch) });
  assertEquals(start, 2);
  const [wa, wb] = [await readCheckpoint(`${a}/last.ckpt`), await readCheckpoint(`${b}/last.ckpt`)];
  assertEquals([...wb.tensors.keys()], [...wa.tensors.keys()]);
  for (const [name, t] of wa.tensors) assertEquals(wb.tensors.get(name)!.values, t.values, name);
  const strip = (text: string) => text.trim().split("\n").map((l) => ({ ...JSON.parse(l), seconds: 0 }));
  assertEquals(strip(await Deno.readTextFile(`${b}/log.jsonl`)), strip(await Deno.readTextFile(`${a}/log.jsonl`)));
  await Deno.remove(a, { recursive: true });
  await Deno.remove(b, { recursive: true });
});

// ---------------------------------------------------------------- temporary files and errors

Deno.test("temporary files of killed writers are removed by the next writer, and errors name the target", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 1));
  await Deno.writeTextFile(`${dir}/last.ckpt.tmp-999999-0123abcd`, "half a checkpoint");
  await Deno.writeTextFile(`${dir}/notes.tmp-mine.txt`, "a user's file");
  await evaluateRun(dir);
  assert(!(await exists(`${dir}/last.ckpt.tmp-999999-0123abcd`)));
  assert(await exists(`${dir}/notes.tmp-mine.txt`), "a file that is not ours was removed");
  const target = joinPath(dir, "no-such-folder", "x.json");
  const e = await assertRejects(() => writeFileAtomic(target, "{}"), UserError, `${target}: cannot write`);
  assert(!e.message.includes(".tmp-"), e.message);
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------- formats

Deno.test("config.json: format 2 is snake_case and round-trips; the previous camelCase layout is still read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  const cfg = tinyConfig(dir, 1, { weightDecay: 1e-3, lrScheduler: "cos" });
  await train(cfg);
  const raw = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assertEquals(raw.format, 2);
  assertEquals(raw.weight_decay, 1e-3);
  assertEquals(raw.lr_scheduler, "cos");
  assert(!("weightDecay" in raw) && typeof raw.environment === "object");
  const back = await readRunConfig(dir);
  assertEquals({ ...back, extensions: undefined, environment: undefined }, {
    ...cfg,
    load: false,
    extensions: undefined,
    environment: undefined,
  });
  // The previous version's file: camelCase, environment at the top level, backend overwritten.
  const old = { ...cfg, backend: "tensorflow", versions: { deno: "2" }, started: "then" };
  const parsed = parseRunConfig(JSON.stringify(old), "old.json");
  assertEquals(parsed.weightDecay, 1e-3);
  assertEquals(parsed.environment.backend, "tensorflow");
  assertEquals(parsed.environment.versions, { deno: "2" });
  for (
    const [bad, why] of [
      [{ ...raw, epochs: "3" }, "'epochs' must be a number"],
      [{ ...raw, width: -1 }, "'width' must be > 0, got -1"],
      [{ ...raw, seed: 1.5 }, "'seed' must be an integer, got 1.5"],
      [{ ...raw, loss: "hinge" }, "'loss' is not one of"],
      [{ ...raw, format: 7 }, "config format 7"],
      [{ ...raw, width: 1e308 }, "'width' must be <= 16"],
      [{ ...raw, mlp_depth: 0 }, "'mlp_depth' must be >= 1, got 0"],
      [{ ...raw, extensions: [{}] }, "'extensions'"],
    ] as const
  ) assertThrows(() => parseRunConfig(JSON.stringify(bad), "c.json"), UserError, why);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("info.json: format 2 ties rows to checkpoints; the previous format is still read", async () => {
  const { dir, raw } = await evaluatedTinyRun();
  assertEquals(raw.format, 2);
  assertEquals(raw.checkpoints.length, 2);
  assertEquals(raw.checkpoints[1].bytes, (await Deno.stat(`${dir}/epoch-0002.ckpt`)).size);
  assertEquals(raw.trained_with.loss, "cross_entropy");
  assert(!("epochs" in raw.trained_with), "the run's length is not part of its identity (runs can be extended)");
  const info = await readRunInfo(dir);
  // The previous version wrote no format, no trained_with, no checkpoints: still read, for plots and reports.
  const { format: _, trained_with: __, checkpoints: ___, eval_projection: ____, ...old } = raw;
  const back = parseRunInfo(JSON.stringify(old), "old.json");
  assertEquals(back.metrics, info.metrics);
  assertEquals(back.trainedWith, undefined);
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------- the sweep's side

Deno.test("sweep: widths 1.5 and 15 train and evaluate two folders, and a folder of another run is refused", async () => {
  const { sweep } = await import("./_sweep_helpers.ts");
  const root = await Deno.makeTempDir({ prefix: "run_sweep_" });
  const grid = [
    ...["--dataset", "synthetic", "--model", "mlp", "--mlp-hidden", "4", "--mlp-depth", "1", "--losses", "ce"],
    ...[
      "--epochs-list",
      "2",
      "--seeds",
      "1",
      "--synthetic-per-class",
      "10",
      "--synthetic-dim",
      "8",
      "--backend",
      "cpu",
    ],
    ...["--train-subset", "10"],
  ];
  const r = await sweep(["--runs-dir", root, ...grid, "--widths", "1.5,15"]);
  assertEquals(r.code, 0, r.stderr);
  for (const [name, width] of [["mlp-1p5-ce-2-1", 1.5], ["mlp-15-ce-2-1", 15]] as const) {
    assertEquals((await readRunConfig(`${root}/${name}`)).width, width);
    assertEquals((await readRunInfo(`${root}/${name}`)).run.width, width);
  }
  // A folder whose config.json is another grid point's: the sweep stops before writing anything.
  const other = await Deno.makeTempDir({ prefix: "run_sweep_" });
  await Deno.mkdir(`${other}/mlp-2-ce-2-1`);
  await Deno.copyFile(`${root}/mlp-15-ce-2-1/config.json`, `${other}/mlp-2-ce-2-1/config.json`);
  const refused = await sweep(["--runs-dir", other, ...grid, "--widths", "2"]);
  assertEquals(refused.code, 2, refused.stderr);
  assertEquals(refused.stderr.trim().split("\n").length, 1, refused.stderr);
  assert(refused.stderr.includes("mlp-2-ce-2-1/config.json: holds a run with width 15"), refused.stderr);
  assertEquals([...Deno.readDirSync(`${other}/mlp-2-ce-2-1`)].map((e) => e.name), ["config.json"]);
  await Deno.remove(root, { recursive: true });
  await Deno.remove(other, { recursive: true });
});

Deno.test("evaluate refuses a config.json edited to a model beyond this machine's memory, in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_" });
  await train(tinyConfig(dir, 1));
  const raw = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...raw, mlp_hidden: 2_000_000, mlp_depth: 2 }));
  await assertRejects(() => evaluateRun(dir), UserError, "--mlp-hidden: the MLP's weights");
  assert(!(await exists(`${dir}/info.json`)));
  await Deno.remove(dir, { recursive: true });
});
