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
import { type BackendInfo, selectBackend, tf } from "../src/backend/mod.ts";
import { type Dataset, describeDataset } from "../src/data/mod.ts";
import { EXIT, UserError } from "../src/errors.ts";
import { isConvolutional } from "../src/models/mod.ts";
import type { TrainConfig } from "../src/run/train_config.ts";
import { planResume } from "../src/run/resume.ts";
import { checkRunFits } from "../src/run/budget.ts";
import { machineEnvironment } from "../src/run/environment.ts";
import { datasetForConfig, type TrainCallbacks, type TrainResult, trainRun } from "../src/train/train.ts";
import {
  configFromFlags,
  flagText,
  givenSettings,
  TRAIN_FLAGS,
  type TrainFlagValues,
} from "../src/train/train_flags.ts";
import { runTask } from "../src/cli.ts";
import { formatDuration, isTerminal, ProgressBar } from "./_progress.ts";
import { dieWithParent, stopOnSignals } from "./_process.ts";

/**
 * The configuration to train: the flags', or with `--load` the run folder's
 * (flags that disagree with it reported); null when the run is already as
 * long as asked.
 */
async function configToTrain(v: TrainFlagValues): Promise<TrainConfig | null> {
  const cfg = configFromFlags(v);
  if (!cfg.savePath) throw new UserError("--save-path: required (the run folder)");
  if (!cfg.load) return cfg;
  const { given, flagOf } = givenSettings(Deno.args);
  const plan = await planResume(cfg, given);
  for (const c of plan.ignored) {
    console.error(
      `note: ${flagText(flagOf.get(c.key)!, c.given)} differs from the run's config (${c.run}); using the run's config`,
    );
  }
  if (plan.completedEpochs >= plan.config.epochs) {
    console.error(
      `nothing to train: ${plan.config.savePath} is already at epoch ${plan.completedEpochs} of ` +
        `${plan.config.epochs}; pass -e above ${plan.config.epochs} to extend it`,
    );
    return null;
  }
  return plan.config;
}

/** What `config.json` records of where the run was made: backend, versions, machine, dataset sizes. */
async function runEnvironment(backend: BackendInfo, dataset: Dataset): Promise<Record<string, unknown>> {
  return {
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
    dataset_summary: describeDataset(dataset),
    started: new Date().toISOString(),
  };
}

/** Progress on stderr: a line at the start, a bar per epoch on a terminal, a line per epoch; stops on signals. */
function progressPrinter(cfg: TrainConfig, backend: BackendInfo): TrainCallbacks {
  const tty = isTerminal();
  let bar: ProgressBar | null = null;
  let total = 0;
  const signal = stopOnSignals((sig) => {
    bar?.done();
    console.error(`received ${sig}: finishing the current step, then saving last.ckpt (again to stop at once)`);
  });
  return {
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
  };
}

/** Says how training ended; exits with the status of a diverged or interrupted run. */
function reportOutcome(cfg: TrainConfig, result: TrainResult): void {
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

/** Trains the run the flags describe, or resumes or extends it with `--load`. */
async function main(v: TrainFlagValues): Promise<void> {
  const cfg = await configToTrain(v);
  if (cfg === null) return;
  checkRunFits(cfg);
  const backend = await selectBackend(cfg.backend, { needsConvTraining: isConvolutional(cfg.model) });
  const dataset = await datasetForConfig(cfg);
  console.error(
    `train: ${cfg.model} width ${cfg.width}, ${cfg.loss}, ${cfg.epochs} epochs, seed ${cfg.seed} on ${dataset.name} ` +
      `(${dataset.train.n} train / ${dataset.val.n} val / ${dataset.test.n} test), backend ${backend.name}` +
      (backend.fallbackReason ? ` (native: ${backend.fallbackReason})` : ""),
  );
  const callbacks = progressPrinter(cfg, backend);
  const result = await trainRun(cfg, dataset, await runEnvironment(backend, dataset), callbacks);
  reportOutcome(cfg, result);
}

if (import.meta.main) {
  dieWithParent();
  await runTask("deno task train [flags]  (reference train.py flags are accepted verbatim)", TRAIN_FLAGS, main);
}
