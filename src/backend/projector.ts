/**
 * Pass 2 of the neural-collapse metrics as a float32 matrix product on the
 * active TensorFlow.js backend: the native TensorFlow core's multithreaded
 * GEMM (or the GPU's), or XNNPACK on `wasm`. See the `projector` option of
 * `src/metrics` for what stays float64 and the accuracy.
 *
 * @module
 */
import { tf } from "./tf.ts";
import { hasNativeKernels, nativeMatMul } from "./native_kernels.ts";
import type { Projector, ProjectorFactory } from "../metrics/mod.ts";

/**
 * A {@linkcode ProjectorFactory} whose products run on the tfjs backend that
 * is active when the projector is made: B is uploaded once (transposed),
 * each call uploads its rows and reads the product back.
 *
 * @example
 * ```ts
 * await selectBackend("tensorflow", { needsConvTraining: false });
 * const m = neuralCollapseMetrics(features, labels, W, b, { projector: tfProjector });
 * ```
 */
export const tfProjector: ProjectorFactory = (b: Float32Array, m: number, d: number): Projector => {
  if (b.length !== m * d) throw new Error(`projector: B has ${b.length} values, expected ${m} × ${d}`);
  // Bᵀ [d, m], uploaded once: XNNPACK (wasm) runs A·Bᵀ with transposeB 20× slower than A·(Bᵀ).
  const bt = new Float32Array(d * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) bt[j * m + i] = b[i * d + j];
  let rhs: tf.Tensor2D | null = tf.tensor2d(bt, [d, m]);
  // On the native backend TensorFlow's MatMul, 1.6 times BatchMatMulV2's speed at these sizes (nativeMatMul).
  const matMul = hasNativeKernels()
    ? nativeMatMul
    : (a: tf.Tensor2D, b: tf.Tensor2D, ta = false, tb = false) => tf.matMul(a, b, ta, tb);
  return {
    project(rows: Float32Array, n: number): Float32Array {
      if (rhs === null) throw new Error("projector used after dispose()");
      if (rows.length !== n * d) throw new Error(`projector: ${rows.length} values are not ${n} rows of ${d}`);
      const right = rhs;
      const out = tf.tidy(() => matMul(tf.tensor2d(rows, [n, d]), right));
      try {
        return out.dataSync() as Float32Array;
      } finally {
        out.dispose();
      }
    },
    projectWithScatter(rows: Float32Array, n: number, k: number): { product: Float32Array; scatter: Float32Array } {
      if (rhs === null) throw new Error("projector used after dispose()");
      if (rows.length !== n * d) throw new Error(`projector: ${rows.length} values are not ${n} rows of ${d}`);
      const right = rhs;
      // Z = the first k columns of the product; ZᵀZ [k, k] is a GEMM here instead of n·k²/2 scalar steps in JS.
      const [out, scatter] = tf.tidy(() => {
        const product = matMul(tf.tensor2d(rows, [n, d]), right);
        const z = tf.slice(product, [0, 0], [n, k]) as tf.Tensor2D;
        return [product, matMul(z, z, true, false)];
      });
      try {
        return { product: out.dataSync() as Float32Array, scatter: scatter.dataSync() as Float32Array };
      } finally {
        out.dispose();
        scatter.dispose();
      }
    },
    dispose(): void {
      rhs?.dispose();
      rhs = null;
    },
  };
};
