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
import type { ProjectionWithScatter, Projector, ProjectorFactory } from "../metrics/mod.ts";
import { CapiGraph, type Ptr, tensorflowCApi, TF_FLOAT, TF_INT32, type TfCApi } from "./graph/capi_graph.ts";

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
  const native = hasNativeKernels() ? asyncProjection(bt, m, d) : null;
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
    ...(native ? { projectWithScatterAsync: native.run } : {}),
    dispose(): void {
      rhs?.dispose();
      rhs = null;
      native?.dispose();
    },
  };
};

/**
 * `projectWithScatterAsync` for the native backend: the same two `MatMul`
 * kernels as `projectWithScatter` (so the same bits), as a graph run through
 * TensorFlow's C API on another thread while JavaScript goes on (pass 2
 * centres the next rows meanwhile). Empty where the C library cannot be
 * opened (no FFI permission for it, say); the synchronous path remains.
 */
function asyncProjection(
  bt: Float32Array,
  m: number,
  d: number,
): { run: NonNullable<Projector["projectWithScatterAsync"]>; dispose(): void } | null {
  let api: TfCApi;
  try {
    api = tensorflowCApi();
  } catch {
    return null;
  }
  // Built on the first asynchronous product: one-shot measurements only ever use the synchronous ones.
  let built: { graph: CapiGraph; right: Ptr; begin: Ptr } | null = null;
  const build = () => {
    const graph = new CapiGraph(api, [TF_FLOAT, TF_FLOAT, TF_INT32, TF_INT32], (g, [rows, right, begin, size]) => {
      const [product] = g.op("MatMul", [rows, right], { T: TF_FLOAT }, { transpose_a: false, transpose_b: false }, 1);
      const [z] = g.op("Slice", [product, begin, size], { T: TF_FLOAT, Index: TF_INT32 }, {}, 1);
      const [scatter] = g.op("MatMul", [z, z], { T: TF_FLOAT }, { transpose_a: true, transpose_b: false }, 1);
      return [product, scatter];
    });
    const right = graph.tensor(TF_FLOAT, bt as Float32Array<ArrayBuffer>, [d, m]);
    const begin = graph.tensor(TF_INT32, new Int32Array([0, 0]), [2]);
    return { graph, right, begin };
  };
  const inFlight = new Set<Promise<unknown>>();
  let disposed = false;
  return {
    async run(rows: Float32Array, n: number, k: number): Promise<ProjectionWithScatter> {
      if (disposed) throw new Error("projector used after dispose()");
      if (rows.length < n * d) throw new Error(`projector: ${rows.length} values are not ${n} rows of ${d}`);
      const { graph, right, begin } = built ??= build();
      // Copied into TensorFlow's memory before the first await: the caller may reuse `rows` at once.
      const x = graph.tensor(TF_FLOAT, rows.subarray(0, n * d) as Float32Array<ArrayBuffer>, [n, d]);
      const size = graph.tensor(TF_INT32, new Int32Array([-1, k]), [2]);
      const run = graph.runAsync([x, right, begin, size]);
      inFlight.add(run);
      try {
        const [product, scatter] = await run;
        try {
          return { product: graph.read(product, Float32Array), scatter: graph.read(scatter, Float32Array) };
        } finally {
          graph.free(product, scatter);
        }
      } finally {
        inFlight.delete(run);
        graph.free(x, size);
      }
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      // A run still in flight (an error ended the pass) reads `right` and the session until it returns.
      const free = () => {
        if (built === null) return;
        built.graph.free(built.right, built.begin);
        built.graph.dispose();
      };
      if (inFlight.size === 0) free();
      else Promise.allSettled([...inFlight]).then(free);
    },
  };
}
