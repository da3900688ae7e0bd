/**
 * Whether a run's size settings can fit in this machine's memory, checked
 * before anything is allocated: `--mlp-hidden 2000000` or
 * `--synthetic-classes 1000000` must be one line at once, not an
 * "Array buffer allocation failed" stack trace or minutes of work.
 *
 * The estimate counts what grows with the size flags: the synthetic
 * dataset's values (float32), the MLP's parameters four times over
 * (weights, gradients, momentum or Adam's two moments), and the K × K
 * float64 sums the NC metrics keep. It leaves out what is small or fixed
 * (activations of one batch, the ResNets, whose size `--width ≤ 16` bounds).
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "./train_config.ts";

/** Bytes of one item of a run's memory estimate, and the flag that sets it. */
export interface BudgetItem {
  what: string;
  flag: string;
  bytes: number;
}

/** Input dimension of each dataset's samples (synthetic: `syntheticDim`). */
function inputDim(cfg: TrainConfig): number {
  if (cfg.dataset === "synthetic") return cfg.syntheticDim;
  if (cfg.dataset.startsWith("cifar")) return 32 * 32 * 3;
  return 28 * 28;
}

/** The size-dependent parts of a run's memory, in bytes. */
export function runMemoryItems(cfg: TrainConfig): BudgetItem[] {
  const items: BudgetItem[] = [];
  const k = cfg.dataset === "synthetic" ? cfg.syntheticClasses : cfg.dataset === "cifar100" ? 100 : 10;
  if (cfg.dataset === "synthetic") {
    // Train, validation (20 per class) and test (100 per class) samples, float32.
    const samples = k * (cfg.syntheticPerClass + 20 + 100);
    // Named after the flag furthest above its default, the likeliest culprit.
    const [, flag] = ([
      [cfg.syntheticClasses / DEFAULT_CONFIG.syntheticClasses, "--synthetic-classes"],
      [cfg.syntheticPerClass / DEFAULT_CONFIG.syntheticPerClass, "--synthetic-per-class"],
      [cfg.syntheticDim / DEFAULT_CONFIG.syntheticDim, "--synthetic-dim"],
    ] as const).reduce((a, b) => (b[0] > a[0] ? b : a));
    items.push({ what: "the synthetic dataset", flag, bytes: samples * cfg.syntheticDim * 4 });
  }
  if (cfg.model === "mlp") {
    const h = Math.max(1, Math.round(cfg.mlpHidden * cfg.width));
    const params = inputDim(cfg) * h + (cfg.mlpDepth - 1) * h * h + h * k;
    items.push({ what: "the MLP's weights, gradients and optimiser state", flag: "--mlp-hidden", bytes: 16 * params });
  }
  // The NC metrics' K × K float64 sums (a few of them), and K class means of the features.
  items.push({ what: "the NC metrics' K x K sums", flag: "--synthetic-classes", bytes: 4 * 8 * k * k });
  return items;
}

/** "1.23 GB" or "456 MB". */
export function gigabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toPrecision(3)} GB` : `${(bytes / 1e6).toPrecision(3)} MB`;
}

/**
 * What one job may use: three quarters of this machine's memory, or null
 * where reading it needs a permission not granted (`--allow-sys`; asked
 * without prompting).
 */
export function memoryBudget(): number | null {
  if (Deno.permissions.querySync({ name: "sys", kind: "systemMemoryInfo" }).state !== "granted") return null;
  return 0.75 * Deno.systemMemoryInfo().total;
}

/**
 * Throws {@linkcode UserError} naming the flag when the run would need more
 * than `budget` bytes (default: three quarters of this machine's memory).
 *
 * @example
 * ```ts
 * checkRunFits({ ...DEFAULT_CONFIG, model: "mlp", mlpHidden: 2_000_000 });
 * // UserError: --mlp-hidden: the MLP's weights, ... need 1.2e+14 bytes ...
 * ```
 */
export function checkRunFits(cfg: TrainConfig, budget = memoryBudget() ?? Infinity): void {
  const items = runMemoryItems(cfg);
  const total = items.reduce((s, i) => s + i.bytes, 0);
  if (total <= budget) return;
  const worst = items.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  throw new UserError(
    `${worst.flag}: ${worst.what} would need about ${gigabytes(worst.bytes)} (the run ${gigabytes(total)}), ` +
      `more than the ${gigabytes(budget)} this machine can give it`,
  );
}
