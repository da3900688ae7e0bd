/**
 * The reference's optimisers, written out so that every detail matches
 * PyTorch: weight decay is *coupled* (added to the gradient before the
 * momentum update, as `torch.optim.SGD(weight_decay=…)` does), and the global
 * gradient norm is clipped (PyTorch's `clip_grad_norm_`) before the step.
 *
 * Clipping is folded into {@linkcode Optimizer.apply}. On the native backend
 * every op costs tens of microseconds of dispatch whatever its size, so the
 * many small vectors (biases, batch-norm γ and β) are concatenated and updated
 * as one (a few ops instead of seven per variable). The matrices and filters
 * are updated one at a time: concatenating them too (as PyTorch's fused
 * optimisers do) copies the whole model several times a step, which cost more
 * than the ops it saved (an MLP step 4–14% slower; BENCHMARKS.md). Every
 * element sees the same float32 operations either way.
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

/** The reference's optimiser: SGD, momentum 0.9, weight decay 5e-4, no Nesterov (as `DEFAULT_CONFIG` trains). */
export const REFERENCE_SGD: Readonly<OptimizerConfig> = {
  opt: "sgd",
  momentum: 0.9,
  weightDecay: 5e-4,
  nesterov: false,
};

/** SGD with momentum (optionally Nesterov) or Adam, on a fixed list of variables. */
export class Optimizer {
  /** Per-variable state: SGD's momentum buffer, or Adam's first and second moments. */
  readonly slots: tf.Variable[][];
  /** Steps taken (Adam's bias correction needs it). */
  step = 0;
  /** Indices of the vectors (biases, batch-norm γ and β), updated together as one concatenated vector. */
  readonly #vectors: number[];
  /** Indices of the other variables, updated one at a time. */
  readonly #others: number[];

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
    const vectors = variables.flatMap((v, i) => v.rank === 1 ? [i] : []);
    this.#vectors = vectors.length > 1 ? vectors : [];
    this.#others = variables.flatMap((_, i) => this.#vectors.includes(i) ? [] : [i]);
  }

  /**
   * Applies one update with learning rate `lr` to gradients `[same order as
   * variables]`, first scaling them to a global L2 norm of at most `clipNorm`
   * when it is positive (as {@linkcode clipByGlobalNorm}). Stays on the
   * device: nothing is read back.
   */
  apply(grads: tf.Tensor[], lr: number | tf.Scalar, clipNorm = 0): void {
    this.step++;
    const { momentum, weightDecay, nesterov } = this.cfg;
    const [beta1, beta2] = this.cfg.betas ?? [0.9, 0.999];
    const eps = this.cfg.eps ?? 1e-8;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      const clipped = clipNorm > 0 ? clipByGlobalNorm(grads, clipNorm) : grads;
      // One update of parameter p with gradient g and state slots; the new values.
      const update = (p: tf.Tensor, gradient: tf.Tensor, slots: tf.Tensor[]): { p: tf.Tensor; slots: tf.Tensor[] } => {
        const g = weightDecay !== 0 ? tf.add(gradient, tf.mul(p, weightDecay)) : gradient;
        if (this.cfg.opt === "sgd") {
          if (momentum === 0) return { p: tf.sub(p, tf.mul(g, lr)), slots: [] }; // no momentum buffer
          const buf = tf.add(tf.mul(slots[0], momentum), g);
          const d = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
          return { p: tf.sub(p, tf.mul(d, lr)), slots: [buf] };
        }
        const m = tf.add(tf.mul(slots[0], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(slots[1], beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
        if (typeof lr !== "number") throw new Error("Adam takes the learning rate as a number");
        return { p: tf.sub(p, tf.mul(tf.div(m, denom), lr / bc1)), slots: [m, v] };
      };
      const assign = (indices: number[], r: { p: tf.Tensor; slots: tf.Tensor[] }) => {
        const sizes = indices.map((i) => this.variables[i].size);
        const pieces = (t: tf.Tensor) => indices.length === 1 ? [t] : tf.split(t, sizes);
        pieces(r.p).forEach((t, k) => this.variables[indices[k]].assign(t));
        r.slots.forEach((slot, j) => pieces(slot).forEach((t, k) => this.slots[indices[k]][j].assign(t)));
      };
      const cat = (ts: tf.Tensor[]) => ts.length === 1 ? ts[0] : tf.concat(ts);
      const v = this.#vectors;
      if (v.length > 0) {
        const slots = this.slots[v[0]].map((_, j) => cat(v.map((i) => this.slots[i][j])));
        assign(v, update(cat(v.map((i) => this.variables[i])), cat(v.map((i) => clipped[i])), slots));
      }
      for (const i of this.#others) assign([i], update(this.variables[i], clipped[i], this.slots[i]));
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
