/**
 * A small TensorFlow graph built op by op through the C API, with its own
 * session: typed placeholders in, outputs out. For the few computations that
 * tfjs cannot express or that should run off the JavaScript thread: float64
 * products and eigendecompositions (`native_float64_kernels.ts`), and pass 2's
 * float32 projections, which run while JavaScript centres the next rows
 * (`../projector.ts`). Tensors are `TF_Tensor*` the caller owns
 * ({@linkcode CapiGraph.free}).
 *
 * @example
 * ```ts
 * const g = new CapiGraph(tensorflowCApi(), [TF_FLOAT, TF_FLOAT], (g, [a, b]) => g.op("MatMul", [a, b], { T: TF_FLOAT }, {}, 1));
 * const a = g.tensor(TF_FLOAT, new Float32Array([1, 2]), [1, 2]), b = g.tensor(TF_FLOAT, new Float32Array([3, 4]), [2, 1]);
 * const [c] = await g.runAsync([a, b]);
 * g.read(c, Float32Array); // [11]
 * g.free(a, b, c);
 * ```
 *
 * @module
 */
import { copyFromNative, copyToNative, cString, type Ptr, sessionConfig, type TfCApi, tfOutput } from "./_capi.ts";
import { TfStatus } from "./_capi.ts";

/** What a caller of {@linkcode CapiGraph} needs of the C API: the library's functions, pointers and dtypes. */
export { type Ptr, tensorflowCApi, TF_FLOAT, TF_INT32, type TfCApi } from "./_capi.ts";

/** An op's output, as the C struct `TF_Output`. */
export type GraphOutput = Uint8Array<ArrayBuffer>;

type TypedArrayConstructor<T> = { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number };

/** A graph and its session. */
export class CapiGraph {
  readonly #api: TfCApi;
  readonly #graph: Ptr;
  #session: Ptr = 0n;
  #feeds: GraphOutput = new Uint8Array(0);
  #fetches: GraphOutput = new Uint8Array(0);
  readonly #numInputs: number;
  #numOutputs = 0;
  #names = 0;
  #disposed = false;

  /**
   * Placeholders of `dtypes` (`TF_DataType` values), then `build(this,
   * placeholders)` adds the ops and returns the outputs to fetch.
   */
  constructor(api: TfCApi, dtypes: number[], build: (graph: CapiGraph, inputs: GraphOutput[]) => GraphOutput[]) {
    this.#api = api;
    this.#graph = BigInt(api.TF_NewGraph());
    this.#numInputs = dtypes.length;
    const status = new TfStatus(api);
    try {
      const inputs = dtypes.map((dtype) => {
        const desc = BigInt(api.TF_NewOperation(this.#graph, cString("Placeholder"), cString(this.#name())));
        api.TF_SetAttrType(desc, cString("dtype"), dtype);
        const op = BigInt(api.TF_FinishOperation(desc, status.ptr));
        status.check("placeholder");
        return tfOutput(op, 0);
      });
      const outputs = build(this, inputs);
      this.#feeds = concat(inputs);
      this.#fetches = concat(outputs);
      this.#numOutputs = outputs.length;
      const opts = BigInt(api.TF_NewSessionOptions());
      const config = sessionConfig(0, 0, false);
      api.TF_SetConfig(opts, config, BigInt(config.length), status.ptr);
      status.check("session options");
      this.#session = BigInt(api.TF_NewSession(this.#graph, opts, status.ptr));
      api.TF_DeleteSessionOptions(opts);
      status.check("new session");
    } catch (e) {
      api.TF_DeleteGraph(this.#graph);
      throw e;
    } finally {
      status.dispose();
    }
  }

  /**
   * Adds op `type` on `inputs`, with type attributes `types` (e.g. `{ T: TF_FLOAT }`)
   * and boolean ones `bools`; returns its first `outputs` outputs.
   */
  op(
    type: string,
    inputs: GraphOutput[],
    types: Record<string, number>,
    bools: Record<string, boolean>,
    outputs: number,
  ): GraphOutput[] {
    const api = this.#api;
    const status = new TfStatus(api);
    try {
      const desc = BigInt(api.TF_NewOperation(this.#graph, cString(type), cString(this.#name())));
      for (const input of inputs) api.TF_AddInput(desc, input);
      for (const [name, v] of Object.entries(types)) api.TF_SetAttrType(desc, cString(name), v);
      for (const [name, v] of Object.entries(bools)) api.TF_SetAttrBool(desc, cString(name), v ? 1 : 0);
      const op = BigInt(api.TF_FinishOperation(desc, status.ptr));
      status.check(type);
      return Array.from({ length: outputs }, (_, j) => tfOutput(op, j));
    } finally {
      status.dispose();
    }
  }

  /** A new `TF_Tensor*` of `dtype` and `shape` holding a copy of `data` (row-major). */
  tensor(dtype: number, data: ArrayBufferView<ArrayBuffer>, shape: number[]): Ptr {
    const api = this.#api;
    const dims = new BigInt64Array(shape.map((d) => BigInt(d)));
    const t = BigInt(api.TF_AllocateTensor(dtype, new Uint8Array(dims.buffer), shape.length, BigInt(data.byteLength)));
    if (t === 0n) throw new Error(`could not allocate a tensor of shape [${shape}]`);
    copyToNative(api, BigInt(api.TF_TensorData(t)), data);
    return t;
  }

  /** The values of tensor `t` as a new `type` array. */
  read<T>(t: Ptr, type: TypedArrayConstructor<T>): T {
    const api = this.#api;
    const bytes = new Uint8Array(Number(api.TF_TensorByteSize(t)));
    copyFromNative(api, bytes, BigInt(api.TF_TensorData(t)));
    return new type(bytes.buffer);
  }

  /** Deletes tensors (null pointers are skipped). */
  free(...tensors: Ptr[]): void {
    for (const t of tensors) if (BigInt(t) !== 0n) this.#api.TF_DeleteTensor(t);
  }

  /** Runs the graph on one tensor per placeholder (the caller keeps them); returns new output tensors. */
  run(inputs: Ptr[]): Ptr[] {
    const call = this.#call(inputs);
    this.#api.TF_SessionRun(...call.args);
    return call.finish();
  }

  /**
   * {@linkcode run} on another thread (a nonblocking FFI call): this thread
   * goes on while TensorFlow computes. The inputs must stay alive until the
   * promise settles; runs may overlap (each has its own status).
   */
  async runAsync(inputs: Ptr[]): Promise<Ptr[]> {
    const call = this.#call(inputs);
    await this.#api.TF_SessionRunAsync(...call.args);
    return call.finish();
  }

  /** Closes the session and deletes the graph (idempotent). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const status = new TfStatus(this.#api);
    try {
      this.#api.TF_CloseSession(this.#session, status.ptr);
      this.#api.TF_DeleteSession(this.#session, status.ptr);
    } finally {
      status.dispose();
      this.#api.TF_DeleteGraph(this.#graph);
    }
  }

  /** The arguments of one `TF_SessionRun`, with their buffers kept alive, and what to do after it. */
  #call(inputs: Ptr[]) {
    if (this.#disposed) throw new Error("graph used after dispose()");
    if (inputs.length !== this.#numInputs) throw new Error(`expected ${this.#numInputs} inputs, got ${inputs.length}`);
    const status = new TfStatus(this.#api);
    const inValues = new BigUint64Array(inputs.map((t) => BigInt(t)));
    const outValues = new BigUint64Array(this.#numOutputs);
    const args = [
      this.#session,
      0n,
      this.#feeds,
      new Uint8Array(inValues.buffer),
      this.#numInputs,
      this.#fetches,
      new Uint8Array(outValues.buffer),
      this.#numOutputs,
      0n,
      0,
      0n,
      status.ptr,
    ] as const;
    return {
      args,
      finish: (): Ptr[] => {
        try {
          status.check("graph run");
        } finally {
          status.dispose();
        }
        return Array.from(outValues);
      },
    };
  }

  #name(): string {
    return `n${this.#names++}`;
  }
}

function concat(parts: GraphOutput[]): GraphOutput {
  const out = new Uint8Array(16 * parts.length);
  parts.forEach((p, k) => out.set(p, 16 * k));
  return out;
}
