/**
 * The reference's optimisers, written out so that every detail matches
 * PyTorch: weight decay is *coupled* (added to the gradient before the
 * momentum update, as `torch.optim.SGD(weight_decay=…)` does), and the global
 * gradient norm is clipped (PyTorch's `clip_grad_norm_`) before the step.
 *
 * Clipping is folded into {@linkcode Optimizer.apply}, which updates one
 * variable at a time. Concatenating the variables into one flat vector (as
 * PyTorch's fused optimisers do) saves ops, but on the native backend the
 * concatenations, splits and reshapes cost more than the ops they saved
 * (measured: a grouped MLP step was 4–14% slower; BENCHMARKS.md).
 */
import { tf } from "../backend/tf.ts";

/** Optimiser names accepted by `--opt`. */
export const OPTIMIZER_NAMES = ["sgd", "adam"] as const;

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

/** SGD with momentum (optionally Nesterov) or Adam, on a fixed list of variables. */
export class Optimizer {
  /** Per-variable state: SGD's momentum buffer, or Adam's first and second moments. */
  readonly slots: tf.Variable[][];
  /** Steps taken (Adam's bias correction needs it). */
  step = 0;

  constructor(readonly variables: tf.Variable[], readonly cfg: OptimizerConfig) {
    const nSlots = cfg.opt === "adam" ? 2 : 1;
    this.slots = variables.map((v) =>
      Array.from({ length: nSlots }, () => {
        const zeros = tf.zerosLike(v);
        const slot = tf.variable(zeros, false);
        zeros.dispose(); // the variable keeps its own reference to the data
        return slot;
      })
    );
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
      const clipped = clipNorm > 0 ? clipByGlobalNorm(grads, clipNorm) : grads;
      this.variables.forEach((p, i) => {
        const g = weightDecay !== 0 ? tf.add(clipped[i], tf.mul(p, weightDecay)) : clipped[i];
        const slots = this.slots[i];
        if (this.cfg.opt === "sgd") {
          let d = g;
          if (momentum !== 0) {
            const buf = tf.add(tf.mul(slots[0], momentum), g);
            slots[0].assign(buf);
            d = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
          }
          p.assign(tf.sub(p, tf.mul(d, lr)));
        } else {
          const m = tf.add(tf.mul(slots[0], beta1), tf.mul(g, 1 - beta1));
          const v = tf.add(tf.mul(slots[1], beta2), tf.mul(tf.square(g), 1 - beta2));
          slots[0].assign(m);
          slots[1].assign(v);
          const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
          p.assign(tf.sub(p, tf.mul(tf.div(m, denom), lr / bc1)));
        }
      });
    });
  }

  /** Frees the optimiser state. */
  dispose(): void {
    for (const s of this.slots) for (const v of s) v.dispose();
  }
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
