import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  checkPathFlags,
  defineFlags,
  fileSystemErrorLine,
  type FlagSpec,
  helpText,
  oneLine,
  parseFlags,
  repositoryPath,
} from "../src/cli.ts";
import { configFromFlags, TRAIN_FLAGS } from "../src/train/train_flags.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../src/run/train_config.ts";
import { UserError } from "../src/errors.ts";
import { runTask } from "./_task.ts";

// Every train command of the reference README, verbatim after `python train.py`.
const README_TRAIN = [
  "--bias --loss cross_entropy --save-path ./wideres50_cifar100/wideres50-2-ce-800-1/ --seed 1 --width 2 -e 800 --model wide_resnet50 --dataset cifar100",
  "--bias --loss mean_square_error --save-path ./wideres50_cifar100/wideres50-1-mse-400-123/ --seed 123 --width 1 -e 400 --model wide_resnet50 --dataset cifar100",
  "--bias --loss focal_loss --save-path ./wideres50_cifar100/wideres50-05-fl-200-321/ --seed 321 --width 0.5 -e 200 --model wide_resnet50 --dataset cifar100",
  "--bias --loss label_smoothing --save-path ./wideres50_cifar100/wideres50-025-ls-100-1/ --seed 1 --width 0.25 -e 100 --model wide_resnet50 --dataset cifar100",
  "--bias --loss cross_entropy --save-path ./wideres50_cifar10/wideres50-2-ce-800-1/ --seed 1 --width 2 -e 800 --model wide_resnet50 --dataset cifar10",
  "--bias --loss mean_square_error --save-path ./wideres50_cifar10/wideres50-1-mse-400-2/ --seed 2 --width 1 -e 400 --model wide_resnet50 --dataset cifar10",
  "--bias --loss focal_loss --save-path ./wideres50_cifar10/wideres50-05-fl-200-3/ --seed 3 --width 0.5 -e 200 --model wide_resnet50 --dataset cifar10",
  "--bias --loss label_smoothing --save-path ./wideres50_cifar10/wideres50-025-ls-100-1/ --seed 1 --width 0.25 -e 100 --model wide_resnet50 --dataset cifar10",
];

Deno.test("every reference README train command parses to the intended configuration", () => {
  for (const line of README_TRAIN) {
    const cfg = configFromFlags(parseFlags(line.split(" "), TRAIN_FLAGS));
    const m = /\/wideres50_cifar10+\/wideres50-(\w+)-(\w+)-(\d+)-(\d+)$/.exec(cfg.savePath)!;
    assert(cfg.savePath.startsWith("/"), cfg.savePath);
    assertEquals(cfg.epochs, Number(m[3]), line);
    assertEquals(cfg.seed, Number(m[4]), line);
    assertEquals(String(cfg.width).replace(".", ""), m[1], line);
    assert(cfg.bias && cfg.model === "wide_resnet50" && cfg.dataAug, line);
    assertEquals([cfg.lr, cfg.momentum, cfg.weightDecay, cfg.batchSize, cfg.clipNorm], [0.1, 0.9, 5e-4, 100, 2]);
  }
});

Deno.test("every flag of the reference train script is accepted", () => {
  const cfg = configFromFlags(parseFlags(
    "-b 64 -tb 50 --lr 0.05 --mom 0.8 --decay 1e-4 --nesterov --opt adam --rescale 10 --gamma 2 --smoothing 0.1 --lr_scheduler cos --save-interval 5 --dataset-root /d --load --no-bias --no-data-aug --backend cpu --download --train-subset 20"
      .split(" "),
    TRAIN_FLAGS,
  ));
  assertEquals(
    [cfg.batchSize, cfg.testBatchSize, cfg.lr, cfg.momentum, cfg.weightDecay, cfg.nesterov, cfg.opt, cfg.rescale],
    [64, 50, 0.05, 0.8, 1e-4, true, "adam", 10],
  );
  assertEquals([cfg.gamma, cfg.smoothing, cfg.lrScheduler, cfg.saveInterval, cfg.datasetRoot], [
    2,
    0.1,
    "cos",
    5,
    "/d",
  ]);
  assertEquals([cfg.load, cfg.bias, cfg.dataAug, cfg.backend, cfg.download, cfg.trainSubset], [
    true,
    false,
    false,
    "cpu",
    true,
    20,
  ]);
});

Deno.test("the flag-to-config mapping is data: each train flag's `config` is a distinct TrainConfig field, and every field has a flag", () => {
  const keys = TRAIN_FLAGS.flatMap((s) => "config" in s ? [s.config] : []);
  assertEquals(new Set(keys).size, keys.length, `a field filled by two flags: ${keys}`);
  // Runtime settings (`load`, `backend`, `savePath`, ...) are flags too: no field is left to a default.
  assertEquals([...keys].sort(), Object.keys(DEFAULT_CONFIG).sort());
  // Each flag's parsed value lands in its field.
  const cfg = configFromFlags(parseFlags(["--mom", "0.5", "--decay", "0.25", "--lr-scheduler", "cos"], TRAIN_FLAGS));
  assertEquals([cfg.momentum, cfg.weightDecay, cfg.lrScheduler], [0.5, 0.25, "cos"]);
  // Defaults: every field from DEFAULT_CONFIG but the two paths, which stay empty when not given.
  assertEquals(configFromFlags(parseFlags([], TRAIN_FLAGS)), { ...DEFAULT_CONFIG, datasetRoot: "", savePath: "" });
});

Deno.test("parsed values are typed by their specs (checked by deno check)", () => {
  const specs = defineFlags([
    { name: "lr", type: "number", default: 0.1, help: "learning rate" },
    { name: "save-path", type: "path", help: "run folder" },
    { name: "seeds", type: "ints", default: [1], help: "seeds" },
    { name: "runs", type: "paths", help: "run folders" },
    { name: "opt", type: "choice", choices: ["sgd", "adam"], default: "sgd", help: "optimiser" },
    { name: "bias", type: "boolean", default: true, help: "bias" },
  ]);
  const v = parseFlags(["--lr", "0.5", "--opt", "adam", "--seeds", "3,4"], specs, { cwd: "/w" });
  const lr: number = v.lr;
  const savePath: string | undefined = v["save-path"];
  const seeds: number[] = v.seeds;
  const runs: string[] | undefined = v.runs;
  const opt: "sgd" | "adam" = v.opt;
  const bias: boolean = v.bias;
  // @ts-expect-error a flag without a default may be undefined
  const required: string = v["save-path"];
  // @ts-expect-error a number is not a string
  const wrong: string = v.lr;
  // @ts-expect-error no such flag
  v.epochs;
  assertEquals([lr, savePath, seeds, runs, opt, bias, required, wrong], [
    0.5,
    undefined,
    [3, 4],
    undefined,
    "adam",
    true,
    undefined,
    0.5,
  ]);
  // The train flags carry the types of the fields they fill.
  const t = parseFlags([], TRAIN_FLAGS);
  const fields: Pick<TrainConfig, "lr" | "momentum" | "opt" | "lrScheduler" | "backend" | "nesterov"> = {
    lr: t.lr,
    momentum: t.mom,
    opt: t.opt,
    lrScheduler: t.lr_scheduler,
    backend: t.backend,
    nesterov: t.nesterov,
  };
  assertEquals(fields.opt, DEFAULT_CONFIG.opt);
});

Deno.test("--no-checkpointing turns gradient checkpointing off; it is on by default", () => {
  assertEquals(configFromFlags(parseFlags([], TRAIN_FLAGS)).checkpointing, true);
  assertEquals(configFromFlags(parseFlags(["--no-checkpointing"], TRAIN_FLAGS)).checkpointing, false);
});

Deno.test("bad flags are one-line errors that list the valid choices", () => {
  assertThrows(() => parseFlags(["--los", "x"], TRAIN_FLAGS), UserError, "unknown flag '--los'; valid flags:");
  assertThrows(() => parseFlags(["--loss", "hinge"], TRAIN_FLAGS), UserError, "choose one of cross_entropy");
  assertThrows(() => parseFlags(["--model", "vgg"], TRAIN_FLAGS), UserError, "wide_resnet50, resnet18, mlp");
  assertThrows(() => parseFlags(["--width", "0"], TRAIN_FLAGS), UserError, "--width: 0 is out of range");
  assertThrows(() => parseFlags(["-e", "1.5"], TRAIN_FLAGS), UserError, "-e: expected an integer");
  assertThrows(() => parseFlags(["--lr", "fast"], TRAIN_FLAGS), UserError, "--lr: expected a decimal number");
  assertThrows(() => parseFlags(["--seed"], TRAIN_FLAGS), UserError, "--seed: missing value");
});

Deno.test("a README command without CIFAR on disk fails in one line, exit 2, and writes nothing", async () => {
  const root = await Deno.makeTempDir();
  const run = `${root}/wideres50_cifar10/wideres50-025-ls-100-1/`;
  const out = await runTask("train", [
    ...README_TRAIN[7].replace("./wideres50_cifar10/wideres50-025-ls-100-1/", run).split(" "),
    "--dataset-root",
    `${root}/data`,
    "--backend",
    "cpu",
  ]);
  const err = out.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
  assertEquals(out.code, 2);
  assertEquals(err.length, 1, out.stderr);
  assert(err[0].includes("cifar-10-batches-bin") && err[0].includes("--download"), err[0]);
  assertEquals([...Deno.readDirSync(root)].length, 0, "something was written");
  await Deno.remove(root, { recursive: true });
});

Deno.test("list flags: comma lists, repeats add up, numeric lists are checked element by element", () => {
  const specs = [
    { name: "run", type: "list" as const, help: "" },
    { name: "widths", type: "numbers" as const, min: 0, minExclusive: true, help: "" },
    { name: "seeds", type: "ints" as const, help: "" },
  ];
  const v = parseFlags(["--run", "a", "--run=b,c", "--widths", "0.5,1", "--seeds", "1,123"], specs);
  assertEquals(v["run"], ["a", "b", "c"]);
  assertEquals(v["widths"], [0.5, 1]);
  assertEquals(v["seeds"], [1, 123]);
  assertThrows(() => parseFlags(["--widths", "0.5,0"], specs), UserError, "--widths: 0 is out of range");
  assertThrows(() => parseFlags(["--seeds", "1,2.5"], specs), UserError, "--seeds: expected an integer, got '2.5'");
  assertThrows(() => parseFlags(["--widths", "x"], specs), UserError, "--widths: expected a decimal number, got 'x'");
});

Deno.test("a scalar flag given twice is refused, naming both; list flags still add up", () => {
  assertThrows(
    () => parseFlags(["--lr", "0.1", "--lr", "0.2"], TRAIN_FLAGS),
    UserError,
    "--lr: given twice ('--lr 0.1', then '--lr 0.2'); give it once",
  );
  assertThrows(
    () => parseFlags(["-e", "5", "--epochs=6"], TRAIN_FLAGS),
    UserError,
    "given twice ('-e 5', then '--epochs=6')",
  );
  assertThrows(() => parseFlags(["--bias", "--no-bias"], TRAIN_FLAGS), UserError, "--no-bias: given twice");
  assertThrows(() => parseFlags(["--save-path", "a", "--save-path", "a"], TRAIN_FLAGS), UserError, "given twice");
  assertEquals(parseFlags(["--run", "a", "--run", "b"], [{ name: "run", type: "list", help: "" }]).run, ["a", "b"]);
});

Deno.test("oneLine escapes line breaks and control characters", () => {
  assertEquals(oneLine("runs/a\nb\r\tc\u0000d: no such folder"), "runs/a\\nb\\r\\tc\\x00d: no such folder");
  assertEquals(oneLine("plain: ü ✓"), "plain: ü ✓");
});

const PATH_SPECS: FlagSpec[] = [
  { name: "out", type: "path", expect: "folder", default: "runs/figures", help: "" },
  { name: "runs", type: "paths", expect: "folder", help: "" },
  { name: "json", type: "path", expect: "file", help: "" },
];

Deno.test("path flags: typed relative paths are resolved against the user's folder, defaults against the repository", () => {
  const v = parseFlags(["--out", "figs/", "--runs", "a,../b", "--runs", "/abs/c", "--json=./x.json"], PATH_SPECS, {
    cwd: "/home/me/work",
  });
  assertEquals(v["out"], "/home/me/work/figs");
  assertEquals(v["runs"], ["/home/me/work/a", "/home/me/b", "/abs/c"]);
  assertEquals(v["json"], "/home/me/work/x.json");
  const defaults = parseFlags([], PATH_SPECS, { cwd: "/home/me/work" });
  assertEquals(defaults["out"], repositoryPath("runs", "figures"));
  assertEquals(repositoryPath("deno.json"), new URL("../deno.json", import.meta.url).pathname);
  assertThrows(() => parseFlags(["--out", ""], PATH_SPECS), UserError, "--out: empty path");
});

Deno.test("path flags: an existing path of the wrong kind fails before the task starts, naming the flag", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/afile`, "");
    const check = (args: string[]) => checkPathFlags(parseFlags(args, PATH_SPECS, { cwd: dir }), PATH_SPECS);
    check(["--out", "new/deeper", "--runs", dir, "--json", "afile"]);
    assertThrows(() => check(["--out", "afile"]), UserError, `--out ${dir}/afile: is a file, not a folder`);
    assertThrows(
      () => check(["--out", "afile/sub/x"]),
      UserError,
      `--out ${dir}/afile/sub/x: ${dir}/afile is a file, not a folder`,
    );
    assertThrows(() => check(["--runs", `${dir},afile`]), UserError, `--runs ${dir}/afile: is a file, not a folder`);
    assertThrows(() => check(["--json", "."]), UserError, `--json ${dir}: is a folder, not a file`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file-system errors become one line naming the path; other errors are left alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/afile`, "");
    const lineOf = async (f: () => Promise<unknown>): Promise<string | null> => {
      try {
        await f();
      } catch (e) {
        return fileSystemErrorLine(e);
      }
      throw new Error("no error thrown");
    };
    assertEquals(
      await lineOf(() => Deno.mkdir(`${dir}/afile`, { recursive: true })),
      `exists and is not a folder: ${dir}/afile`,
    );
    assertEquals(
      await lineOf(() => Deno.stat(`${dir}/afile/last.ckpt`)),
      `not a folder: ${dir}/afile (needed for ${dir}/afile/last.ckpt)`,
    );
    assertEquals(await lineOf(() => Deno.readTextFile(dir)), `is a folder, not a file (readfile): ${dir}`);
    assertEquals(
      await lineOf(() => Deno.writeTextFile(`${dir}/none/x`, "")),
      `no such file or folder (writefile): ${dir}/none/x`,
    );
    assertEquals(
      fileSystemErrorLine(new Deno.errors.PermissionDenied("Permission denied (os error 13): mkdir '/srv/out'")),
      "permission denied (mkdir): /srv/out",
    );
    assertEquals(
      fileSystemErrorLine(new Error("No space left on device (os error 28): write '/srv/out/a.svg'")),
      "no space left on device (write): /srv/out/a.svg",
    );
    assertEquals(
      fileSystemErrorLine(
        new Deno.errors.NotCapable('Requires all access to "/proc", run again with the --allow-all flag'),
      ),
      "not permitted: /proc (a system path: Deno reaches /dev, /proc and /sys only with --allow-all)",
    );
    assertEquals(
      fileSystemErrorLine(
        new Deno.errors.NotCapable('Requires write access to "/srv/x", run again with the --allow-write flag'),
      ),
      "not permitted (write access): /srv/x",
    );
    assertEquals(fileSystemErrorLine(new TypeError("x is not a function")), null);
    assertEquals(fileSystemErrorLine(new Error("something else")), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help shows defaults as they are typed: lists comma-separated, strings unquoted", () => {
  const text = helpText("usage", [
    { name: "loss", type: "list", default: ["cross_entropy", "mean_square_error"], help: "losses" },
    { name: "widths", type: "numbers", default: [0.25, 1], help: "widths" },
    { name: "python", type: "string", default: "python3", help: "interpreter" },
    { name: "out", type: "path", default: "runs/figures", help: "output folder" },
  ]);
  assert(text.includes("losses (default: cross_entropy,mean_square_error)"), text);
  assert(text.includes("widths (default: 0.25,1)"), text);
  assert(text.includes("interpreter (default: python3)"), text);
  assert(text.includes("output folder (default: runs/figures, in the repository)"), text);
  assert(!text.includes('"') && !text.includes("["), text);
});

Deno.test("numbers: decimal notation only, finite, and integers exact in float64", () => {
  const specs = [
    { name: "lr", type: "number", help: "" },
    { name: "seed", type: "int", help: "" },
  ] as const;
  const lr = (s: string) => parseFlags(["--lr", s], [...specs]).lr;
  assertEquals([lr("0.1"), lr(".5"), lr("-3"), lr("5e-4"), lr("1E2"), lr(" 2 ")], [0.1, 0.5, -3, 5e-4, 100, 2]);
  for (const bad of ["0x10", "0b1", "0o7", "Infinity", "NaN", "1_000", "1e", "", "--1"]) {
    assertThrows(() => lr(bad), UserError, "--lr: expected a decimal number");
  }
  assertThrows(() => lr("1e400"), UserError, "--lr: 1e400 is outside the range of a float64");
  assertEquals(parseFlags(["--seed", "9007199254740991"], [...specs]).seed, 2 ** 53 - 1);
  assertEquals(parseFlags(["--seed", "1e3"], [...specs]).seed, 1000);
  // 2^53 + 1 reads as 2^53: two different seeds would be the same run.
  assertThrows(() => parseFlags(["--seed", "9007199254740993"], [...specs]), UserError, "beyond 2^53 - 1");
});
