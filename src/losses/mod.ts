/**
 * The four losses of the paper, exactly as the reference defines them, with
 * mean reduction over the batch. For logits z ∈ ℝ^K of one sample with class
 * y and p = softmax(z):
 *
 * - cross entropy: −log p_y
 * - mean squared error: (1/K) Σ_k (z_k − s·[k = y])², s = rescale (15); the
 *   reference averages over the batch *and* the classes (PyTorch `mse_loss`)
 * - focal loss: −(1 − p_y)^γ · log p_y, γ = 3
 * - label smoothing: (1 − α)(−log p_y) + α · mean_k(−log p_k), α = 0.05
 *
 * Every log-probability comes from `tf.logSoftmax` (log-sum-exp), so logits
 * of ±100 give finite values and gradients.
 *
 * @example
 * ```ts
 * const loss = makeLoss("focal_loss", { gamma: 3 });
 * const value = loss(tf.tensor2d([[2, 0, -1]]), tf.tensor1d([0], "int32"));
 * ```
 */
import { tf } from "../backend/tf.ts";
import { UserError } from "../errors.ts";
import { DEFAULT_LOSS_PARAMS, LOSS_NAMES, lossInfo, type LossName } from "./names.ts";

export {
  DEFAULT_LOSS_PARAMS,
  expandLossAbbreviation,
  LOSS_ABBREVIATIONS,
  LOSS_NAMES,
  LOSSES,
  type LossName,
} from "./names.ts";

/** The loss parameters; each loss reads only its own. */
export interface LossParams {
  /** MSE target scale s (`--rescale`). */
  rescale?: number;
  /** Focal-loss exponent γ (`--gamma`). */
  gamma?: number;
  /** Label-smoothing weight α (`--smoothing`). */
  smoothing?: number;
}

/** A batch loss: logits `[B, K]`, integer labels `[B]` → mean loss (scalar). */
export type LossFn = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;

/**
 * log p `[B, K]` and log p_y `[B]` (the label's entry of each row), the one
 * log-softmax the cross-entropy-based losses share. Call inside `tf.tidy`.
 */
function logProbabilities(logits: tf.Tensor2D, labels: tf.Tensor1D): { logp: tf.Tensor2D; logpY: tf.Tensor1D } {
  const logp = tf.logSoftmax(logits);
  const logpY = tf.sum(tf.mul(oneHot(labels, logits.shape[1]), logp), 1) as tf.Tensor1D;
  return { logp, logpY };
}

/** Cross entropy −log p_y, averaged over the batch. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(logProbabilities(logits, labels).logpY)));
}

/** Mean squared error against `rescale`·one-hot targets, averaged over batch and classes. */
export function meanSquareError(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  rescale = DEFAULT_LOSS_PARAMS.rescale,
): tf.Scalar {
  return tf.tidy(() => {
    const target = tf.mul(oneHot(labels, logits.shape[1]), rescale);
    return tf.mean(tf.squaredDifference(logits, target));
  });
}

/**
 * Focal loss −(1 − p_y)^γ log p_y, averaged over the batch. γ = 0 is cross
 * entropy. For γ < 1 the gradient at p_y = 1 is unbounded, so γ must be ≥ 1
 * or 0 (the paper uses 1–5).
 */
export function focalLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, gamma = DEFAULT_LOSS_PARAMS.gamma): tf.Scalar {
  return tf.tidy(() => {
    const { logpY } = logProbabilities(logits, labels);
    if (gamma === 0) return tf.neg(tf.mean(logpY));
    // 1 − p_y ≥ 0 always; relu guards against a rounding-negative value that
    // pow would turn into NaN for non-integer γ.
    const oneMinusP = tf.relu(tf.sub(1, tf.exp(logpY)));
    return tf.neg(tf.mean(tf.mul(tf.pow(oneMinusP, gamma), logpY)));
  });
}

/** Label smoothing (1 − α)(−log p_y) + α·mean_k(−log p_k), averaged over the batch. */
export function labelSmoothing(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  smoothing = DEFAULT_LOSS_PARAMS.smoothing,
): tf.Scalar {
  return tf.tidy(() => {
    const { logp, logpY } = logProbabilities(logits, labels);
    const nll = tf.neg(logpY);
    const uniform = tf.neg(tf.mean(logp, 1));
    return tf.mean(tf.add(tf.mul(nll, 1 - smoothing), tf.mul(uniform, smoothing)));
  });
}

/**
 * The loss function for a name, with its parameter bound.
 *
 * @throws {UserError} for an unknown name or an out-of-range parameter.
 */
export function makeLoss(name: string, params: LossParams = {}): LossFn {
  const p = { ...DEFAULT_LOSS_PARAMS, ...params };
  switch (name) {
    case "cross_entropy":
      return crossEntropy;
    case "mean_square_error":
      if (!(p.rescale > 0)) throw new UserError(`--rescale: must be > 0, got ${p.rescale}`);
      return (z, y) => meanSquareError(z, y, p.rescale);
    case "focal_loss":
      if (!(p.gamma === 0 || p.gamma >= 1)) throw new UserError(`--gamma: must be 0 or >= 1, got ${p.gamma}`);
      return (z, y) => focalLoss(z, y, p.gamma);
    case "label_smoothing":
      if (!(p.smoothing >= 0 && p.smoothing < 1)) {
        throw new UserError(`--smoothing: must be in [0, 1), got ${p.smoothing}`);
      }
      return (z, y) => labelSmoothing(z, y, p.smoothing);
    default:
      throw new UserError(`--loss: unknown loss '${name}'; choose one of ${LOSS_NAMES.join(", ")}`);
  }
}

/** The parameters that matter for `name` (for configs, legends and run records). */
export function lossParamsFor(name: LossName, params: LossParams = {}): LossParams {
  const parameter = lossInfo(name)?.parameter;
  if (!parameter) return {};
  return { [parameter.key]: params[parameter.key] ?? parameter.default };
}

/** A float32 one-hot matrix `[B, K]` for integer labels `[B]`. */
export function oneHot(labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(labels, "int32"), numClasses), "float32") as tf.Tensor2D);
}
