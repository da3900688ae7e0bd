/**
 * `deno task train`: trains one network with one loss, flag-compatible with
 * the reference's `train.py` (every README command works verbatim).
 *
 *   deno task train --bias --loss focal_loss --save-path ./wideres50_cifar100/wideres50-05-fl-200-321/ \
 *     --seed 321 --width 0.5 -e 200 --model wide_resnet50 --dataset cifar100
 *
 * With `--load` the run folder's own `config.json` decides the model, data
 * and optimisation; flags that disagree with it are reported, not obeyed,
 * except a larger `-e`, which extends the run.
 */
import { BACKENDS, selectBackend, tf } from "../src/backend/mod.ts";
import { DATASET_NAMES, describeDataset } from "../src/data/mod.ts";
import { EXIT, UserError } from "../src/errors.ts";
import { LOSS_NAMES } from "../src/losses/mod.ts";
import { isConvolutional, MODEL_NAMES } from "../src/models/mod.ts";
import { DEFAULT_CONFIG, flagRange, type TrainConfig } from "../src/run/train_config.ts";
import { OPTIMIZER_NAMES } from "../src/train/optimizer.ts";
import { SCHEDULER_NAMES } from "../src/train/schedule.ts";
import { planResume } from "../src/run/resume.ts";
import { checkRunFits } from "../src/run/budget.ts";
import { machineEnvironment } from "../src/run/environment.ts";
import { datasetForConfig, trainRun } from "../src/train/train.ts";
import { defineFlags, type FlagSpec, type FlagValue, type FlagValues, parseFlags, runTask } from "../src/cli.ts";
import { formatDuration, isTerminal, ProgressBar } from "./_progress.ts";
import { dieWithParent, stopOnSignals } from "./_process.ts";

const D = DEFAULT_CONFIG;

/**
 * The train flags; `sweep` reuses them. `config` names the {@linkcode TrainConfig}
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
function givenSettings(args: string[]): { given: Partial<TrainConfig>; flagOf: Map<string, string> } {
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
function flagText(flag: string, value: unknown): string {
  if (typeof value === "boolean") return value ? `--${flag}` : `--no-${flag}`;
  return `--${flag} ${value}`;
}

async function main(v: TrainFlagValues): Promise<void> {
  let cfg = configFromFlags(v);
  if (!cfg.savePath) throw new UserError("--save-path: required (the run folder)");
  if (cfg.load) {
    const { given, flagOf } = givenSettings(Deno.args);
    const plan = await planResume(cfg, given);
    for (const c of plan.ignored) {
      console.error(
        `note: ${
          flagText(flagOf.get(c.key)!, c.given)
        } differs from the run's config (${c.run}); using the run's config`,
      );
    }
    cfg = plan.config;
    if (plan.completedEpochs >= cfg.epochs) {
      console.error(
        `nothing to train: ${cfg.savePath} is already at epoch ${plan.completedEpochs} of ${cfg.epochs}; ` +
          `pass -e above ${cfg.epochs} to extend it`,
      );
      return;
    }
  }
  checkRunFits(cfg);
  const backend = await selectBackend(cfg.backend, { needsConvTraining: isConvolutional(cfg.model) });
  const dataset = await datasetForConfig(cfg);
  const summary = describeDataset(dataset);
  console.error(
    `train: ${cfg.model} width ${cfg.width}, ${cfg.loss}, ${cfg.epochs} epochs, seed ${cfg.seed} on ${dataset.name} ` +
      `(${dataset.train.n} train / ${dataset.val.n} val / ${dataset.test.n} test), backend ${backend.name}` +
      (backend.fallbackReason ? ` (native: ${backend.fallbackReason})` : ""),
  );
  const tty = isTerminal();
  let bar: ProgressBar | null = null;
  let total = 0;
  const signal = stopOnSignals((sig) => {
    bar?.done();
    console.error(`received ${sig}: finishing the current step, then saving last.ckpt (again to stop at once)`);
  });
  const result = await trainRun(cfg, dataset, {
    backend: backend.name,
    native: backend.native ?? null,
    versions: {
      tfjs_core: tf.version_core,
      tensorflow: backend.native?.tensorflowVersion ?? null,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
    },
    // Bit-for-bit results hold for the same CPU model and thread counts; record both.
    ...await machineEnvironment(),
    dataset_summary: summary,
    started: new Date().toISOString(),
  }, {
    signal,
    onStart: ({ startEpoch, startBatch, batchesPerEpoch, resumed, extendedFrom, eagerSteps }) => {
      total = batchesPerEpoch;
      // Same numbers either way; only the speed differs, so say why when the fast path is off.
      if (eagerSteps !== null && backend.name === "tensorflow") console.error(`steps run op by op (${eagerSteps})`);
      if (extendedFrom !== null) {
        console.error(
          `extending ${cfg.savePath} from ${extendedFrom} to ${cfg.epochs} epochs (config.json updated); epochs ` +
            `${startEpoch + 1}-${cfg.epochs} follow the learning-rate schedule of a ${cfg.epochs}-epoch run`,
        );
      }
      if (resumed) {
        console.error(
          `resuming after epoch ${startEpoch}` + (startBatch ? `, batch ${startBatch} of ${batchesPerEpoch}` : ""),
        );
      }
    },
    onBatch: (epoch, b, _n, loss) => {
      if (!tty) return;
      if (b === 1) bar = new ProgressBar(`epoch ${epoch}/${cfg.epochs}`, total);
      bar?.update(b, `loss ${loss.toFixed(4)}`);
    },
    onEpoch: (r) => {
      bar?.done();
      console.error(
        `epoch ${r.epoch}/${cfg.epochs} lr ${r.lr.toPrecision(3)} | train loss ${r.train_loss.toFixed(4)} ` +
          `top1 ${r.train_top1.toFixed(2)} top5 ${r.train_top5.toFixed(2)} | val loss ${r.val_loss.toFixed(4)} ` +
          `top1 ${r.val_top1.toFixed(2)} top5 ${r.val_top5.toFixed(2)} | best ${r.best_val_top1.toFixed(2)} | ` +
          formatDuration(r.seconds),
      );
    },
  });
  if (result.diverged) {
    console.error(`error: training diverged: ${result.diverged}`);
    Deno.exit(EXIT.diverged);
  }
  if (result.interrupted) {
    const { epoch, batch } = result.interrupted;
    console.error(
      `error: interrupted after epoch ${epoch}${batch ? `, batch ${batch}` : ""}; ${cfg.savePath}/last.ckpt saved, ` +
        `resume with --load`,
    );
    Deno.exit(EXIT.interrupted);
  }
  console.error(`done: ${cfg.savePath}`);
}

if (import.meta.main) {
  dieWithParent();
  await runTask("deno task train [flags]  (reference train.py flags are accepted verbatim)", TRAIN_FLAGS, main);
}
