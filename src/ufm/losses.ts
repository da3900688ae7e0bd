/**
 * The four losses of the paper in float64, each as one function that returns
 * the loss of one sample and writes its gradient with respect to the logits.
 * They follow the package's definitions (`src/losses/`, reference `train.py`);
 * `tests/ufm_losses_agree_test.ts` checks that both agree.
 *
 * z = logits of one sample (K numbers), y = its class, p = softmax(z):
 *
 * - `cross_entropy`:     −log p_y
 * - `focal_loss`:        −(1 − p_y)^γ · log p_y
 * - `label_smoothing`:   (1 − α)(−log p_y) + α · mean_k(−log p_k)
 * - `mean_square_error`: mean_k (z_k − s·[k = y])²  (mean over the K outputs, as the reference)
 *
 * The softmax losses are evaluated through a log-sum-exp that keeps the largest
 * term exact (`log1p` of the others), so −log p_y is accurate to the last bit
 * even when p_y rounds to 1, and logits of ±1e4 give no NaN.
 */
import { UserError } from "../errors.ts";
import {
  DEFAULT_LOSS_PARAMS as TABLE_DEFAULTS,
  expandLossAbbreviation,
  LOSS_NAMES,
  type LossName,
} from "../losses/names.ts";

/**
 * Loss of one sample and, if `grad` is given, its gradient ∂L/∂z written into
 * `grad[offset .. offset + K)`. The logits are `z[offset .. offset + K)`.
 */
export type SampleLoss = (z: Float64Array, offset: number, K: number, y: number, grad: Float64Array | null) => number;

/** A loss as the UFM solver uses it. */
export interface UfmLoss {
  /** The loss's name, as `--loss` spells it. */
  name: string;
  /**
   * Whether L(z + c·1) = L(z) for every c. For such losses a regularised bias
   * is zero at every minimiser (it only adds λ_b‖b‖²/2), which the reduced
   * problem uses.
   */
  shiftInvariant: boolean;
  /** Value (and gradient) for one sample. */
  sample: SampleLoss;
}

/** Hyper-parameters of the losses; the defaults are the reference's. */
export interface UfmLossParams {
  /** Focal-loss γ (reference `--gamma`, 3). */
  gamma: number;
  /** Label-smoothing α (reference `--smoothing`, 0.05). */
  smoothing: number;
  /** MSE target scale s (reference `--rescale`, 15). */
  rescale: number;
}

/** The reference's loss hyper-parameters (the loss table's defaults): γ = 3, α = 0.05, s = 15. */
export const DEFAULT_LOSS_PARAMS: Readonly<UfmLossParams> = TABLE_DEFAULTS;

/** Names of the losses the UFM solves, in the loss table's order (CE, LS, FL, MSE). */
export function ufmLossNames(): string[] {
  return [...LOSS_NAMES];
}

/**
 * The loss called `name` with the given hyper-parameters.
 * Throws {@linkcode UserError} for an unknown name or a bad parameter.
 *
 * @example
 * ```ts
 * const fl = ufmLoss("focal_loss", { gamma: 2 });
 * const g = new Float64Array(3);
 * fl.sample(new Float64Array([2, 0, -1]), 0, 3, 0, g); // loss of class 0, gradient in g
 * ```
 */
export function ufmLoss(name: string, params: Partial<UfmLossParams> = {}): UfmLoss {
  const full = expandLossAbbreviation(name);
  const factory = (LOSS_NAMES as readonly string[]).includes(full) ? FACTORIES[full as LossName] : undefined;
  if (!factory) {
    throw new UserError(
      `--loss: unknown loss '${name}'; choose from ${ufmLossNames().join(", ")} (or ce, mse, fl, ls)`,
    );
  }
  const p: UfmLossParams = { ...DEFAULT_LOSS_PARAMS, ...params };
  if (!(p.gamma >= 0) || !Number.isFinite(p.gamma)) throw new UserError(`--gamma: must be >= 0, got ${p.gamma}`);
  if (!(p.smoothing >= 0 && p.smoothing < 1)) {
    throw new UserError(`--smoothing: must be in [0, 1), got ${p.smoothing}`);
  }
  if (!(p.rescale > 0) || !Number.isFinite(p.rescale)) throw new UserError(`--rescale: must be > 0, got ${p.rescale}`);
  return factory(p);
}

/**
 * log Σ_k exp(z_k) over `z[o .. o+K)` split as m + tail, m = max_k z_k and
 * tail = log1p(Σ_{k≠argmax} e^{z_k − m}). Log-probabilities are then formed as
 * (z_k − m) − tail, which is exact for the largest class even when its
 * probability rounds to 1 (−log p_y = tail ≈ Σ e^{z_k − m}, not 0).
 */
function logSumExp(z: Float64Array, o: number, K: number): { m: number; tail: number } {
  let m = -Infinity;
  let arg = 0;
  for (let k = 0; k < K; k++) {
    if (z[o + k] > m) {
      m = z[o + k];
      arg = k;
    }
  }
  let rest = 0;
  for (let k = 0; k < K; k++) if (k !== arg) rest += Math.exp(z[o + k] - m);
  return { m, tail: Math.log1p(rest) };
}

const crossEntropy: SampleLoss = (z, o, K, y, grad) => {
  const { m, tail } = logSumExp(z, o, K);
  if (grad) {
    for (let k = 0; k < K; k++) grad[o + k] = Math.exp(z[o + k] - m - tail);
    // p_y − 1 = −Σ_{k≠y} p_k, which keeps its digits when p_y ≈ 1.
    let q = 0;
    for (let k = 0; k < K; k++) if (k !== y) q += grad[o + k];
    grad[o + y] = -q;
  }
  return tail - (z[o + y] - m);
};

function focalLoss(gamma: number): SampleLoss {
  return (z, o, K, y, grad) => {
    const { m, tail } = logSumExp(z, o, K);
    const logPy = (z[o + y] - m) - tail;
    // q = 1 − p_y summed from the other classes, exact when p_y ≈ 1.
    let q = 0;
    for (let k = 0; k < K; k++) if (k !== y) q += Math.exp(z[o + k] - m - tail);
    const qg = Math.pow(q, gamma);
    if (grad) {
      // ∂L/∂z_k = F·(δ_ky − p_k), F = γ q^(γ−1) p_y log p_y − q^γ = q^γ (γ p_y (log p_y)/q − 1);
      // (log p_y)/q → −1 as q → 0, which keeps F finite for every γ ≥ 0.
      const pY = Math.exp(logPy);
      const ratio = q > 0 ? logPy / q : -1;
      const F = qg * (gamma * pY * ratio - 1);
      for (let k = 0; k < K; k++) grad[o + k] = k === y ? F * q : -F * Math.exp(z[o + k] - m - tail);
    }
    return -qg * logPy;
  };
}

function labelSmoothing(alpha: number): SampleLoss {
  return (z, o, K, y, grad) => {
    const { m, tail } = logSumExp(z, o, K);
    // mean_k(−log p_k) = tail − mean_k (z_k − m)
    let mean = 0;
    for (let k = 0; k < K; k++) mean += z[o + k] - m;
    mean /= K;
    if (grad) {
      // ∂L/∂z_k = p_k − (1 − α)δ_ky − α/K; p_y − 1 taken from the other classes.
      let q = 0;
      for (let k = 0; k < K; k++) {
        const p = Math.exp(z[o + k] - m - tail);
        if (k !== y) q += p;
        grad[o + k] = p - alpha / K;
      }
      grad[o + y] = -q + alpha - alpha / K;
    }
    return (1 - alpha) * (tail - (z[o + y] - m)) + alpha * (tail - mean);
  };
}

function meanSquareError(rescale: number): SampleLoss {
  return (z, o, K, y, grad) => {
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const r = z[o + k] - (k === y ? rescale : 0);
      sum += r * r;
      if (grad) grad[o + k] = (2 / K) * r;
    }
    return sum / K;
  };
}

const FACTORIES: Record<LossName, (p: UfmLossParams) => UfmLoss> = {
  cross_entropy: () => ({ name: "cross_entropy", shiftInvariant: true, sample: crossEntropy }),
  mean_square_error: (p) => ({
    name: "mean_square_error",
    shiftInvariant: false,
    sample: meanSquareError(p.rescale),
  }),
  focal_loss: (p) => ({ name: "focal_loss", shiftInvariant: true, sample: focalLoss(p.gamma) }),
  label_smoothing: (p) => ({
    name: "label_smoothing",
    shiftInvariant: true,
    sample: labelSmoothing(p.smoothing),
  }),
};
