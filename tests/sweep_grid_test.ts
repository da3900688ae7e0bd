/**
 * Grid expansion, folder naming (every folder name of the reference README),
 * presets, and rejection of bad grids.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { parseFlags } from "../src/cli.ts";
import {
  claimsOf,
  expandGrid,
  parseLossName,
  type SweepConfig,
  sweepPreset,
  trainArguments,
  validateSweepConfig,
} from "../src/sweep/mod.ts";
import { SWEEP_FLAGS, sweepConfigFromFlags } from "../src/sweep/flags.ts";
import { widthToken } from "../src/run/naming.ts";
import { tf } from "../src/backend/mod.ts";
import { createModel } from "../src/models/mod.ts";

// Every save path of the README's training and evaluation examples.
const README_CIFAR100 = [
  "wideres50-2-ce-800-1",
  "wideres50-2-mse-800-123",
  "wideres50-1-mse-400-123",
  "wideres50-05-fl-200-321",
  "wideres50-025-ls-100-1",
  "wideres50-2-fl-800-321",
  "wideres50-2-ls-800-1",
];
const README_CIFAR10 = [
  "wideres50-2-ce-800-1",
  "wideres50-1-mse-400-2",
  "wideres50-05-fl-200-3",
  "wideres50-025-ls-100-1",
  "wideres50-2-mse-800-2",
  "wideres50-2-fl-800-3",
  "wideres50-2-ls-800-1",
];

Deno.test("paper presets expand to the README's 192-run grids with its folder names", () => {
  for (const [preset, names] of [["paper-cifar100", README_CIFAR100], ["paper-cifar10", README_CIFAR10]] as const) {
    const runs = expandGrid("wideres50_x", sweepPreset(preset));
    assertEquals(runs.length, 4 * 4 * 4 * 3);
    assertEquals(new Set(runs.map((r) => r.name)).size, runs.length);
    const have = new Set(runs.map((r) => r.name));
    for (const n of names) assert(have.has(n), `${preset} lacks ${n}`);
  }
});

Deno.test("a run's folder and train arguments match the README command", () => {
  const config: SweepConfig = {
    ...sweepPreset("paper-cifar100"),
    losses: ["focal_loss"],
    widths: [0.5],
    epochs: [200],
    seeds: [321],
  };
  const [run] = expandGrid("./wideres50_cifar100/", config);
  assertEquals(run.dir, "./wideres50_cifar100/wideres50-05-fl-200-321");
  assertEquals(
    trainArguments(config, run).join(" "),
    "--dataset cifar100 --model wide_resnet50 --loss focal_loss --width 0.5 -e 200 --seed 321 " +
      "--save-path ./wideres50_cifar100/wideres50-05-fl-200-321",
  );
});

Deno.test("medium preset: 4 × 4 grid at least, its narrowest MLP keeps K = 10 features in every hidden layer", async () => {
  const medium = sweepPreset("medium");
  validateSweepConfig(medium);
  assertEquals(medium.model, "mlp");
  assert(medium.widths.length >= 4 && medium.epochs.length >= 4, "at least 4 widths and 4 training lengths");
  await tf.setBackend("cpu");
  /** The hidden layers' widths of the preset's MLP at `width`, as the runs build it. */
  const dims = (width: number): number[] => {
    const model = createModel({
      model: "mlp",
      numClasses: 10,
      sampleShape: [28, 28, 1],
      width,
      bias: true,
      seed: 1,
      mlpDepth: medium.trainArgs["mlp-depth"] as number,
      mlpHidden: medium.trainArgs["mlp-hidden"] as number,
    });
    const out = model.layers.map((l) => l.dim);
    for (const v of [...model.store.trainable, ...model.store.buffers]) v.variable.dispose();
    return out;
  };
  const narrowest = dims(Math.min(...medium.widths));
  // At least K features at the last hidden layer (and so in every layer): a simplex ETF of K means fits.
  assert(Math.min(...narrowest) >= 10, `narrowest hidden layers ${narrowest}`);
  // Each width of the grid is a different network: no two round to the same layer size.
  const last = medium.widths.map((w) => dims(w).at(-1)!);
  assertEquals(new Set(last).size, medium.widths.length, `last hidden layers ${last}`);
});

Deno.test("other models keep their name; losses innermost in grid order", () => {
  const config: SweepConfig = {
    dataset: "synthetic",
    model: "mlp",
    losses: ["cross_entropy", "label_smoothing"],
    widths: [0.25, 1],
    epochs: [3],
    seeds: [7],
    trainArgs: {},
  };
  assertEquals(expandGrid("r", config).map((r) => r.name), [
    "mlp-025-ce-3-7",
    "mlp-025-ls-3-7",
    "mlp-1-ce-3-7",
    "mlp-1-ls-3-7",
  ]);
  assertEquals(
    expandGrid("r", { ...config, model: "resnet18", losses: ["mean_square_error"], widths: [2] })[0].name,
    "resnet18-2-mse-3-7",
  );
});

Deno.test("widths below 1e-6 get distinct, exact folder names; a width too long to name a folder is refused", () => {
  // toFixed(20) read 1e-21 and 2e-21 both as 0, and kept 6 digits of 1.0000001e-10 and 1.0000002e-10.
  const widths = [1e-21, 2e-21, 1.0000001e-10, 1.0000002e-10, 1.2345678901234567e-15, 1e-7, 0.5];
  const tokens = widths.map(widthToken);
  assertEquals(new Set(tokens).size, widths.length, tokens.join(" "));
  widths.forEach((w, i) => assertEquals(Number(`0.${tokens[i].slice(1)}`), w, tokens[i]));
  const config: SweepConfig = {
    dataset: "synthetic",
    model: "mlp",
    losses: ["cross_entropy"],
    widths: [1.0000001e-10, 1.0000002e-10],
    epochs: [3],
    seeds: [7],
    trainArgs: {},
  };
  const runs = expandGrid("r", config);
  assertEquals(runs.map((r) => r.name), ["mlp-000000000010000001-ce-3-7", "mlp-000000000010000002-ce-3-7"]);
  const e = assertThrows(() => expandGrid("r", { ...config, widths: [5e-324] }), UserError);
  assert(e.message.startsWith("--widths: 5e-324 makes a run folder name of "), e.message);
  assert(!e.message.includes("\n"), "one line");
});

Deno.test("losses are accepted by name or abbreviation", () => {
  assertEquals(parseLossName("fl"), "focal_loss");
  assertEquals(parseLossName("MSE"), "mean_square_error");
  assertEquals(parseLossName("label_smoothing"), "label_smoothing");
  assertThrows(() => parseLossName("hinge"), UserError, "unknown loss 'hinge'");
});

Deno.test("bad grids are one-line user errors naming the flag", () => {
  const bad: [string[], string][] = [
    [["--preset", "paper-imagenet"], "--preset: unknown preset 'paper-imagenet'"],
    [["--widths", "0,1"], "--widths: 0 is out of range"],
    [["--widths", "-0.5"], "--widths: -0.5 is out of range"],
    [["--widths", "abc"], "--widths: expected a decimal number"],
    [["--epochs-list", "0"], "--epochs-list: 0 is out of range"],
    [["--epochs-list", "2.5"], "--epochs-list: expected an integer"],
    [["--seeds", "-1"], "--seeds: -1 is out of range"],
    [["--losses", "ce,hinge"], "--losses: unknown loss 'hinge'"],
    [["--losses", "ce,cross_entropy"], "--losses: repeated value"],
    [["--dataset", "imagenet"], "--dataset: unknown dataset 'imagenet'"],
    [["--model", "vgg"], "--model: unknown model 'vgg'"],
    [["--mlp-hidden", "0"], "--mlp-hidden: 0 is out of range"],
  ];
  for (const [args, message] of bad) {
    const e = assertThrows(() => sweepConfigFromFlags(parseFlags(args, SWEEP_FLAGS)), UserError);
    assert(e.message.startsWith(message), `${args.join(" ")}: got '${e.message}'`);
    assert(!e.message.includes("\n"), "one line");
  }
});

Deno.test("flags override the preset; passed-through train flags join the shared arguments", () => {
  const config = sweepConfigFromFlags(
    parseFlags(["--preset", "small", "--losses", "ce,ls", "--epochs-list", "5,10", "--lr", "0.05"], SWEEP_FLAGS),
  );
  assertEquals(config.losses, ["cross_entropy", "label_smoothing"]);
  assertEquals(config.epochs, [5, 10]);
  assertEquals(config.widths, sweepPreset("small").widths);
  assertEquals(config.trainArgs["lr"], 0.05);
  assertEquals(config.trainArgs["data-aug"], false);
  // A flag the grid owns cannot be passed through.
  assertThrows(() => parseFlags(["--loss", "cross_entropy"], SWEEP_FLAGS), UserError, "unknown flag '--loss'");
});

Deno.test("grid flags replace the preset's claims by the new grid's corners; other flags keep them", () => {
  const medium = sweepPreset("medium");
  const kept = sweepConfigFromFlags(parseFlags(["--preset", "medium", "--seeds", "1,2,3"], SWEEP_FLAGS));
  assertEquals(kept.claims, medium.claims);
  const regrid = sweepConfigFromFlags(parseFlags(["--preset", "medium", "--widths", "0.5,1"], SWEEP_FLAGS));
  assertEquals(regrid.claims, undefined);
  assertEquals(claimsOf(regrid).widthContrast.from, { width: 0.5, epochs: Math.max(...medium.epochs) });
});
