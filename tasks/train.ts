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
import { LOSS_NAMES, type LossName } from "../src/losses/mod.ts";
import { isConvolutional, MODEL_NAMES } from "../src/models/mod.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../src/run/train_config.ts";
import { OPTIMIZER_NAMES } from "../src/train/optimizer.ts";
import { SCHEDULER_NAMES } from "../src/train/schedule.ts";
import { planResume } from "../src/run/resume.ts";
import { checkRunFits } from "../src/run/budget.ts";
import { datasetForConfig, trainRun } from "../src/train/train.ts";
import { type FlagSpec, type FlagValues, parseFlags, runTask } from "../src/cli.ts";
import { formatDuration, isTerminal, ProgressBar } from "./_progress.ts";
import { dieWithParent, stopOnSignals } from "./_process.ts";

const D = DEFAULT_CONFIG;

/** The train flags; `sweep` reuses them. */
export const TRAIN_FLAGS: FlagSpec[] = [
  { name: "dataset", type: "choice", choices: DATASET_NAMES, default: D.dataset, help: "dataset" },
  {
    name: "dataset-root",
    type: "path",
    expect: "folder",
    help: "dataset folder (default: the dataset's usual place)",
  },
  { name: "download", type: "boolean", default: false, help: "fetch CIFAR archives when missing" },
  { name: "model", type: "choice", choices: MODEL_NAMES, default: D.model, help: "network" },
  { name: "width", type: "number", min: 0, minExclusive: true, max: 16, default: D.width, help: "width multiplier" },
  { name: "epochs", aliases: ["-e"], type: "int", min: 1, default: D.epochs, help: "training epochs" },
  { name: "seed", type: "int", min: 0, default: D.seed, help: "random seed" },
  { name: "loss", type: "choice", choices: LOSS_NAMES, default: D.loss, help: "loss" },
  { name: "rescale", type: "number", min: 0, minExclusive: true, default: D.rescale, help: "MSE target scale" },
  { name: "gamma", type: "number", min: 0, default: D.gamma, help: "focal-loss gamma" },
  { name: "smoothing", type: "number", min: 0, max: 0.999, default: D.smoothing, help: "label-smoothing alpha" },
  { name: "opt", type: "choice", choices: OPTIMIZER_NAMES, default: D.opt, help: "optimiser" },
  { name: "lr", type: "number", min: 0, minExclusive: true, default: D.lr, help: "learning rate" },
  { name: "mom", aliases: ["--momentum"], type: "number", min: 0, max: 0.9999, default: D.momentum, help: "momentum" },
  { name: "decay", aliases: ["--weight-decay"], type: "number", min: 0, default: D.weightDecay, help: "weight decay" },
  { name: "nesterov", type: "boolean", default: D.nesterov, help: "Nesterov momentum" },
  {
    name: "lr_scheduler",
    aliases: ["--lr-scheduler"],
    type: "choice",
    choices: SCHEDULER_NAMES,
    default: D.lrScheduler,
    help: "schedule",
  },
  { name: "clip-norm", type: "number", min: 0, default: D.clipNorm, help: "global gradient-norm clip (0: off)" },
  { name: "batch-size", aliases: ["-b"], type: "int", min: 1, default: D.batchSize, help: "training batch" },
  {
    name: "test-batch-size",
    aliases: ["-tb"],
    type: "int",
    min: 1,
    default: D.testBatchSize,
    help: "evaluation batch",
  },
  { name: "save-interval", type: "int", min: 0, default: 0, help: "checkpoint every N epochs (0: E/100, at least 1)" },
  { name: "save-path", type: "path", expect: "folder", help: "run folder (required)" },
  { name: "data-aug", type: "boolean", default: D.dataAug, help: "random crop + flip (--no-data-aug: off)" },
  { name: "bias", type: "boolean", default: D.bias, help: "classifier bias (--no-bias: none)" },
  { name: "load", type: "boolean", default: false, help: "resume from the run folder's last checkpoint" },
  { name: "backend", type: "choice", choices: BACKENDS, default: D.backend, help: "compute backend" },
  { name: "train-subset", type: "int", min: 0, default: 0, help: "keep N training images per class (0: all)" },
  { name: "mlp-depth", type: "int", min: 1, max: 32, default: D.mlpDepth, help: "MLP hidden layers" },
  {
    name: "mlp-hidden",
    type: "int",
    min: 1,
    default: D.mlpHidden,
    help: "MLP hidden units at width 1 (scaled by --width)",
  },
  {
    name: "checkpointing",
    type: "boolean",
    default: D.checkpointing,
    help: "ResNets: recompute block activations in the backward pass (--no-checkpointing: faster, far more memory)",
  },
  { name: "synthetic-dim", type: "int", min: 1, default: D.syntheticDim, help: "synthetic: dimension" },
  { name: "synthetic-classes", type: "int", min: 2, default: D.syntheticClasses, help: "synthetic: classes" },
  {
    name: "synthetic-per-class",
    type: "int",
    min: 1,
    default: D.syntheticPerClass,
    help: "synthetic: train samples per class",
  },
  {
    name: "synthetic-separation",
    type: "number",
    min: 0,
    default: D.syntheticSeparation,
    help: "synthetic: mean separation",
  },
];

/** Turns parsed flags into a {@linkcode TrainConfig}. */
export function configFromFlags(v: FlagValues): TrainConfig {
  return {
    dataset: v["dataset"] as string,
    datasetRoot: (v["dataset-root"] as string | undefined) ?? "",
    download: v["download"] as boolean,
    model: v["model"] as string,
    width: v["width"] as number,
    epochs: v["epochs"] as number,
    seed: v["seed"] as number,
    loss: v["loss"] as LossName,
    rescale: v["rescale"] as number,
    gamma: v["gamma"] as number,
    smoothing: v["smoothing"] as number,
    opt: v["opt"] as "sgd" | "adam",
    lr: v["lr"] as number,
    momentum: v["mom"] as number,
    weightDecay: v["decay"] as number,
    nesterov: v["nesterov"] as boolean,
    lrScheduler: v["lr_scheduler"] as "step" | "cos",
    clipNorm: v["clip-norm"] as number,
    batchSize: v["batch-size"] as number,
    testBatchSize: v["test-batch-size"] as number,
    saveInterval: v["save-interval"] as number,
    savePath: (v["save-path"] as string | undefined) ?? "",
    dataAug: v["data-aug"] as boolean,
    bias: v["bias"] as boolean,
    load: v["load"] as boolean,
    backend: v["backend"] as TrainConfig["backend"],
    trainSubset: v["train-subset"] as number,
    mlpDepth: v["mlp-depth"] as number,
    mlpHidden: v["mlp-hidden"] as number,
    checkpointing: v["checkpointing"] as boolean,
    syntheticDim: v["synthetic-dim"] as number,
    syntheticClasses: v["synthetic-classes"] as number,
    syntheticPerClass: v["synthetic-per-class"] as number,
    syntheticSeparation: v["synthetic-separation"] as number,
  };
}

/** The config field a train flag sets, read off {@linkcode configFromFlags} so that the two cannot drift apart. */
function configKeyOf(flag: string): keyof TrainConfig {
  const probe = Symbol(flag);
  const cfg = configFromFlags({ [flag]: probe }) as unknown as Record<string, unknown>;
  return Object.keys(cfg).find((k) => cfg[k] === probe) as keyof TrainConfig;
}

/** The settings `args` spell out, and the flag that set each; the defaults the parser fills in do not count. */
function givenSettings(args: string[]): { given: Partial<TrainConfig>; flagOf: Map<string, string> } {
  const values = parseFlags(args, TRAIN_FLAGS.map((s) => ({ ...s, default: undefined })));
  const given: Record<string, unknown> = {};
  const flagOf = new Map<string, string>();
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const key = configKeyOf(flag);
    given[key] = value;
    flagOf.set(key, flag);
  }
  return { given: given as Partial<TrainConfig>, flagOf };
}

/** `--flag value` as typed (`--no-flag` for a false boolean). */
function flagText(flag: string, value: unknown): string {
  if (typeof value === "boolean") return value ? `--${flag}` : `--no-${flag}`;
  return `--${flag} ${value}`;
}

async function main(v: FlagValues): Promise<void> {
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
    versions: { tfjs_core: tf.version_core, deno: Deno.version.deno, v8: Deno.version.v8 },
    dataset_summary: summary,
    started: new Date().toISOString(),
  }, {
    signal,
    onStart: ({ startEpoch, startBatch, batchesPerEpoch, resumed, extendedFrom }) => {
      total = batchesPerEpoch;
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
