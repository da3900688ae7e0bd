/**
 * Resuming a run (`--load`): the run's config.json decides the model, data and
 * schedule; a larger -e extends the run and updates config.json; a finished
 * run trains nothing; a model that cannot take the data leaves no folder.
 * Library checks first, then `tasks/train.ts` as a subprocess.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { tf } from "../src/backend/tf.ts";
import { UserError } from "../src/errors.ts";
import { exists, joinPath } from "../src/io.ts";
import { encodeCheckpoint, readCheckpoint, readCheckpointHeader } from "../src/run/checkpoint.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { planResume } from "../src/run/resume.ts";
import { trainRun } from "../src/train/train.ts";
import { tinyConfig, tinyData } from "./_train_fixture.ts";
import { runTask } from "./_task.ts";

await tf.setBackend("cpu");

const runConfig = (savePath: string, epochs: number) => tinyConfig(savePath, epochs, { width: 0.5 });

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));
const logEpochs = async (dir: string) =>
  (await Deno.readTextFile(joinPath(dir, "log.jsonl"))).trim().split("\n").map((l) => JSON.parse(l).epoch);

Deno.test("planResume: the run's settings win over given flags, -e may only raise the epochs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "resume_" });
  try {
    await trainRun(runConfig(dir, 2), tinyData());
    const current = { ...DEFAULT_CONFIG, savePath: dir, load: true, backend: "cpu" as const, testBatchSize: 7 };
    const plan = await planResume(current, { epochs: 4, width: 1, lr: 0.05, backend: "cpu", testBatchSize: 7 });
    assertEquals(plan.config, { ...runConfig(dir, 4), load: true, testBatchSize: 7 });
    assertEquals([plan.completedEpochs, plan.runEpochs], [2, 2]);
    assertEquals(plan.ignored, [{ key: "width", given: 1, run: 0.5 }, { key: "lr", given: 0.05, run: 0.1 }]);

    const lower = await planResume(current, { epochs: 1 });
    assertEquals(lower.config.epochs, 2);
    assertEquals(lower.ignored, [{ key: "epochs", given: 1, run: 2 }]);
    // Nothing given: nothing ignored, and the flag defaults (800 epochs, width 2) do not leak in.
    const none = await planResume(current, {});
    assertEquals([none.config.epochs, none.config.width, none.ignored.length], [2, 0.5, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extending a run trains only the new epochs and rewrites config.json's epochs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "resume_" });
  try {
    await trainRun(runConfig(dir, 2), tinyData(), { dataset_summary: "kept" });
    const plan = await planResume({ ...runConfig(dir, 800), load: true }, { epochs: 4 });
    let extendedFrom: number | null = null;
    const { records } = await trainRun(plan.config, tinyData(), {}, {
      onStart: (info) => (extendedFrom = info.extendedFrom),
    });
    assertEquals(extendedFrom, 2);
    assertEquals(records.map((r) => r.epoch), [1, 2, 3, 4]);
    assertEquals(await logEpochs(dir), [1, 2, 3, 4]);
    assertEquals((await readCheckpoint(joinPath(dir, "last.ckpt"))).meta.epoch, 4);
    const config = await readJson(joinPath(dir, "config.json"));
    assertEquals(config.epochs, 4);
    assertEquals(config.extensions, [{ from_epochs: 2, to_epochs: 4, at_epoch: 2 }]);
    assertEquals(config.environment.dataset_summary, "kept");
    assert(![...Deno.readDirSync(dir)].some((e) => e.name.includes(".tmp-")), "a temporary file was left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainRun refuses to resume with settings the run was not trained with, naming them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "resume_" });
  try {
    await trainRun(runConfig(dir, 2), tinyData());
    const before = await Deno.readTextFile(joinPath(dir, "config.json"));
    await assertRejects(
      () => trainRun({ ...runConfig(dir, 3), width: 2, load: true }, tinyData()),
      UserError,
      "asked for width 2 (the run's: 0.5)",
    );
    await assertRejects(
      () => trainRun({ ...runConfig(dir, 1), load: true }, tinyData()),
      UserError,
      "epochs 1 (the run's: 2)",
    );
    assertEquals(await Deno.readTextFile(joinPath(dir, "config.json")), before);
    assertEquals(await logEpochs(dir), [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model that cannot take the data fails before the run folder is created", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "resume_" });
  try {
    const dir = joinPath(tmp, "runs", "x1");
    await assertRejects(
      () => trainRun({ ...runConfig(dir, 2), model: "resnet18" }, tinyData()),
      UserError,
      "needs image data",
    );
    assertEquals(await exists(joinPath(tmp, "runs")), false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("readCheckpointHeader reads the header only and rejects a cut header", async () => {
  const dir = await Deno.makeTempDir({ prefix: "resume_" });
  try {
    const bytes = encodeCheckpoint([{ name: "w", shape: [3], values: new Float32Array([1, 2, 3]) }], { epoch: 9 });
    await Deno.writeFile(joinPath(dir, "a.ckpt"), bytes);
    assertEquals((await readCheckpointHeader(joinPath(dir, "a.ckpt"))).meta, { epoch: 9 });
    await Deno.writeFile(joinPath(dir, "cut.ckpt"), bytes.subarray(0, 20));
    await assertRejects(() => readCheckpointHeader(joinPath(dir, "cut.ckpt")), UserError, "truncated header");
    await assertRejects(() => readCheckpointHeader(joinPath(dir, "none.ckpt")), UserError, "checkpoint not found");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- the task, as a subprocess ---

const TINY = [
  "--backend",
  "cpu",
  "--dataset",
  "synthetic",
  "--model",
  "mlp",
  "--mlp-depth",
  "2",
  "--mlp-hidden",
  "32",
  "--synthetic-per-class",
  "20",
];

async function train(args: string[]): Promise<{ code: number; lines: string[] }> {
  const out = await runTask("train", args);
  return { code: out.code, lines: out.stderr.split("\n").filter((l) => l.trim() !== "") };
}

Deno.test("deno task train --load: extends with a larger -e, keeps the run's settings, trains nothing when done", async () => {
  const dir = joinPath(await Deno.makeTempDir({ prefix: "resume_task_" }), "syn");
  try {
    const first = await train([...TINY, "-e", "2", "--width", "0.5", "--save-path", dir]);
    assertEquals(first.code, 0, first.lines.join("\n"));

    // No --width, no model flags: the run's config.json supplies them (no shape error), -e 3 extends it.
    const extend = await train(["--load", "-e", "3", "--backend", "cpu", "--save-path", dir]);
    assertEquals(extend.code, 0, extend.lines.join("\n"));
    assert(
      extend.lines.includes(
        `extending ${dir} from 2 to 3 epochs (config.json updated); epochs 3-3 follow the learning-rate schedule ` +
          `of a 3-epoch run`,
      ),
      extend.lines.join("\n"),
    );
    assert(extend.lines.some((l) => l.startsWith("train: mlp width 0.5, cross_entropy, 3 epochs")), extend.lines[0]);
    assertEquals(extend.lines.filter((l) => l.startsWith("note:")), []);
    assertEquals((await readJson(joinPath(dir, "config.json"))).epochs, 3);
    assertEquals(await logEpochs(dir), [1, 2, 3]);

    // A finished run: -e below its epochs and a different --lr are reported, nothing is trained.
    const last = await Deno.readFile(joinPath(dir, "last.ckpt"));
    const log = await Deno.readTextFile(joinPath(dir, "log.jsonl"));
    const again = await train(["--load", "-e", "2", "--lr", "0.05", "--no-bias", "--save-path", dir]);
    assertEquals(again.code, 0, again.lines.join("\n"));
    assertEquals(again.lines, [
      "note: --epochs 2 differs from the run's config (3); using the run's config",
      "note: --lr 0.05 differs from the run's config (0.1); using the run's config",
      "note: --no-bias differs from the run's config (true); using the run's config",
      `nothing to train: ${dir} is already at epoch 3 of 3; pass -e above 3 to extend it`,
    ]);
    assertEquals(await Deno.readFile(joinPath(dir, "last.ckpt")), last);
    assertEquals(await Deno.readTextFile(joinPath(dir, "log.jsonl")), log);
    assertEquals((await readJson(joinPath(dir, "config.json"))).epochs, 3);

    // Flags that differ are reported and the run's values used while training goes on.
    const wider = await train(["--load", "-e", "4", "--width", "1", "--backend", "cpu", "--save-path", dir]);
    assertEquals(wider.code, 0, wider.lines.join("\n"));
    assertEquals(wider.lines[0], "note: --width 1 differs from the run's config (0.5); using the run's config");
    assertEquals(await logEpochs(dir), [1, 2, 3, 4]);
    const config = await readJson(joinPath(dir, "config.json"));
    assertEquals([config.epochs, config.width], [4, 0.5]);
    assertEquals(config.extensions.map((e: { to_epochs: number }) => e.to_epochs), [3, 4]);
  } finally {
    await Deno.remove(joinPath(dir, ".."), { recursive: true });
  }
});

Deno.test("deno task train: resnet18 on synthetic vectors exits 2 in one line and leaves no folder", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "resume_task_" });
  try {
    const dir = joinPath(tmp, "x1");
    const r = await train(["--dataset", "synthetic", "--model", "resnet18", "--backend", "cpu", "--save-path", dir]);
    assertEquals(r.code, 2);
    assertEquals(r.lines.filter((l) => l.startsWith("error:")), [
      "error: --model resnet18 needs image data; the dataset has samples of shape [32]",
    ]);
    assertEquals([...Deno.readDirSync(tmp)], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
