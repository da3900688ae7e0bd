/**
 * The reference's optimisers, written out so that every detail matches
 * PyTorch: weight decay is *coupled* (added to the gradient before the
 * momentum update, as `torch.optim.SGD(weight_decay=…)` does), and the global
 * gradient norm is clipped (PyTorch's `clip_grad_norm_`) before the step.
 *
 * Speed: on the native backend every tfjs op costs 10–40 µs of dispatch
 * whatever its size, so a per-variable update of a small network (about ten
 * ops per variable, clipping included) took more time than its arithmetic.
 * Variables are therefore updated in groups: consecutive variables whose sizes
 * add up to at most {@linkcode OPTIMIZER_GROUP_ELEMENTS} are concatenated into
 * one flat vector, updated by a handful of ops, and split back (as PyTorch's
 * fused optimisers do). The MLP is one group; the ResNets' groups keep the
 * transient copies a few megabytes each. Every element sees the same
 * operations, in the same order, as in a per-variable update followed by
 * {@linkcode clipByGlobalNorm}: the results are the same to the last bit.
 */
import { tf } from "../backend/tf.ts";

/** Optimiser names accepted by `--opt`. */
export const OPTIMIZER_NAMES = ["sgd", "adam"] as const;

/** Largest number of scalars the optimiser concatenates into one flat update (a larger variable is its own group). */
export const OPTIMIZER_GROUP_ELEMENTS = 1 << 20;

/** Hyper-parameters of {@linkcode Optimizer}. */
export interface OptimizerConfig {
  opt: "sgd" | "adam";
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  /** Adam's β₁, β₂ and ε (PyTorch defaults). */
  betas?: [number, number];
  eps?: number;
}

/**
 * Splits variables of sizes `sizes` into runs of consecutive indices whose
 * sizes add up to at most `limit` (a variable larger than `limit` alone).
 *
 * @example
 * ```ts
 * groupConsecutive([3, 3, 5, 1], 6); // [[0, 1], [2, 3]]
 * ```
 */
export function groupConsecutive(sizes: number[], limit: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let total = 0;
  sizes.forEach((size, i) => {
    if (current.length > 0 && total + size > limit) {
      groups.push(current);
      current = [];
      total = 0;
    }
    current.push(i);
    total += size;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** SGD with momentum (optionally Nesterov) or Adam, on a fixed list of variables. */
export class Optimizer {
  /** Per-variable state: SGD's momentum buffer, or Adam's first and second moments. */
  readonly slots: tf.Variable[][];
  /** Steps taken (Adam's bias correction needs it). */
  step = 0;
  readonly #groups: number[][];

  /** `groupElements`: the size limit of a flat update group (tests use small ones). */
  constructor(
    readonly variables: tf.Variable[],
    readonly cfg: OptimizerConfig,
    groupElements: number = OPTIMIZER_GROUP_ELEMENTS,
  ) {
    const nSlots = cfg.opt === "adam" ? 2 : 1;
    this.slots = variables.map((v) =>
      Array.from({ length: nSlots }, () => {
        const zeros = tf.zerosLike(v);
        const slot = tf.variable(zeros, false);
        zeros.dispose(); // the variable keeps its own reference to the data
        return slot;
      })
    );
    this.#groups = groupConsecutive(variables.map((v) => v.size), groupElements);
  }

  /**
   * Applies one update with learning rate `lr` to gradients `[same order as
   * variables]`, first scaling them to a global L2 norm of at most `clipNorm`
   * when it is positive (as {@linkcode clipByGlobalNorm}). Stays on the
   * device: nothing is read back.
   */
  apply(grads: tf.Tensor[], lr: number, clipNorm = 0): void {
    this.step++;
    const { momentum, weightDecay, nesterov } = this.cfg;
    const [beta1, beta2] = this.cfg.betas ?? [0.9, 0.999];
    const eps = this.cfg.eps ?? 1e-8;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      // The squared norm is summed per variable first, exactly as clipByGlobalNorm does, so that a step
      // gives the same numbers as before the update was grouped (summing the flat vector in one go rounds
      // differently, and training runs drift apart from those rounding differences).
      const coef = clipNorm > 0 ? clipCoefficient(tf.addN(grads.map((g) => tf.sum(tf.square(g)))), clipNorm) : null;
      const flatGrads = this.#groups.map((g) => flatten(grads, g));
      this.#groups.forEach((group, k) => {
        const p = flatten(this.variables, group);
        let g = coef ? tf.mul(flatGrads[k], coef) : flatGrads[k];
        if (weightDecay !== 0) g = tf.add(g, tf.mul(p, weightDecay));
        const slot = (j: number) => flatten(this.slots.map((s) => s[j]), group);
        if (this.cfg.opt === "sgd") {
          let d = g;
          if (momentum !== 0) {
            const buf = tf.add(tf.mul(slot(0), momentum), g);
            scatter(buf, group, this.slots.map((s) => s[0]));
            d = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
          }
          scatter(tf.sub(p, tf.mul(d, lr)), group, this.variables);
        } else {
          const m = tf.add(tf.mul(slot(0), beta1), tf.mul(g, 1 - beta1));
          const v = tf.add(tf.mul(slot(1), beta2), tf.mul(tf.square(g), 1 - beta2));
          scatter(m, group, this.slots.map((s) => s[0]));
          scatter(v, group, this.slots.map((s) => s[1]));
          const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
          scatter(tf.sub(p, tf.mul(tf.div(m, denom), lr / bc1)), group, this.variables);
        }
      });
    });
  }

  /** Frees the optimiser state. */
  dispose(): void {
    for (const s of this.slots) for (const v of s) v.dispose();
  }
}

/** The tensors `ts[i]` for `i` in `group` as one flat vector (the tensor itself for a group of one). */
function flatten(ts: tf.Tensor[], group: number[]): tf.Tensor {
  if (group.length === 1) return ts[group[0]];
  return tf.concat(group.map((i) => ts[i].rank === 1 ? ts[i] : tf.reshape(ts[i], [-1])));
}

/** Assigns the pieces of the flat `value` to the variables `vars[i]` for `i` in `group`. */
function scatter(value: tf.Tensor, group: number[], vars: tf.Variable[]): void {
  if (group.length === 1) {
    vars[group[0]].assign(value);
    return;
  }
  const parts = tf.split(value, group.map((i) => vars[i].size));
  group.forEach((i, j) => vars[i].assign(vars[i].rank === 1 ? parts[j] : tf.reshape(parts[j], vars[i].shape)));
}

/** min(1, maxNorm / (‖g‖ + 1e-6)) from the summed squares ‖g‖² (PyTorch's `clip_grad_norm_`). */
function clipCoefficient(sumOfSquares: tf.Tensor, maxNorm: number): tf.Tensor {
  return tf.minimum(tf.div(maxNorm, tf.add(tf.sqrt(sumOfSquares), 1e-6)), 1);
}

/**
 * Scales gradients so that their global L2 norm is at most `maxNorm`
 * (PyTorch's `clip_grad_norm_`: factor min(1, maxNorm / (‖g‖ + 1e-6))).
 * Stays on the device: no synchronisation with JavaScript.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): tf.Tensor[] {
  return tf.tidy(() => {
    const coef = clipCoefficient(tf.addN(grads.map((g) => tf.sum(tf.square(g)))), maxNorm);
    return grads.map((g) => tf.mul(g, coef));
  });
}
