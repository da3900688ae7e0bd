/**
 * Parameters and the few layers our networks are made of, on tfjs-core ops.
 * Initialisation follows PyTorch/torchvision so runs start where the
 * reference's do: convolutions Kaiming-normal with fan-out (ReLU gain),
 * batch-norm scale 1 and shift 0, linear layers U(−1/√fan_in, 1/√fan_in).
 * Values are drawn by our own {@linkcode Rng} in JavaScript, so a seed gives the
 * same initial network on every backend.
 */
import { tf } from "../backend/tf.ts";
import { hasNativeKernels, nativeReluGrad, nativeTrainingBatchNorm } from "../backend/native_kernels.ts";
import type { Rng } from "../rng.ts";

/** A trainable or running-statistic tensor with a stable name (used in checkpoints). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** Batch-norm parameters (γ, β) and running statistics. */
export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** A linear layer; `weight` is `[out, in]` like the paper's W (K×d). */
export interface LinearParams {
  weight: tf.Variable;
  bias: tf.Variable | null;
}

/** A training batch's statistics waiting to update a batch norm's running statistics. */
interface PendingUpdate {
  bn: BatchNormParams;
  mean: tf.Tensor;
  variance: tf.Tensor;
  /** Whether `variance` is already Bessel-corrected (else it is the biased batch variance). */
  unbiased: boolean;
  /** Values per channel the statistics were taken over. */
  count: number;
}

/** Batch-norm momentum and ε as in PyTorch. */
export const BN_MOMENTUM = 0.1;
export const BN_EPSILON = 1e-5;

/**
 * Creates and owns a network's variables. Also collects the batch statistics
 * of a training forward pass so they can update the running statistics
 * after the gradient step (outside the gradient tape).
 */
export class ParamStore {
  readonly trainable: NamedVariable[] = [];
  readonly buffers: NamedVariable[] = [];
  #pending: PendingUpdate[] = [];
  #recomputing = false;

  constructor(private readonly rng: Rng) {}

  #add(list: NamedVariable[], name: string, values: Float32Array, shape: number[], trainable: boolean): tf.Variable {
    // tfjs variable names are global; ours are per model, so let tfjs pick unique ones.
    const initial = tf.tensor(values, shape, "float32");
    const variable = tf.variable(initial, trainable);
    initial.dispose(); // the variable keeps its own reference to the data
    list.push({ name, variable });
    return variable;
  }

  /** A convolution filter `[kh, kw, cin, cout]`, Kaiming-normal (fan-out). */
  conv(name: string, k: number, cin: number, cout: number): tf.Variable {
    const std = Math.sqrt(2 / (cout * k * k));
    const v = new Float32Array(k * k * cin * cout);
    for (let i = 0; i < v.length; i++) v[i] = std * this.rng.normal();
    return this.#add(this.trainable, name, v, [k, k, cin, cout], true);
  }

  /** Batch-norm over `c` channels. */
  batchNorm(name: string, c: number): BatchNormParams {
    return {
      gamma: this.#add(this.trainable, `${name}.weight`, new Float32Array(c).fill(1), [c], true),
      beta: this.#add(this.trainable, `${name}.bias`, new Float32Array(c), [c], true),
      runningMean: this.#add(this.buffers, `${name}.running_mean`, new Float32Array(c), [c], false),
      runningVar: this.#add(this.buffers, `${name}.running_var`, new Float32Array(c).fill(1), [c], false),
    };
  }

  /** A linear layer `in → out`, PyTorch's default uniform initialisation. */
  linear(name: string, inDim: number, outDim: number, bias: boolean): LinearParams {
    const bound = 1 / Math.sqrt(inDim);
    const uniform = (n: number) => {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = bound * (2 * this.rng.uniform() - 1);
      return v;
    };
    const weight = this.#add(this.trainable, `${name}.weight`, uniform(inDim * outDim), [outDim, inDim], true);
    const b = bias ? this.#add(this.trainable, `${name}.bias`, uniform(outDim), [outDim], true) : null;
    return { weight, bias: b };
  }

  /**
   * Batch normalisation of `x` (`[B, H, W, C]` or `[B, C]`). In training mode
   * it normalises with the batch statistics and remembers them for
   * {@linkcode ParamStore.applyBatchNormUpdates}; in evaluation mode it uses
   * the running statistics.
   */
  applyBatchNorm(x: tf.Tensor, bn: BatchNormParams, training: boolean): tf.Tensor {
    if (!training) return tf.batchNorm(x, bn.runningMean, bn.runningVar, bn.beta, bn.gamma, BN_EPSILON);
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const count = x.size / x.shape[x.rank - 1];
    // On the native backend, maps go through TensorFlow's own fused kernels.
    if (x.rank === 4 && hasNativeKernels()) {
      const { y, mean, unbiasedVariance } = nativeTrainingBatchNorm(
        x as tf.Tensor4D,
        bn.gamma as tf.Tensor1D,
        bn.beta as tf.Tensor1D,
        BN_EPSILON,
      );
      if (this.#recomputing) tf.dispose([mean, unbiasedVariance]);
      else this.#pending.push({ bn, mean, variance: unbiasedVariance, unbiased: true, count });
      return y;
    }
    let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
    // Elsewhere, one fused op with the closed-form gradient. Built from tfjs primitives,
    // training-mode batch norm records about ten full-size intermediates per
    // layer on the gradient tape; on a WideResNet-50 that was most of the
    // step's time and over 10 GB of memory. Here the tape keeps only x̂.
    const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, gamma, beta] = args as tf.Tensor[];
      const save = args[3] as tf.GradSaveFunc;
      const { mean, variance } = tf.moments(input, axes);
      const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
      const xHat = tf.mul(tf.sub(input, mean), invStd);
      if (!this.#recomputing) stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
      save([xHat, invStd, gamma]);
      return {
        value: tf.add(tf.mul(xHat, gamma), beta),
        // tfjs calls a custom gradient outside any tidy scope of its own, so
        // without this one every temporary stays alive until the whole
        // backward pass ends.
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [xHatS, invStdS, gammaS] = saved;
            const dBeta = tf.sum(dy, axes);
            const dGamma = tf.sum(tf.mul(dy, xHatS), axes);
            // ∂L/∂x = γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)), the batch statistics' own gradients included.
            const centred = tf.sub(tf.sub(dy, tf.div(dBeta, count)), tf.mul(xHatS, tf.div(dGamma, count)));
            return [tf.mul(centred, tf.mul(gammaS, invStdS)), dGamma, dBeta];
          }),
      };
    });
    const y = fused(x, bn.gamma, bn.beta);
    if (stats) this.#pending.push({ bn, mean: stats.mean, variance: stats.variance, unbiased: false, count });
    return y;
  }

  /**
   * Queues a running-statistic update from a training batch's `mean` and
   * biased `variance` over `count` values per channel (for forward passes
   * written without {@linkcode ParamStore.applyBatchNorm}); takes ownership of
   * both tensors (kept out of any tidy scope).
   */
  queueBatchNormUpdate(bn: BatchNormParams, mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    if (this.#recomputing) return;
    this.#pending.push({ bn, mean: tf.keep(mean), variance: tf.keep(variance), unbiased: false, count });
  }

  /**
   * Runs `f` without queueing running-statistic updates: for the second
   * forward pass of a block under gradient checkpointing, whose batch
   * statistics were already queued by the first. Returns `f()`.
   */
  recomputing<T>(f: () => T): T {
    const before = this.#recomputing;
    this.#recomputing = true;
    try {
      return f();
    } finally {
      this.#recomputing = before;
    }
  }

  /**
   * Moves the running statistics towards the last training batch's, as
   * PyTorch does: r ← (1 − m)·r + m·batch, with the unbiased batch variance.
   * Layers whose statistics are over the same number of values are updated
   * together, concatenated into one vector (a handful of ops instead of seven
   * per layer: on the native backend each op costs tens of microseconds); each
   * element sees the same operations as in a per-layer update.
   */
  applyBatchNormUpdates(): void {
    const groups = new Map<string, PendingUpdate[]>();
    for (const p of this.#pending) {
      const key = `${p.count} ${p.unbiased}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    for (const group of groups.values()) {
      const { count, unbiased: corrected } = group[0];
      tf.tidy(() => {
        const cat = (ts: tf.Tensor[]) => ts.length === 1 ? ts[0] : tf.concat(ts);
        const mean = cat(group.map((p) => p.mean));
        const variance = cat(group.map((p) => p.variance));
        const unbiased = corrected ? variance : tf.mul(variance, count / Math.max(count - 1, 1));
        const runningMean = cat(group.map((p) => p.bn.runningMean));
        const runningVar = cat(group.map((p) => p.bn.runningVar));
        const newMean = tf.add(tf.mul(runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM));
        const newVar = tf.add(tf.mul(runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM));
        const sizes = group.map((p) => p.bn.runningMean.size);
        const means = group.length === 1 ? [newMean] : tf.split(newMean, sizes);
        const vars = group.length === 1 ? [newVar] : tf.split(newVar, sizes);
        group.forEach((p, i) => {
          p.bn.runningMean.assign(means[i]);
          p.bn.runningVar.assign(vars[i]);
        });
      });
    }
    for (const { mean, variance } of this.#pending) {
      mean.dispose();
      variance.dispose();
    }
    this.#pending = [];
  }

  /** Drops remembered batch statistics without applying them. */
  discardBatchNormUpdates(): void {
    for (const { mean, variance } of this.#pending) {
      mean.dispose();
      variance.dispose();
    }
    this.#pending = [];
  }
}

/**
 * max(x, 0), with the gradient dy·sign(y) computed from the output y. tfjs's
 * own ReLU gradient is dy·step(x), and `step` is four full-size kernels on the
 * native backend (IsNan, Greater, Fill, Select); sign is one. For y = relu(x)
 * ≥ 0, sign(y) is 1 where x > 0 and 0 elsewhere, exactly step(x). Maps
 * (`[B, H, W, C]`) on the native backend take TensorFlow's one-kernel
 * `ReluGrad`, with the same values.
 */
export const relu: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const y = tf.relu(args[0] as tf.Tensor);
  (args[1] as tf.GradSaveFunc)([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, [yS]: tf.Tensor[]) =>
      yS.rank === 4 && hasNativeKernels() ? nativeReluGrad(dy, yS) : tf.tidy(() => tf.mul(dy, tf.sign(yS))),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** `x · Wᵀ + b` for `x` `[B, in]` and a {@linkcode LinearParams} with W `[out, in]`. */
export function applyLinear(x: tf.Tensor2D, layer: LinearParams): tf.Tensor2D {
  const y: tf.Tensor2D = tf.matMul(x, layer.weight as tf.Tensor2D, false, true);
  return layer.bias ? tf.add(y, layer.bias) as tf.Tensor2D : y;
}

/** A 2-D convolution with PyTorch's symmetric zero padding `pad` (NHWC). */
export function conv2d(x: tf.Tensor4D, filter: tf.Variable, stride: number, pad: number): tf.Tensor4D {
  return tf.conv2d(x, filter as tf.Tensor4D, stride, pad === 0 ? "valid" : pad);
}
