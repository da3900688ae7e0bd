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
import { cString, type Ptr, sessionConfig, tensorflowCApi, type TfCApi, tfOutput, TfStatus } from "./_capi.ts";
import { copyFromNative, copyToNative } from "./_capi.ts";
import type { Float64Kernels } from "../../float64_kernels.ts";

const TF_DOUBLE = 2;

/** One small graph with its session: placeholders in, outputs out. */
class DoubleGraph {
  #api: TfCApi;
  #status: TfStatus;
  #graph: Ptr;
  #session: Ptr;
  #feeds: Uint8Array<ArrayBuffer>;
  #fetches: Uint8Array<ArrayBuffer>;
  #numInputs: number;
  #numOutputs: number;

  /** `build(graph, inputs)` adds the ops on the placeholders and returns the outputs to fetch. */
  constructor(
    api: TfCApi,
    numInputs: number,
    build: (graph: Ptr, inputs: Uint8Array<ArrayBuffer>[]) => Uint8Array<ArrayBuffer>[],
  ) {
    this.#api = api;
    this.#status = new TfStatus(api);
    this.#graph = BigInt(api.TF_NewGraph());
    try {
      const inputs = Array.from({ length: numInputs }, (_, k) => {
        const desc = BigInt(api.TF_NewOperation(this.#graph, cString("Placeholder"), cString(`x${k}`)));
        api.TF_SetAttrType(desc, cString("dtype"), TF_DOUBLE);
        const op = BigInt(api.TF_FinishOperation(desc, this.#status.ptr));
        this.#status.check("float64 placeholder");
        return tfOutput(op, 0);
      });
      const outputs = build(this.#graph, inputs);
      this.#feeds = concat(inputs);
      this.#fetches = concat(outputs);
      this.#numInputs = numInputs;
      this.#numOutputs = outputs.length;
      const opts = BigInt(api.TF_NewSessionOptions());
      const config = sessionConfig(0, 0, false);
      api.TF_SetConfig(opts, config, BigInt(config.length), this.#status.ptr);
      this.#status.check("float64 session options");
      this.#session = BigInt(api.TF_NewSession(this.#graph, opts, this.#status.ptr));
      api.TF_DeleteSessionOptions(opts);
      this.#status.check("float64 session");
    } catch (e) {
      api.TF_DeleteGraph(this.#graph);
      this.#status.dispose();
      throw e;
    }
  }

  /** Adds op `type` on `inputs` with `attrs` (bool attributes) and returns its output `index`es. */
  static op(
    api: TfCApi,
    graph: Ptr,
    type: string,
    inputs: Uint8Array<ArrayBuffer>[],
    bools: Record<string, boolean>,
    outputs: number,
  ): Uint8Array<ArrayBuffer>[] {
    const status = new TfStatus(api);
    try {
      const desc = BigInt(api.TF_NewOperation(graph, cString(type), cString(type)));
      for (const input of inputs) api.TF_AddInput(desc, input);
      api.TF_SetAttrType(desc, cString("T"), TF_DOUBLE);
      for (const [name, v] of Object.entries(bools)) api.TF_SetAttrBool(desc, cString(name), v ? 1 : 0);
      const op = BigInt(api.TF_FinishOperation(desc, status.ptr));
      status.check(`float64 ${type}`);
      return Array.from({ length: outputs }, (_, j) => tfOutput(op, j));
    } finally {
      status.dispose();
    }
  }

  /** Runs the graph on row-major float64 matrices; returns each output's values (row-major). */
  run(values: { data: Float64Array; shape: number[] }[]): Float64Array[] {
    const api = this.#api;
    if (values.length !== this.#numInputs) throw new Error(`expected ${this.#numInputs} inputs, got ${values.length}`);
    const fed = values.map(({ data, shape }) => {
      const dims = new BigInt64Array(shape.map((d) => BigInt(d)));
      const tensor = BigInt(
        api.TF_AllocateTensor(TF_DOUBLE, new Uint8Array(dims.buffer), shape.length, BigInt(data.byteLength)),
      );
      if (tensor === 0n) throw new Error(`could not allocate a float64 tensor of shape [${shape}]`);
      copyToNative(api, BigInt(api.TF_TensorData(tensor)), data as Float64Array<ArrayBuffer>);
      return tensor;
    });
    const outValues = new BigUint64Array(this.#numOutputs);
    try {
      api.TF_SessionRun(
        this.#session,
        0n,
        this.#feeds,
        new Uint8Array(new BigUint64Array(fed).buffer),
        this.#numInputs,
        this.#fetches,
        new Uint8Array(outValues.buffer),
        this.#numOutputs,
        0n,
        0,
        0n,
        this.#status.ptr,
      );
      this.#status.check("float64 kernel");
    } finally {
      for (const t of fed) api.TF_DeleteTensor(t);
    }
    return Array.from(outValues, (t) => {
      try {
        const bytes = new Uint8Array(Number(api.TF_TensorByteSize(t)));
        copyFromNative(api, bytes, BigInt(api.TF_TensorData(t)));
        return new Float64Array(bytes.buffer);
      } finally {
        api.TF_DeleteTensor(t);
      }
    });
  }
}

function concat(parts: Uint8Array<ArrayBuffer>[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(16 * parts.length);
  parts.forEach((p, k) => out.set(p, 16 * k));
  return out;
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
  const matMul = new DoubleGraph(
    api,
    2,
    (g, [a, b]) => DoubleGraph.op(api, g, "MatMul", [a, b], { transpose_a: false, transpose_b: true }, 1),
  );
  const eigen = new DoubleGraph(
    api,
    1,
    (g, [a]) => DoubleGraph.op(api, g, "SelfAdjointEigV2", [a], { compute_v: true }, 2),
  );
  kernels = {
    gemmNT(a, b, c, n, m, d) {
      const [out] = matMul.run([{ data: a.subarray(0, n * d), shape: [n, d] }, {
        data: b.subarray(0, m * d),
        shape: [m, d],
      }]);
      c.set(out);
    },
    symmetricEigen(a, n) {
      // TensorFlow reads the lower triangle, as the JavaScript solver does; values come ascending.
      const [values, vectors] = eigen.run([{ data: Float64Array.from(a), shape: [n, n] }]);
      return { values, vectors };
    },
  };
  return kernels;
}
