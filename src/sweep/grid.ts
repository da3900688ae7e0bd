/**
 * The sweep grid: which independent training runs a sweep holds (losses ×
 * widths × training lengths × seeds, for one dataset and model) and where
 * each run lives, in the reference's folder naming
 * `<model>-<width>-<loss>-<epochs>-<seed>` (e.g. `wideres50-05-fl-200-321`).
 *
 * @module
 */
import { SETTING_LIMITS } from "../run/train_config.ts";
import { DATASET_NAMES } from "../data/mod.ts";
import { UserError } from "../errors.ts";
import { joinPath } from "../io.ts";
import { expandLossAbbreviation, LOSS_ABBREVIATIONS, LOSS_NAMES, type LossName } from "../losses/names.ts";
import { MODEL_NAMES } from "../models/mod.ts";
import { runName } from "../run/naming.ts";

/** A value of an extra train flag: `--name value`, or `--name` / `--no-name` for booleans. */
export type TrainArgValue = string | number | boolean;

/** One cell of the grid: a width multiplier and a training length. */
export interface GridCell {
  width: number;
  epochs: number;
}

/** A pre-registered contrast: the gap between losses is larger in `from` than in `to`. */
export interface GapContrast {
  from: GridCell;
  to: GridCell;
}

/**
 * The claims a grid is judged by, fixed before any run (`docs/statistics.md`):
 * the two trend contrasts, each one-sided and Holm-corrected together, and
 * the equivalence of every loss to CE (TOST) in one cell.
 */
export interface ClaimsConfig {
  /** The width axis at the longest length: narrowest width → widest width. */
  widthContrast: GapContrast;
  /** The length axis at the widest width: shortest length → longest length. */
  lengthContrast: GapContrast;
  /** TOST in `cell` (the widest-longest): every loss within ±`margin` accuracy points of CE. */
  equivalence: { cell: GridCell; margin: number };
  /** Family-wise error rate of the contrasts and level of each TOST (default 0.05). */
  alpha?: number;
}

/** TOST margin (accuracy points) of presets that declare none. */
export const DEFAULT_EQUIVALENCE_MARGIN = 1;

/**
 * The claims derived from a grid's corners: width contrast narrowest →
 * widest at the longest length, length contrast shortest → longest at the
 * widest width, TOST at the widest-longest cell with `margin`.
 *
 * @example
 * ```ts
 * defaultClaims([0.25, 1, 2], [2, 20, 200]).widthContrast; // { from: { width: 0.25, epochs: 200 }, to: { width: 2, epochs: 200 } }
 * ```
 */
export function defaultClaims(
  widths: readonly number[],
  epochs: readonly number[],
  margin: number = DEFAULT_EQUIVALENCE_MARGIN,
): ClaimsConfig {
  const w0 = Math.min(...widths);
  const w1 = Math.max(...widths);
  const e0 = Math.min(...epochs);
  const e1 = Math.max(...epochs);
  const corner = { width: w1, epochs: e1 };
  return {
    widthContrast: { from: { width: w0, epochs: e1 }, to: corner },
    lengthContrast: { from: { width: w1, epochs: e0 }, to: corner },
    equivalence: { cell: corner, margin },
  };
}

/** The configuration's claims: its own block, or {@linkcode defaultClaims} of its grid. */
export function claimsOf(config: Pick<SweepConfig, "widths" | "epochs" | "claims">): ClaimsConfig {
  return config.claims ?? defaultClaims(config.widths, config.epochs);
}

/** What a sweep trains: the grid and the train flags every run shares. Saved in the manifest. */
export interface SweepConfig {
  dataset: string;
  model: string;
  losses: LossName[];
  /** Width multipliers. */
  widths: number[];
  /** Training lengths in epochs. */
  epochs: number[];
  seeds: number[];
  /** Further `tasks/train.ts` flags (without dashes), e.g. `{ "train-subset": 100, "data-aug": false }`. */
  trainArgs: Record<string, TrainArgValue>;
  /** The claims its report decides; absent: {@linkcode defaultClaims} of the grid. */
  claims?: ClaimsConfig;
}

/** One run of the grid. */
export interface SweepRun {
  /** Folder name, e.g. `wideres50-05-fl-200-321`. */
  name: string;
  /** Run folder: `<root>/<name>`. */
  dir: string;
  loss: LossName;
  width: number;
  epochs: number;
  seed: number;
}

/** Train flags the sweep sets per run itself, so they cannot be shared extra arguments. */
export const SWEEP_OWNED_TRAIN_FLAGS: readonly string[] = [
  "loss",
  "save-path",
  "seed",
  "width",
  "epochs",
  "dataset",
  "model",
  "load",
  "backend",
];

/**
 * Resolves a loss given by its full name or its abbreviation (`fl` →
 * `focal_loss`); throws {@linkcode UserError} naming `flag` otherwise.
 */
export function parseLossName(value: string, flag = "--losses"): LossName {
  const name = expandLossAbbreviation(value);
  if ((LOSS_NAMES as readonly string[]).includes(name)) return name as LossName;
  throw new UserError(
    `${flag}: unknown loss '${value}'; choose from ${LOSS_NAMES.join(", ")} (or ${
      Object.values(LOSS_ABBREVIATIONS).join(", ")
    })`,
  );
}

function checkList<T>(flag: string, values: readonly T[], ok: (v: T) => boolean, rule: string): void {
  if (values.length === 0) throw new UserError(`${flag}: empty list`);
  for (const v of values) if (!ok(v)) throw new UserError(`${flag}: ${v} is out of range (${rule})`);
  if (new Set(values).size !== values.length) throw new UserError(`${flag}: repeated value in ${values.join(",")}`);
}

/** The longest file name most file systems take (ext4, XFS, APFS, NTFS: 255). */
const NAME_MAX = 255;

/**
 * Refuses a width whose run folder name would be too long to create: the
 * name spells the width out digit for digit (a width of 1e-300 takes 300
 * digits), so that no two widths share a folder.
 */
function checkNameLengths(config: SweepConfig): void {
  for (const width of config.widths) {
    for (const loss of config.losses) {
      const name = runName({
        model: config.model,
        width,
        loss,
        epochs: Math.max(...config.epochs),
        seed: Math.max(...config.seeds),
      });
      if (new TextEncoder().encode(name).length > NAME_MAX) {
        throw new UserError(
          `--widths: ${width} makes a run folder name of ${name.length} characters, more than file systems ` +
            `allow (${NAME_MAX}); choose a width of fewer digits`,
        );
      }
    }
  }
}

/**
 * Checks a sweep configuration; throws {@linkcode UserError} with a one-line
 * message naming the flag for an unknown dataset, model or loss, an empty or
 * repeated list, a width ≤ 0 or too long to name a folder, a training
 * length < 1, a negative or fractional seed, or an extra train flag the sweep
 * sets itself.
 */
export function validateSweepConfig(config: SweepConfig): void {
  if (!(DATASET_NAMES as readonly string[]).includes(config.dataset)) {
    throw new UserError(`--dataset: unknown dataset '${config.dataset}'; choose one of ${DATASET_NAMES.join(", ")}`);
  }
  if (!(MODEL_NAMES as readonly string[]).includes(config.model)) {
    throw new UserError(`--model: unknown model '${config.model}'; choose one of ${MODEL_NAMES.join(", ")}`);
  }
  for (const l of config.losses) parseLossName(l);
  checkList("--losses", config.losses, () => true, "");
  const { maxWidth } = SETTING_LIMITS;
  checkList(
    "--widths",
    config.widths,
    (w) => Number.isFinite(w) && w > 0 && w <= maxWidth,
    `must be > 0 and <= ${maxWidth}`,
  );
  checkList("--epochs-list", config.epochs, (e) => Number.isInteger(e) && e >= 1, "must be an integer >= 1");
  checkList("--seeds", config.seeds, (s) => Number.isInteger(s) && s >= 0, "must be an integer >= 0");
  checkNameLengths(config);
  for (const key of Object.keys(config.trainArgs)) {
    if (SWEEP_OWNED_TRAIN_FLAGS.includes(key)) {
      throw new UserError(`--${key}: set per run by the sweep; use the sweep's own grid flags instead`);
    }
  }
  if (config.claims) validateClaims(config.claims, config.widths, config.epochs);
}

/** Whether `cell` is a cell of the grid. */
export function inGrid(cell: GridCell, widths: readonly number[], epochs: readonly number[]): boolean {
  return widths.includes(cell.width) && epochs.includes(cell.epochs);
}

/**
 * Checks a claims block against its grid: every cell in the grid, a contrast
 * between two different cells, a margin > 0, 0 < alpha < 0.5; throws
 * {@linkcode UserError} naming the claim.
 */
export function validateClaims(claims: ClaimsConfig, widths: readonly number[], epochs: readonly number[]): void {
  const name = (c: GridCell): string => `width ${c?.width}, ${c?.epochs} epochs`;
  const cell = (what: string, c: GridCell): void => {
    if (!c || !inGrid(c, widths, epochs)) {
      throw new UserError(`claims.${what}: ${name(c)} is not a cell of the grid (widths ${widths}; epochs ${epochs})`);
    }
  };
  for (const key of ["widthContrast", "lengthContrast"] as const) {
    const c = claims[key];
    cell(`${key}.from`, c?.from);
    cell(`${key}.to`, c?.to);
    if (c.from.width === c.to.width && c.from.epochs === c.to.epochs) {
      throw new UserError(`claims.${key}: compares ${name(c.from)} with itself`);
    }
  }
  cell("equivalence.cell", claims.equivalence?.cell);
  const m = claims.equivalence.margin;
  if (!(Number.isFinite(m) && m > 0)) throw new UserError(`claims.equivalence.margin: ${m} must be > 0`);
  const a = claims.alpha;
  if (a !== undefined && !(a > 0 && a < 0.5)) throw new UserError(`claims.alpha: ${a} must be in (0, 0.5)`);
}

/**
 * Every run of the grid, in the order a sweep trains them: seeds, then widths,
 * then training lengths, with the losses innermost, so that an interrupted
 * sweep has all losses of the settings it finished.
 *
 * @example
 * ```ts
 * const runs = expandGrid("runs", { dataset: "cifar100", model: "wide_resnet50", losses: ["focal_loss"],
 *   widths: [0.5], epochs: [200], seeds: [321], trainArgs: {} });
 * runs[0].dir; // "runs/wideres50-05-fl-200-321"
 * ```
 */
export function expandGrid(root: string, config: SweepConfig): SweepRun[] {
  validateSweepConfig(config);
  const runs: SweepRun[] = [];
  const names = new Set<string>();
  for (const seed of config.seeds) {
    for (const width of config.widths) {
      for (const epochs of config.epochs) {
        for (const loss of config.losses) {
          const name = runName({ model: config.model, width, loss, epochs, seed });
          // Names are injective (runName); two runs in one folder would be counted as one.
          if (names.has(name)) throw new Error(`two grid points share the run name ${name}`);
          names.add(name);
          runs.push({ name, dir: joinPath(root, name), loss, width, epochs, seed });
        }
      }
    }
  }
  return runs;
}

/** The extra train flags as command-line arguments: `--name value`, `--name` / `--no-name` for booleans. */
export function trainArgsToFlags(trainArgs: Record<string, TrainArgValue>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(trainArgs)) {
    if (typeof value === "boolean") out.push(value ? `--${key}` : `--no-${key}`);
    else out.push(`--${key}`, String(value));
  }
  return out;
}

/**
 * The `tasks/train.ts` arguments of one run (without `--load` and `--backend`,
 * which depend on the run's state and the machine).
 */
export function trainArguments(config: SweepConfig, run: SweepRun): string[] {
  return [
    "--dataset",
    config.dataset,
    "--model",
    config.model,
    "--loss",
    run.loss,
    "--width",
    String(run.width),
    "-e",
    String(run.epochs),
    "--seed",
    String(run.seed),
    "--save-path",
    run.dir,
    ...trainArgsToFlags(config.trainArgs),
  ];
}
