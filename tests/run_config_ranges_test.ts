/**
 * `config.json` gets the same range checks as the train flags, from one
 * table (`SETTING_RANGES`): a hand-edited file with `lr: -5` or `momentum: 7`
 * is refused with one line naming the key, by every reader and by
 * `train --load`, before anything is written.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { joinPath } from "../src/io.ts";
import { formatRunConfig, parseRunConfig } from "../src/run/config.ts";
import { DEFAULT_CONFIG, SETTING_RANGES, type TrainConfig } from "../src/run/train_config.ts";
import { TRAIN_FLAGS } from "../src/train/train_flags.ts";
import { runTask } from "./_task.ts";
import { tinyConfig } from "./_train_fixture.ts";

const text = (changes: Record<string, unknown>): string => {
  const raw = JSON.parse(formatRunConfig({ ...DEFAULT_CONFIG, extensions: [], environment: {} }));
  return JSON.stringify({ ...raw, ...changes });
};

Deno.test("config.json: a value no flag accepts is refused naming the key", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ lr: -5 }, "c.json: 'lr' must be > 0, got -5"],
    [{ lr: 0 }, "c.json: 'lr' must be > 0, got 0"],
    [{ momentum: 7 }, "c.json: 'momentum' must be <= 0.9999, got 7"],
    [{ weight_decay: -1 }, "c.json: 'weight_decay' must be >= 0, got -1"],
    [{ clip_norm: -1 }, "c.json: 'clip_norm' must be >= 0, got -1"],
    [{ smoothing: 1 }, "c.json: 'smoothing' must be <= 0.999, got 1"],
    [{ rescale: 0 }, "c.json: 'rescale' must be > 0, got 0"],
    [{ gamma: -2 }, "c.json: 'gamma' must be >= 0, got -2"],
    [{ batch_size: 0 }, "c.json: 'batch_size' must be >= 1, got 0"],
    [{ synthetic_classes: 1 }, "c.json: 'synthetic_classes' must be >= 2, got 1"],
    [{ synthetic_separation: -1 }, "c.json: 'synthetic_separation' must be >= 0, got -1"],
  ];
  for (const [changes, message] of cases) {
    assertThrows(() => parseRunConfig(text(changes), "c.json"), UserError, message);
  }
  assertEquals(parseRunConfig(text({ lr: 0.05, momentum: 0 }), "c.json").lr, 0.05);
});

Deno.test("the train flags and config.json share one range per setting", () => {
  for (const [key, range] of Object.entries(SETTING_RANGES) as [keyof TrainConfig, typeof SETTING_RANGES.lr][]) {
    const spec = TRAIN_FLAGS.find((s) => s.config === key);
    assert(spec, `no train flag sets ${key}`);
    const flag = spec as { min?: number; max?: number; minExclusive?: boolean; type: string };
    assertEquals([flag.min, flag.max, flag.minExclusive], [range!.min, range!.max, range!.minExclusive], key);
    assertEquals(flag.type === "int", range!.integer === true, `${key}: integer flag vs integer range`);
  }
  // Every numeric setting a flag takes has a range.
  for (const spec of TRAIN_FLAGS) {
    if ((spec.type === "number" || spec.type === "int") && spec.config) {
      assert(SETTING_RANGES[spec.config as keyof TrainConfig], `${spec.config} has no range`);
    }
  }
});

Deno.test("deno task train --load with config.json out of range: one line naming the key, nothing written", async () => {
  const base = await Deno.makeTempDir({ prefix: "config_ranges_" });
  try {
    for (const [key, value] of [["lr", -5], ["momentum", 7], ["weight_decay", -1], ["clip_norm", -1]] as const) {
      const dir = joinPath(base, key);
      await Deno.mkdir(dir);
      const cfg = { ...tinyConfig(dir, 2), extensions: [], environment: {} };
      const config = text({ ...JSON.parse(formatRunConfig(cfg)), [key]: value });
      await Deno.writeTextFile(joinPath(dir, "config.json"), config);
      await Deno.writeTextFile(joinPath(dir, "last.ckpt"), "");
      const r = await runTask("train", ["--load", "-e", "3", "--backend", "cpu", "--save-path", dir]);
      assertEquals(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, r.stderr);
      assert(lines[0].startsWith(`error: ${dir}/config.json: '${key}' must be `), r.stderr);
      assertEquals(await Deno.readTextFile(joinPath(dir, "config.json")), config);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
