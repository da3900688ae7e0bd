/**
 * `deno task evaluate`: measures neural collapse and accuracy at every saved
 * checkpoint of a run and writes `info.json` in the run folder. Accepts the
 * reference's `evaluate.py` flags; the run's own `config.json` decides the
 * model and data, and flags that disagree with it are reported, not obeyed
 * (the reference README's own evaluate examples pass widths and epochs that
 * differ from the folders they name).
 *
 *   deno task evaluate --bias --save-path ./wideres50_cifar100/wideres50-2-ce-800-1/ --seed 1 --width 2 -e 800 \
 *     --model wide_resnet50 --dataset cifar100
 *   deno task evaluate --save-path runs/a --layers   # NC1 layer by layer too (info.json's "layers")
 */
import { BACKENDS, selectBackend } from "../src/backend/mod.ts";
import { DATASET_NAMES } from "../src/data/mod.ts";
import { UserError } from "../src/errors.ts";
import { epochRanges, evaluateRun, readRunConfig } from "../src/evaluate/evaluate_run.ts";
import { LOSS_NAMES } from "../src/losses/mod.ts";
import { isConvolutional, MODEL_NAMES } from "../src/models/mod.ts";
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { formatDuration, ProgressBar } from "./_progress.ts";
import { dieWithParent } from "./_process.ts";

const FLAGS = defineFlags([
  { name: "save-path", type: "path", expect: "folder", help: "run folder to evaluate (required)" },
  { name: "dataset-root", type: "path", expect: "folder", help: "dataset folder, if it moved since training" },
  {
    name: "eval-augment",
    type: "boolean",
    default: false,
    help: "measure training features with augmentation (reference)",
  },
  { name: "force", type: "boolean", default: false, help: "re-evaluate checkpoints already in info.json" },
  {
    name: "layers",
    type: "boolean",
    default: false,
    help: "also measure NC1, CDNV, … at every hidden layer (MLP) or residual stage (ResNets, pooled)",
  },
  { name: "test-batch-size", aliases: ["-tb"], type: "int", min: 1, default: 128, help: "evaluation batch" },
  { name: "backend", type: "choice", choices: BACKENDS, default: "auto", help: "compute backend" },
  {
    name: "projection",
    type: "choice",
    choices: ["float64", "float32"],
    default: "float64",
    help: "NC metrics' N·d·K products: float64 JavaScript, or float32 on the compute backend (faster, ≈1e-6)",
  },
  // Accepted for compatibility with the reference; checked against config.json.
  { name: "batch-size", aliases: ["-b"], type: "int", min: 1, help: "(reference flag, unused)" },
  { name: "epochs", aliases: ["-e"], type: "int", min: 1, help: "(reference flag, checked)" },
  { name: "width", type: "number", min: 0, minExclusive: true, help: "(reference flag, checked)" },
  { name: "model", type: "choice", choices: MODEL_NAMES, help: "(reference flag, checked)" },
  { name: "dataset", type: "choice", choices: DATASET_NAMES, help: "(reference flag, checked)" },
  { name: "seed", type: "int", min: 0, help: "(reference flag, checked)" },
  { name: "loss", type: "choice", choices: LOSS_NAMES, help: "(reference flag, checked)" },
  { name: "bias", type: "boolean", help: "(reference flag, checked)" },
]);

/** The reference flags checked against the run's `config.json`; each is named as the config field it matches. */
const CHECKED = ["epochs", "width", "model", "dataset", "seed", "loss", "bias"] as const;

const pct = (v: number | null | undefined): string => typeof v === "number" ? v.toFixed(2) : "–";

async function main(v: FlagValues<typeof FLAGS>): Promise<void> {
  const dir = v["save-path"];
  if (!dir) throw new UserError("--save-path: required (the run folder to evaluate)");
  const cfg = await readRunConfig(dir);
  for (const flag of CHECKED) {
    const given = v[flag];
    const actual = cfg[flag];
    if (given !== undefined && given !== actual) {
      console.error(`note: --${flag} ${given} differs from the run's config (${actual}); using the run's config`);
    }
  }
  const backend = await selectBackend(v["backend"], { needsConvTraining: isConvolutional(cfg.model) });
  const projection = v["projection"] === "float32" ? ", NC projections in float32" : "";
  console.error(`evaluate: ${dir} (${cfg.model}, ${cfg.loss}, ${cfg.dataset}) on backend ${backend.name}${projection}`);
  let bar: ProgressBar | null = null;
  const t0 = performance.now();
  const info = await evaluateRun(dir, {
    augment: v["eval-augment"],
    force: v["force"],
    layers: v["layers"],
    batchSize: v["test-batch-size"],
    projection: v["projection"],
    datasetRoot: v["dataset-root"],
    onCheckpointsGone: (kept, dropped) => {
      if (kept.length > 0) {
        console.error(`kept the results of epochs ${epochRanges(kept)} in info.json: their checkpoints are gone`);
      }
      if (dropped.length > 0) {
        console.error(`--force: dropped the results of epochs ${epochRanges(dropped)}: their checkpoints are gone`);
      }
    },
    onStart: (total, skipped) => {
      if (skipped > 0) console.error(`${skipped} checkpoint(s) already evaluated (--force to redo)`);
      bar = new ProgressBar("checkpoints", total);
      bar.update(0);
    },
    onCheckpoint: (epoch, done, total, m, layers) => {
      bar?.update(done, `epoch ${epoch}`);
      if (!Deno.stderr.isTerminal() || done === total) {
        bar?.done();
        console.error(
          `epoch ${epoch}: NC1 ${m.nc1.toExponential(3)} NC2 ${m.nc2.toFixed(4)} NC3 ${m.nc3.toFixed(4)} ` +
            `NC4 ${m.nc4_bias.toFixed(4)} | train ${m.train_top1.toFixed(2)} test ${m.test_top1.toFixed(2)}`,
        );
        if (layers) console.error(`  NC1 by layer: ${layers.nc1.map((v) => v?.toExponential(3) ?? "–").join(" ")}`);
      }
    },
  });
  const best = info.best;
  console.error(
    `wrote ${dir}/info.json (${info.epochs.length} checkpoint${info.epochs.length === 1 ? "" : "s"}, ${
      formatDuration((performance.now() - t0) / 1000)
    })` +
      (best
        ? `; best epoch ${best.epoch}: train ${pct(best.train_top1)} val ${pct(best.val_top1)} test ${
          pct(best.test_top1)
        }`
        : ""),
  );
}

if (import.meta.main) {
  dieWithParent();
  await runTask("deno task evaluate --save-path RUN_DIR [flags]  (reference evaluate.py flags accepted)", FLAGS, main);
}
