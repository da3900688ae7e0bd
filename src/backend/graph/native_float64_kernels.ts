/**
 * Float64 matrix products and symmetric eigendecompositions on TensorFlow's
 * own double-precision kernels (`MatMul`, `SelfAdjointEigV2`), through the C
 * API of the library the native backend loaded. tfjs has no float64, so the
 * neural-collapse metrics do their K × K × d products and K × K
 * eigendecompositions in JavaScript; at K = 1000, d = 2048 those took 15–20
 * s of a `measure` run, against well under a second here (BENCHMARKS.md).
 * `src/metrics` takes these through `setFloat64Kernels`; the results agree
 * with the JavaScript ones to rounding (about 1e-15 relative).
 *
 * @module
 */
import { tensorflowCApi, type TfCApi } from "./_capi.ts";
import { CapiGraph } from "./capi_graph.ts";
import type { Float64Kernels } from "../../float64_kernels.ts";

const TF_DOUBLE = 2;

/** Runs `graph` on row-major float64 matrices; returns each output's values (row-major). */
function runDouble(graph: CapiGraph, values: { data: Float64Array; shape: number[] }[]): Float64Array[] {
  const fed = values.map(({ data, shape }) => graph.tensor(TF_DOUBLE, data as Float64Array<ArrayBuffer>, shape));
  let out: bigint[];
  try {
    out = graph.run(fed);
  } finally {
    graph.free(...fed);
  }
  try {
    return out.map((t) => graph.read(t, Float64Array));
  } finally {
    graph.free(...out);
  }
}

let kernels: Float64Kernels | null | undefined;

/**
 * TensorFlow's float64 kernels as {@linkcode Float64Kernels}, or null when
 * the native backend is not loaded (or its C library cannot be opened). Made
 * once per process.
 *
 * @example
 * ```ts
 * const k = nativeFloat64Kernels();
 * if (k) setFloat64Kernels(k);
 * ```
 */
export function nativeFloat64Kernels(): Float64Kernels | null {
  if (kernels !== undefined) return kernels;
  let api: TfCApi;
  try {
    api = tensorflowCApi();
  } catch {
    kernels = null;
    return null;
  }
  const matMul = new CapiGraph(
    api,
    [TF_DOUBLE, TF_DOUBLE],
    (g, [a, b]) => g.op("MatMul", [a, b], { T: TF_DOUBLE }, { transpose_a: false, transpose_b: true }, 1),
  );
  const eigen = new CapiGraph(
    api,
    [TF_DOUBLE],
    (g, [a]) => g.op("SelfAdjointEigV2", [a], { T: TF_DOUBLE }, { compute_v: true }, 2),
  );
  kernels = {
    gemmNT(a, b, c, n, m, d) {
      const [out] = runDouble(matMul, [{ data: a.subarray(0, n * d), shape: [n, d] }, {
        data: b.subarray(0, m * d),
        shape: [m, d],
      }]);
      c.set(out);
    },
    symmetricEigen(a, n) {
      // TensorFlow reads the lower triangle, as the JavaScript solver does; values come ascending.
      const [values, vectors] = runDouble(eigen, [{ data: Float64Array.from(a), shape: [n, n] }]);
      return { values, vectors };
    },
  };
  return kernels;
}
