/**
 * The flags of `deno task sweep`, and the ones `deno task reproduce` shares
 * with it (running runs, `--executor` and Slurm's resources): their
 * specifications, and the sweep configuration and Slurm settings parsed
 * flags make. Flags of `deno task train` other than those the grid sets
 * (loss, width, epochs, seed, save path) are passed to every run.
 *
 * @example
 * ```ts
 * import { parseFlags } from "../cli.ts";
 * const config = sweepConfigFromFlags(parseFlags(["--losses", "ce,mse"], SWEEP_FLAGS));
 * config.losses; // ["cross_entropy", "mean_square_error"]
 * ```
 *
 * @module
 */
import { BACKENDS } from "../backend/mod.ts";
import { defineFlags, type FlagSpec, type FlagValues, parseFlags } from "../cli.ts";
import { UserError } from "../errors.ts";
import { TRAIN_FLAGS } from "../train/train_flags.ts";
import {
  parseLossName,
  SWEEP_OWNED_TRAIN_FLAGS,
  type SweepConfig,
  trainArgsToFlags,
  type TrainArgValue,
  validateSweepConfig,
} from "./grid.ts";
import { SWEEP_PRESET_NAMES, sweepPreset } from "./presets.ts";
import { sbatchWord, SLURM_DEFAULTS, type SlurmOptions, slurmTimeSeconds } from "./slurm_script.ts";

/** Train flags passed through to every run: given values only (no defaults), so the preset's stand. */
export const PASSTHROUGH_TRAIN_FLAGS: readonly FlagSpec[] = TRAIN_FLAGS.filter((s) =>
  !SWEEP_OWNED_TRAIN_FLAGS.includes(s.name)
)
  .map((s) => ({ ...s, default: undefined, help: `(train) ${s.help}` }));

/** The flags that pick and shape the grid; `reproduce` shares the execution ones. */
export const GRID_FLAGS = defineFlags([
  { name: "preset", type: "string", default: "small", help: `grid preset: ${SWEEP_PRESET_NAMES.join(", ")}` },
  { name: "losses", type: "list", help: "losses (names or ce,ls,fl,mse; comma list)" },
  { name: "widths", type: "numbers", help: "width multipliers (comma list)" },
  { name: "epochs-list", type: "ints", help: "training lengths in epochs (comma list)" },
  { name: "seeds", type: "ints", help: "seeds (comma list)" },
  { name: "dataset", type: "string", help: "dataset (default: the preset's)" },
  { name: "model", type: "string", help: "model (default: the preset's)" },
]);

/** Flags of running a sweep. */
export const RUN_FLAGS = defineFlags([
  { name: "backend", type: "choice", choices: BACKENDS, default: "auto", help: "compute backend of every run" },
  { name: "jobs", type: "int", min: 1, max: 64, default: 1, help: "runs trained in parallel (one process each)" },
  { name: "retry-failed", type: "boolean", default: false, help: "also retry runs whose training diverged" },
]);

/** Where the runs execute, and what `--executor slurm` asks of Slurm; `reproduce` shares them. */
export const EXECUTOR_FLAGS = defineFlags([
  {
    name: "executor",
    type: "choice",
    choices: ["local", "slurm"],
    default: "local",
    help: "local: subprocesses on this machine; slurm: one job array (one task per run) and a report job",
  },
  { name: "partition", type: "string", help: "(slurm) partition" },
  { name: "time", type: "string", help: "(slurm) time limit per run, e.g. 2-00:00:00" },
  { name: "gpus-per-task", type: "int", min: 1, help: "(slurm) GPUs per run" },
  { name: "cpus-per-task", type: "int", min: 1, help: "(slurm) CPUs per run" },
  { name: "mem", type: "string", help: "(slurm) memory per run, e.g. 16G" },
  { name: "account", type: "string", help: "(slurm) account" },
  { name: "qos", type: "string", help: "(slurm) quality of service" },
  { name: "sbatch-arg", type: "strings", help: "(slurm) any other sbatch option, kept whole; repeatable" },
  { name: "throttle", type: "int", min: 1, help: "(slurm) array tasks running at once (--array=…%T)" },
  {
    name: "max-requeue",
    type: "int",
    min: 0,
    default: SLURM_DEFAULTS.maxRequeue,
    help: "(slurm) times a run stopped before its time limit is requeued to resume from last.ckpt",
  },
  {
    name: "signal-seconds",
    type: "int",
    min: 1,
    default: SLURM_DEFAULTS.signalSeconds,
    help: "(slurm) seconds before the time limit that a run is told to checkpoint (--signal=B:USR1@S)",
  },
]);

/** Every flag of `deno task sweep`. */
export const SWEEP_FLAGS = defineFlags([
  ...GRID_FLAGS,
  {
    name: "runs-dir",
    type: "path",
    expect: "folder",
    help: "sweep folder (default: runs/<preset>, in the repository)",
  },
  ...RUN_FLAGS,
  ...EXECUTOR_FLAGS,
  {
    name: "dry-run",
    type: "boolean",
    default: false,
    help: "print what would run (one line per run; with slurm the batch scripts) and exit",
  },
  { name: "status", type: "boolean", default: false, help: "print the runs by state and their Slurm jobs, and exit" },
  {
    name: "slurm-array-task",
    type: "boolean",
    default: false,
    help: "(internal, run by the batch script) train and evaluate the run of SLURM_ARRAY_TASK_ID",
  },
  {
    name: "slurm-report",
    type: "boolean",
    default: false,
    help: "(internal, run by the report job) draw the figures and the report of the sweep",
  },
  ...PASSTHROUGH_TRAIN_FLAGS,
]);

/** The flags only `--executor slurm` takes (those without a default). */
const SLURM_ONLY = [
  "partition",
  "time",
  "gpus-per-task",
  "cpus-per-task",
  "mem",
  "account",
  "qos",
  "throttle",
] as const;

/**
 * The Slurm settings of parsed flags, or null for `--executor local`. Throws
 * {@linkcode UserError} for a Slurm flag without `--executor slurm`, a time
 * limit Slurm would not parse, or a warning signal not before the limit.
 */
export function slurmOptionsFromFlags(v: FlagValues<typeof EXECUTOR_FLAGS>): SlurmOptions | null {
  const extra = v["sbatch-arg"] ?? [];
  if (v["executor"] !== "slurm") {
    const given = SLURM_ONLY.find((name) => v[name] !== undefined) ?? (extra.length > 0 ? "sbatch-arg" : undefined);
    if (given) throw new UserError(`--${given}: only with --executor slurm`);
    return null;
  }
  for (const a of extra) {
    sbatchWord(a, "--sbatch-arg"); // a line break or a job separator: refused before anything else
    if (!a.startsWith("-")) throw new UserError(`--sbatch-arg ${a}: expected an sbatch option (starting with -)`);
    if (/^--?(array|signal|output|job-name|dependency|requeue|open-mode)\b/.test(a)) {
      throw new UserError(`--sbatch-arg ${a}: set by the sweep itself`);
    }
  }
  for (const name of ["partition", "time", "mem", "account", "qos"] as const) {
    const value = v[name];
    if (value !== undefined) sbatchWord(`--${name}=${value}`, `--${name}`);
  }
  const signalSeconds = v["signal-seconds"];
  const time = v["time"];
  if (time !== undefined) {
    const limit = slurmTimeSeconds(time);
    if (limit <= signalSeconds) {
      throw new UserError(
        `--signal-seconds ${signalSeconds}: must be below the time limit (--time ${time} is ${limit} s)`,
      );
    }
  }
  return {
    partition: v["partition"],
    time,
    gpusPerTask: v["gpus-per-task"],
    cpusPerTask: v["cpus-per-task"],
    mem: v["mem"],
    account: v["account"],
    qos: v["qos"],
    sbatchArgs: extra,
    throttle: v["throttle"],
    signalSeconds,
    maxRequeue: v["max-requeue"],
  };
}

/**
 * The sweep configuration of parsed flags: the preset, with the grid flags and
 * any passed-through train flags overriding it. Throws {@linkcode UserError} on
 * a bad value.
 */
export function sweepConfigFromFlags(v: FlagValues<typeof SWEEP_FLAGS>): SweepConfig {
  const config = sweepPreset(v["preset"]);
  if (v["losses"] !== undefined) config.losses = v["losses"].map((l) => parseLossName(l));
  config.widths = v["widths"] ?? config.widths;
  config.epochs = v["epochs-list"] ?? config.epochs;
  // The preset's claims name cells of its own grid: another grid is judged by the claims of its corners.
  if (v["widths"] !== undefined || v["epochs-list"] !== undefined) delete config.claims;
  config.seeds = v["seeds"] ?? config.seeds;
  if (v["dataset"] !== undefined) config.dataset = v["dataset"];
  if (v["model"] !== undefined) config.model = v["model"];
  for (const spec of PASSTHROUGH_TRAIN_FLAGS) {
    // A train flag: its value is a string, number or boolean (TRAIN_FLAGS has no list flags), untyped here by the filter.
    if (v[spec.name] !== undefined) config.trainArgs[spec.name] = v[spec.name] as TrainArgValue;
  }
  validateSweepConfig(config);
  // The train task's own parser checks the shared flags (a preset's too) before anything starts.
  parseFlags(trainArgsToFlags(config.trainArgs), TRAIN_FLAGS);
  return config;
}
