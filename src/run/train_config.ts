/**
 * The training configuration: one plain object, every default in one place,
 * printed and saved (`config.json`) with every run. Defaults are the
 * reference's (seed-spec.md), with its README's documented values where the
 * README and code disagree (width 2, 800 epochs, seed 1, cifar100).
 */
import type { BackendName } from "../backend/mod.ts";
import { DEFAULT_LOSS_PARAMS, type LossName } from "../losses/names.ts";

/** Every setting of a training run. */
export interface TrainConfig {
  dataset: string;
  /** Where the dataset files are (ignored by `synthetic` and `fashion-mnist-subset`). */
  datasetRoot: string;
  /** Fetch CIFAR archives when missing. */
  download: boolean;
  model: string;
  width: number;
  epochs: number;
  seed: number;
  loss: LossName;
  /** MSE target scale. */
  rescale: number;
  /** Focal-loss γ. */
  gamma: number;
  /** Label-smoothing α. */
  smoothing: number;
  opt: "sgd" | "adam";
  lr: number;
  momentum: number;
  /** Coupled weight decay. */
  weightDecay: number;
  nesterov: boolean;
  lrScheduler: "step" | "cos";
  /** Global L2 norm the gradients are clipped to before each step. */
  clipNorm: number;
  batchSize: number;
  testBatchSize: number;
  /** Checkpoint every this many epochs; 0 means E/100 (at least 1). */
  saveInterval: number;
  savePath: string;
  dataAug: boolean;
  bias: boolean;
  /** Resume from the run folder's latest checkpoint. */
  load: boolean;
  backend: BackendName;
  /** Keep this many training images per class (0 = all). */
  trainSubset: number;
  mlpDepth: number;
  mlpHidden: number;
  /** ResNets: gradient checkpointing per residual block (less memory, more time). */
  checkpointing: boolean;
  /** Synthetic dataset: dimension, classes, samples per class, mean separation. */
  syntheticDim: number;
  syntheticClasses: number;
  syntheticPerClass: number;
  syntheticSeparation: number;
}

/** The reference's defaults. */
export const DEFAULT_CONFIG: TrainConfig = {
  dataset: "cifar100",
  datasetRoot: "../data/",
  download: false,
  model: "wide_resnet50",
  width: 2,
  epochs: 800,
  seed: 1,
  loss: "cross_entropy",
  rescale: DEFAULT_LOSS_PARAMS.rescale,
  gamma: DEFAULT_LOSS_PARAMS.gamma,
  smoothing: DEFAULT_LOSS_PARAMS.smoothing,
  opt: "sgd",
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  nesterov: false,
  lrScheduler: "step",
  clipNorm: 2,
  batchSize: 100,
  testBatchSize: 100,
  saveInterval: 0,
  savePath: "",
  dataAug: true,
  bias: true,
  load: false,
  backend: "auto",
  trainSubset: 0,
  mlpDepth: 3,
  mlpHidden: 256,
  checkpointing: true,
  syntheticDim: 32,
  syntheticClasses: 10,
  syntheticPerClass: 100,
  syntheticSeparation: 4,
};

/** The checkpoint interval actually used: `saveInterval`, or E/100 but at least 1. */
export function effectiveSaveInterval(cfg: Pick<TrainConfig, "saveInterval" | "epochs">): number {
  return cfg.saveInterval > 0 ? cfg.saveInterval : Math.max(1, Math.floor(cfg.epochs / 100));
}

/**
 * Settings that say how a run is computed, not what is trained: a resumed
 * run (`--load`) takes them from the current call; every other setting, and
 * `epochs` unless raised, comes from the run's own `config.json`.
 */
export const RUNTIME_SETTINGS: readonly (keyof TrainConfig)[] = [
  "datasetRoot",
  "download",
  "backend",
  "checkpointing",
  "testBatchSize",
  "savePath",
  "load",
];

/**
 * Upper bounds of the size settings that the flags, sweeps and a read
 * `config.json` all enforce: a width of 16 is 8 times the paper's widest
 * network; 32 hidden layers is far past any MLP the package trains.
 */
export const SETTING_LIMITS = { maxWidth: 16, maxMlpDepth: 32 } as const;

/** The values a numeric setting may take: `[min, max]`, `min` exclusive when `minExclusive`, whole numbers when `integer`. */
export interface SettingRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  integer?: boolean;
}

/**
 * The range of every numeric setting, in one place: the train flags take
 * their `min`/`max` from here and a read `config.json` is checked against the
 * same table, so a hand-edited file cannot hold what no flag accepts
 * (`lr: -5`, `momentum: 7`).
 */
export const SETTING_RANGES: { readonly [K in keyof TrainConfig]?: SettingRange } = {
  width: { min: 0, minExclusive: true, max: SETTING_LIMITS.maxWidth },
  epochs: { min: 1, integer: true },
  seed: { min: 0, integer: true },
  rescale: { min: 0, minExclusive: true },
  gamma: { min: 0 },
  smoothing: { min: 0, max: 0.999 },
  lr: { min: 0, minExclusive: true },
  momentum: { min: 0, max: 0.9999 },
  weightDecay: { min: 0 },
  clipNorm: { min: 0 },
  batchSize: { min: 1, integer: true },
  testBatchSize: { min: 1, integer: true },
  saveInterval: { min: 0, integer: true },
  trainSubset: { min: 0, integer: true },
  mlpDepth: { min: 1, max: SETTING_LIMITS.maxMlpDepth, integer: true },
  mlpHidden: { min: 1, integer: true },
  syntheticDim: { min: 1, integer: true },
  syntheticClasses: { min: 2, integer: true },
  syntheticPerClass: { min: 1, integer: true },
  syntheticSeparation: { min: 0 },
};

/**
 * Why `value` lies outside `range` (`"must be > 0"`), or "" when it fits.
 *
 * @example
 * ```ts
 * rangeProblem(-5, SETTING_RANGES.lr!); // "must be > 0"
 * ```
 */
export function rangeProblem(value: number, range: SettingRange): string {
  if (range.integer && !Number.isSafeInteger(value)) return "must be an integer";
  if (range.min !== undefined && (range.minExclusive ? value <= range.min : value < range.min)) {
    return `must be ${range.minExclusive ? ">" : ">="} ${range.min}`;
  }
  if (range.max !== undefined && value > range.max) return `must be <= ${range.max}`;
  return "";
}

/** The `min`, `max` and `minExclusive` of a setting's range, for its flag's specification. */
export function flagRange(key: keyof TrainConfig): { min?: number; max?: number; minExclusive?: boolean } {
  const { min, max, minExclusive } = SETTING_RANGES[key] ?? {};
  return { min, max, minExclusive };
}
