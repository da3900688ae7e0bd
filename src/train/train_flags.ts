/**
 * The flags of `deno task train` (the reference's `train.py` flags, verbatim),
 * each naming the {@linkcode TrainConfig} field it fills, and the
 * configuration parsed flags make. Beside the training configuration they
 * spell, so that the train task and the sweep (which passes them through to
 * every run and parses each run's arguments with them) share one definition.
 *
 * @example
 * ```ts
 * import { parseFlags } from "../cli.ts";
 * const cfg = configFromFlags(parseFlags(["--loss", "focal_loss", "--save-path", "runs/a"], TRAIN_FLAGS));
 * cfg.loss; // "focal_loss"
 * ```
 *
 * @module
 */
import { BACKENDS } from "../backend/mod.ts";
import { defineFlags, type FlagSpec, type FlagValue, type FlagValues, parseFlags } from "../cli.ts";
import { DATASET_NAMES } from "../data/mod.ts";
import { LOSS_NAMES } from "../losses/names.ts";
import { MODEL_NAMES } from "../models/mod.ts";
import { DEFAULT_CONFIG, flagRange, type TrainConfig } from "../run/train_config.ts";
import { OPTIMIZER_NAMES } from "./optimizer.ts";
import { SCHEDULER_NAMES } from "./schedule.ts";

const D = DEFAULT_CONFIG;

/**
 * The flags of `deno task train`; the sweep passes them through to its runs
 * and parses each run's arguments with them. `config` names the {@linkcode TrainConfig}
 * field a flag fills: {@linkcode configFromFlags} is a loop over these.
 */
export const TRAIN_FLAGS = defineFlags([
  { name: "dataset", config: "dataset", type: "choice", choices: DATASET_NAMES, default: D.dataset, help: "dataset" },
  {
    name: "dataset-root",
    config: "datasetRoot",
    type: "path",
    expect: "folder",
    help: "dataset folder (default: the dataset's usual place)",
  },
  { name: "download", config: "download", type: "boolean", default: false, help: "fetch CIFAR archives when missing" },
  { name: "model", config: "model", type: "choice", choices: MODEL_NAMES, default: D.model, help: "network" },
  {
    name: "width",
    config: "width",
    ...flagRange("width"),
    type: "number",
    default: D.width,
    help: "width multiplier",
  },
  {
    name: "epochs",
    config: "epochs",
    ...flagRange("epochs"),
    aliases: ["-e"],
    type: "int",
    default: D.epochs,
    help: "training epochs",
  },
  { name: "seed", config: "seed", ...flagRange("seed"), type: "int", default: D.seed, help: "random seed" },
  { name: "loss", config: "loss", type: "choice", choices: LOSS_NAMES, default: D.loss, help: "loss" },
  {
    name: "rescale",
    config: "rescale",
    ...flagRange("rescale"),
    type: "number",
    default: D.rescale,
    help: "MSE target scale",
  },
  { name: "gamma", config: "gamma", ...flagRange("gamma"), type: "number", default: D.gamma, help: "focal-loss gamma" },
  {
    name: "smoothing",
    config: "smoothing",
    ...flagRange("smoothing"),
    type: "number",
    default: D.smoothing,
    help: "label-smoothing alpha",
  },
  { name: "opt", config: "opt", type: "choice", choices: OPTIMIZER_NAMES, default: D.opt, help: "optimiser" },
  { name: "lr", config: "lr", ...flagRange("lr"), type: "number", default: D.lr, help: "learning rate" },
  {
    name: "mom",
    config: "momentum",
    ...flagRange("momentum"),
    aliases: ["--momentum"],
    type: "number",
    default: D.momentum,
    help: "momentum",
  },
  {
    name: "decay",
    config: "weightDecay",
    ...flagRange("weightDecay"),
    aliases: ["--weight-decay"],
    type: "number",
    default: D.weightDecay,
    help: "weight decay",
  },
  { name: "nesterov", config: "nesterov", type: "boolean", default: D.nesterov, help: "Nesterov momentum" },
  {
    name: "lr_scheduler",
    config: "lrScheduler",
    aliases: ["--lr-scheduler"],
    type: "choice",
    choices: SCHEDULER_NAMES,
    default: D.lrScheduler,
    help: "schedule",
  },
  {
    name: "clip-norm",
    config: "clipNorm",
    ...flagRange("clipNorm"),
    type: "number",
    default: D.clipNorm,
    help: "global gradient-norm clip (0: off)",
  },
  {
    name: "batch-size",
    config: "batchSize",
    ...flagRange("batchSize"),
    aliases: ["-b"],
    type: "int",
    default: D.batchSize,
    help: "training batch",
  },
  {
    name: "test-batch-size",
    config: "testBatchSize",
    ...flagRange("testBatchSize"),
    aliases: ["-tb"],
    type: "int",
    default: D.testBatchSize,
    help: "evaluation batch",
  },
  {
    name: "save-interval",
    config: "saveInterval",
    ...flagRange("saveInterval"),
    type: "int",
    default: 0,
    help: "checkpoint every N epochs (0: E/100, at least 1)",
  },
  { name: "save-path", config: "savePath", type: "path", expect: "folder", help: "run folder (required)" },
  {
    name: "data-aug",
    config: "dataAug",
    type: "boolean",
    default: D.dataAug,
    help: "random crop + flip (--no-data-aug: off)",
  },
  { name: "bias", config: "bias", type: "boolean", default: D.bias, help: "classifier bias (--no-bias: none)" },
  {
    name: "load",
    config: "load",
    type: "boolean",
    default: false,
    help: "resume from the run folder's last checkpoint",
  },
  {
    name: "backend",
    config: "backend",
    type: "choice",
    choices: BACKENDS,
    default: D.backend,
    help: "compute backend",
  },
  {
    name: "train-subset",
    config: "trainSubset",
    ...flagRange("trainSubset"),
    type: "int",
    default: 0,
    help: "keep N training images per class (0: all)",
  },
  {
    name: "mlp-depth",
    config: "mlpDepth",
    ...flagRange("mlpDepth"),
    type: "int",
    default: D.mlpDepth,
    help: "MLP hidden layers",
  },
  {
    name: "mlp-hidden",
    config: "mlpHidden",
    ...flagRange("mlpHidden"),
    type: "int",
    default: D.mlpHidden,
    help: "MLP hidden units at width 1 (scaled by --width)",
  },
  {
    name: "checkpointing",
    config: "checkpointing",
    type: "boolean",
    default: D.checkpointing,
    help: "ResNets: recompute block activations in the backward pass (--no-checkpointing: faster, far more memory)",
  },
  {
    name: "synthetic-dim",
    config: "syntheticDim",
    ...flagRange("syntheticDim"),
    type: "int",
    default: D.syntheticDim,
    help: "synthetic: dimension",
  },
  {
    name: "synthetic-classes",
    config: "syntheticClasses",
    ...flagRange("syntheticClasses"),
    type: "int",
    default: D.syntheticClasses,
    help: "synthetic: classes",
  },
  {
    name: "synthetic-per-class",
    config: "syntheticPerClass",
    ...flagRange("syntheticPerClass"),
    type: "int",
    default: D.syntheticPerClass,
    help: "synthetic: train samples per class",
  },
  {
    name: "synthetic-separation",
    config: "syntheticSeparation",
    ...flagRange("syntheticSeparation"),
    type: "number",
    default: D.syntheticSeparation,
    help: "synthetic: mean separation",
  },
]);

/** The parsed train flags, typed. */
export type TrainFlagValues = FlagValues<typeof TRAIN_FLAGS>;

/**
 * `never` for a spec whose `config` is not a {@linkcode TrainConfig} field or
 * whose value type does not fit that field; the assignment below makes a
 * mismatch a compile error.
 */
type ConfigFits<S> = S extends { config: infer K } & FlagSpec
  ? K extends keyof TrainConfig ? FlagValue<S> extends TrainConfig[K] ? S : never : never
  : S;
const _everyConfigFits: readonly ConfigFits<(typeof TRAIN_FLAGS)[number]>[] = TRAIN_FLAGS;

/** Turns parsed flags into a {@linkcode TrainConfig}: each spec's value into its `config` field. */
export function configFromFlags(v: TrainFlagValues): TrainConfig {
  // The two flags without a default: no dataset folder means the dataset's usual place; a run folder is required.
  const cfg: TrainConfig = { ...DEFAULT_CONFIG, datasetRoot: "", savePath: "" };
  for (const s of TRAIN_FLAGS) setConfig(cfg, s, v[s.name]);
  return cfg;
}

/** Sets the field `spec.config` of `cfg` to `value`, if the flag fills one and has a value. */
function setConfig(cfg: Partial<TrainConfig>, spec: FlagSpec, value: unknown): void {
  // `_everyConfigFits` checks at compile time that each flag's value type fits its field.
  if (spec.config !== undefined && value !== undefined) {
    (cfg as unknown as Record<string, unknown>)[spec.config] = value;
  }
}

/** The settings `args` spell out, and the flag that set each; the defaults the parser fills in do not count. */
export function givenSettings(args: string[]): { given: Partial<TrainConfig>; flagOf: Map<string, string> } {
  const specs: readonly FlagSpec[] = TRAIN_FLAGS.map((s) => ({ ...s, default: undefined }));
  const values = parseFlags(args, specs);
  const given: Partial<TrainConfig> = {};
  const flagOf = new Map<string, string>();
  for (const [flag, value] of Object.entries(values)) {
    const spec = specs.find((s) => s.name === flag);
    if (value === undefined || spec?.config === undefined) continue;
    setConfig(given, spec, value);
    flagOf.set(spec.config, flag);
  }
  return { given, flagOf };
}

/** `--flag value` as typed (`--no-flag` for a false boolean). */
export function flagText(flag: string, value: unknown): string {
  if (typeof value === "boolean") return value ? `--${flag}` : `--no-${flag}`;
  return `--${flag} ${value}`;
}
