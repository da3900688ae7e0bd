/**
 * `deno task sweep`: trains and evaluates a grid of runs (losses × widths ×
 * epochs × seeds) as independent subprocesses, in the reference's folder
 * naming, with a manifest that lets an interrupted sweep resume.
 *
 *   deno task sweep --preset paper-cifar100 --runs-dir wideres50_cifar100 --jobs 1
 *   deno task sweep --preset small --epochs-list 5,10 --losses ce,mse --jobs 2
 *   deno task sweep --preset paper-cifar10 --dry-run
 *
 * Flags of `deno task train` other than those the grid sets (loss, width,
 * epochs, seed, save path) are passed to every run.
 */
import { type BackendName, BACKENDS } from "../src/backend/mod.ts";
import { loadNativeBackend } from "../src/backend/native.ts";
import { joinPath } from "../src/io.ts";
import { isConvolutional } from "../src/models/mod.ts";
import {
  MANIFEST_FILE,
  parseLossName,
  planSweep,
  runSweep,
  stageArguments,
  SWEEP_OWNED_TRAIN_FLAGS,
  SWEEP_PRESET_NAMES,
  type SweepConfig,
  type SweepEvent,
  sweepPreset,
  type SweepSummary,
  trainArgsToFlags,
  type TrainArgValue,
  validateSweepConfig,
} from "../src/sweep/mod.ts";
import { type FlagSpec, type FlagValues, parseFlags, repositoryPath, runTask } from "./_cli.ts";
import { formatDuration, isTerminal, ProgressBar } from "./_progress.ts";
import { TRAIN_FLAGS } from "./train.ts";

/** Train flags passed through to every run: given values only (no defaults), so the preset's stand. */
export const PASSTHROUGH_TRAIN_FLAGS: FlagSpec[] = TRAIN_FLAGS.filter((s) => !SWEEP_OWNED_TRAIN_FLAGS.includes(s.name))
  .map((s) => ({ ...s, default: undefined, help: `(train) ${s.help}` }));

/** The flags that pick and shape the grid; `reproduce` shares the execution ones. */
export const GRID_FLAGS: FlagSpec[] = [
  { name: "preset", type: "string", default: "small", help: `grid preset: ${SWEEP_PRESET_NAMES.join(", ")}` },
  { name: "losses", type: "list", help: "losses (names or ce,ls,fl,mse; comma list)" },
  { name: "widths", type: "numbers", help: "width multipliers (comma list)" },
  { name: "epochs-list", type: "ints", help: "training lengths in epochs (comma list)" },
  { name: "seeds", type: "ints", help: "seeds (comma list)" },
  { name: "dataset", type: "string", help: "dataset (default: the preset's)" },
  { name: "model", type: "string", help: "model (default: the preset's)" },
];

/** Flags of running a sweep. */
export const RUN_FLAGS: FlagSpec[] = [
  { name: "backend", type: "choice", choices: BACKENDS, default: "auto", help: "compute backend of every run" },
  { name: "jobs", type: "int", min: 1, max: 64, default: 1, help: "runs trained in parallel (one process each)" },
  { name: "retry-failed", type: "boolean", default: false, help: "also retry runs whose training diverged" },
];

/** Every flag of `deno task sweep`. */
export const SWEEP_FLAGS: FlagSpec[] = [
  ...GRID_FLAGS,
  {
    name: "runs-dir",
    type: "path",
    expect: "folder",
    help: "sweep folder (default: runs/<preset>, in the repository)",
  },
  ...RUN_FLAGS,
  { name: "dry-run", type: "boolean", default: false, help: "print what would run, one line per run, and exit" },
  ...PASSTHROUGH_TRAIN_FLAGS,
];

/**
 * The sweep configuration of parsed flags: the preset, with the grid flags and
 * any passed-through train flags overriding it. Throws {@linkcode UserError} on
 * a bad value.
 */
export function sweepConfigFromFlags(v: FlagValues): SweepConfig {
  const config = sweepPreset(v["preset"] as string);
  if (v["losses"] !== undefined) config.losses = (v["losses"] as string[]).map((l) => parseLossName(l));
  config.widths = (v["widths"] as number[] | undefined) ?? config.widths;
  config.epochs = (v["epochs-list"] as number[] | undefined) ?? config.epochs;
  config.seeds = (v["seeds"] as number[] | undefined) ?? config.seeds;
  if (v["dataset"] !== undefined) config.dataset = v["dataset"] as string;
  if (v["model"] !== undefined) config.model = v["model"] as string;
  for (const spec of PASSTHROUGH_TRAIN_FLAGS) {
    if (v[spec.name] !== undefined) config.trainArgs[spec.name] = v[spec.name] as TrainArgValue;
  }
  validateSweepConfig(config);
  // The train task's own parser checks the shared flags (a preset's too) before anything starts.
  parseFlags(trainArgsToFlags(config.trainArgs), TRAIN_FLAGS);
  return config;
}

/** A note when a convolutional grid is about to run without a GPU. */
async function gpuNote(config: SweepConfig, backend: BackendName): Promise<string | null> {
  if (!isConvolutional(config.model)) return null;
  const what = `${config.model} on ${config.dataset} is a GPU workload (the paper trained it on GPUs for days)`;
  if (backend === "cpu" || backend === "wasm") return `note: ${what}; --backend ${backend} runs it on this CPU`;
  const native = await loadNativeBackend();
  if (!native.ok) return `note: ${what}; the native backend did not load (${native.reason}), so it runs on the CPU`;
  if (!native.info.gpu) return `note: ${what}; ${native.info.package} sees no GPU, so it runs on the CPU`;
  return null;
}

/** One progress line for a finished or skipped run. */
export function eventLine(e: SweepEvent): string {
  const r = e.run;
  const head = `[${e.done}/${e.total}] ${r.name}`;
  const eta = e.done < e.total && Number.isFinite(e.etaSeconds) ? `; about ${formatDuration(e.etaSeconds)} left` : "";
  if (e.kind === "skip") return `${head}: skipped (${r.state === "failed" ? `failed: ${r.reason}` : r.state})${eta}`;
  const times = `train ${formatDuration(r.trainSeconds)}, evaluate ${formatDuration(r.evaluateSeconds)}`;
  if (r.state === "failed") return `${head}: FAILED in ${r.failedStage} (${r.reason}) [${times}]${eta}`;
  return `${head}: ${r.state} [${times}]${eta}`;
}

/**
 * Runs (or, with `dryRun`, prints) the sweep of `config` under `root`,
 * showing progress on stderr; returns the summary (null for a dry run).
 */
export async function executeSweep(
  root: string,
  config: SweepConfig,
  v: FlagValues,
  opts: { dryRun: boolean; preset?: string },
): Promise<SweepSummary | null> {
  const backend = v["backend"] as BackendName;
  const base = { root, config, preset: opts.preset, backend, retryFailed: v["retry-failed"] as boolean };
  if (opts.dryRun) {
    for (const p of await planSweep(base)) {
      const args = stageArguments(config, p, backend);
      const what = p.action === "skip"
        ? `(${p.note})`
        : [args.train ? `train ${args.train.join(" ")} &&` : "", `evaluate ${args.evaluate.join(" ")}`].join(" ")
          .trim();
      console.log(`${p.action.padEnd(8)} ${p.run.name}  ${what}`);
    }
    return null;
  }
  const note = await gpuNote(config, backend);
  if (note) console.error(note);
  const jobs = v["jobs"] as number;
  const plan = await planSweep(base);
  console.error(
    `sweep: ${plan.length} runs (${config.losses.length} losses × ${config.widths.length} widths × ` +
      `${config.epochs.length} lengths × ${config.seeds.length} seeds) of ${config.model} on ${config.dataset} ` +
      `under ${root}, ${jobs} at a time; logs in ${joinPath(root, "logs")}`,
  );
  const bar = new ProgressBar("runs", plan.length);
  const tty = isTerminal();
  const summary = await runSweep({
    ...base,
    jobs,
    onEvent: (e) => {
      if (e.kind === "start") {
        if (!tty) console.error(`[${e.done}/${e.total}] ${e.run.name}: ${e.action}`);
      } else {
        bar.done();
        console.error(eventLine(e));
      }
      bar.update(e.done, Number.isFinite(e.etaSeconds) ? `~${formatDuration(e.etaSeconds)} left` : "");
    },
  });
  bar.done();
  console.error(
    `sweep: ${summary.evaluated}/${summary.total} evaluated, ${summary.failed.length} failed, ` +
      `${summary.skipped} skipped, in ${formatDuration(summary.seconds)} → ${joinPath(root, MANIFEST_FILE)}`,
  );
  for (const f of summary.failed) console.error(`  failed: ${f.name} (${f.failedStage}): ${f.reason}`);
  return summary;
}

if (import.meta.main) {
  await runTask("deno task sweep [--preset small|paper-cifar10|paper-cifar100] [flags]", SWEEP_FLAGS, async (v) => {
    const config = sweepConfigFromFlags(v);
    const preset = v["preset"] as string;
    const root = (v["runs-dir"] as string | undefined) ?? repositoryPath("runs", preset);
    const summary = await executeSweep(root, config, v, { dryRun: v["dry-run"] as boolean, preset });
    if (summary && summary.failed.length > 0) Deno.exit(1);
  });
}
