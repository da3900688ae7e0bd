/**
 * TensorFlow kernels that tfjs-node does not reach, for the training of
 * convolutional networks on the native backend.
 *
 * Training-mode batch normalisation of NHWC maps as TensorFlow's own fused
 * kernels (`FusedBatchNormV3` and `FusedBatchNormGradV3`) on the native
 * backend. Built from tfjs primitives, the forward pass of one layer is about
 * eight full-size kernels (moments, centring, scaling, shift) and its closed-form
 * gradient about eight more; the fused kernels read and write each map about
 * twice in each direction. On a ResNet-18 w = 1 step (batch 100, 32 × 32)
 * that is 2.3 against 2.9 s (BENCHMARKS.md). The results are the same
 * normalisation rounded in another order: about 1e-6 relative.
 */
import { tf } from "./tf.ts";

/** The parts of tfjs-node's backend (and its binding) that our own kernels call: here and `_native_padding.ts`. */
export interface NodeBackend {
  binding: {
    TF_ATTR_INT: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_TYPE: number;
    TF_FLOAT: number;
    TF_INT32: number;
  };
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/** What {@linkcode nativeTrainingBatchNorm} returns. */
export interface NativeBatchNorm {
  /** γ·x̂ + β, with a gradient for x, γ and β. */
  y: tf.Tensor4D;
  /** The batch mean per channel. */
  mean: tf.Tensor1D;
  /** The batch variance per channel, unbiased (Bessel-corrected, as PyTorch's running variance takes it). */
  unbiasedVariance: tf.Tensor1D;
}

/** Whether the kernels here can run: the active backend is the native one. */
export function hasNativeKernels(): boolean {
  return tf.getBackend() === "tensorflow";
}

/**
 * A · B (or with either transposed) for 2-D float32 `a` and `b`, as
 * TensorFlow's `MatMul` kernel. tfjs-node runs every `tf.matMul` as
 * `BatchMatMulV2`, which for large matrices is the slower of the two on the
 * CPU: [2048, 2048] · [2048, 2000] took 106–112 ms (150–158 GFLOP/s) against
 * 66–68 ms (245–253 GFLOP/s), PyTorch 73 ms, 2 threads (BENCHMARKS.md). Not for
 * training: the two kernels may round differently. Native backend only.
 */
export function nativeMatMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (!hasNativeKernels()) throw new Error("nativeMatMul needs the native (tensorflow) backend");
  const backend = tf.backend() as unknown as NodeBackend;
  const bind = backend.binding;
  return backend.executeSingleOutput("MatMul", [
    { name: "T", type: bind.TF_ATTR_TYPE, value: bind.TF_FLOAT },
    { name: "transpose_a", type: bind.TF_ATTR_BOOL, value: transposeA },
    { name: "transpose_b", type: bind.TF_ATTR_BOOL, value: transposeB },
  ], [a, b]) as tf.Tensor2D;
}

/**
 * The gradient of ReLU, dy where `y` > 0 and 0 elsewhere, as TensorFlow's
 * one-pass `ReluGrad` kernel (`y` the ReLU's output or its input: both are
 * positive at the same places). Built from tfjs ops, dy·sign(y), it is two
 * full-size kernels. The values are the same, zeros' signs included (both
 * multiply dy by 0 or 1). Native backend only ({@linkcode hasNativeKernels}).
 */
export function nativeReluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (!hasNativeKernels()) throw new Error("nativeReluGrad needs the native (tensorflow) backend");
  const backend = tf.backend() as unknown as NodeBackend;
  const b = backend.binding;
  return backend.executeSingleOutput("ReluGrad", [{ name: "T", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }], [dy, y]);
}

/**
 * Normalises `x` (`[B, H, W, C]`) with its batch statistics, then scales by
 * `gamma` and shifts by `beta` (each `[C]`), with ε = `epsilon`, as one
 * TensorFlow kernel whose gradient is another. The statistics are outputs
 * without a gradient. Native backend only ({@linkcode hasNativeKernels}).
 *
 * @example
 * ```ts
 * const { y, mean, unbiasedVariance } = nativeTrainingBatchNorm(x, gamma, beta, 1e-5);
 * ```
 */
export function nativeTrainingBatchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): NativeBatchNorm {
  if (!hasNativeKernels()) throw new Error("nativeTrainingBatchNorm needs the native (tensorflow) backend");
  const backend = tf.backend() as unknown as NodeBackend;
  const b = backend.binding;
  const attrs = [
    { name: "T", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: "U", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: "epsilon", type: b.TF_ATTR_FLOAT, value: epsilon },
    { name: "data_format", type: b.TF_ATTR_STRING, value: "NHWC" },
    { name: "is_training", type: b.TF_ATTR_BOOL, value: true },
  ];
  let mean: tf.Tensor1D | undefined;
  let unbiasedVariance: tf.Tensor1D | undefined;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, offset] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    // In training mode the kernel takes no running statistics: empty inputs.
    const none = tf.tensor1d([], "float32");
    const [y, batchMean, batchVariance, reserve1, reserve2, reserve3] = backend.executeMultipleOutputs(
      "FusedBatchNormV3",
      [...attrs, { name: "exponential_avg_factor", type: b.TF_ATTR_FLOAT, value: 1 }],
      [input, scale, offset, none, none],
      6,
    );
    none.dispose();
    mean = tf.keep(batchMean) as tf.Tensor1D;
    unbiasedVariance = tf.keep(batchVariance) as tf.Tensor1D;
    // The gradient kernel takes the input and the forward kernel's saved statistics.
    save([input, scale, reserve1, reserve2, reserve3]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dx, dScale, dOffset, unused4, unused5] = backend.executeMultipleOutputs(
          "FusedBatchNormGradV3",
          attrs,
          [dy, ...saved],
          5,
        );
        unused4.dispose();
        unused5.dispose();
        return [dx, dScale, dOffset];
      },
    };
  });
  const y = fused(x, gamma, beta) as tf.Tensor4D;
  return { y, mean: mean!, unbiasedVariance: unbiasedVariance! };
}
