/**
 * Record the TensorFlow ops that a tfjs computation dispatches on the native
 * backend, once, and replay them as one TensorFlow graph: a single
 * `TF_SessionRun` per call instead of one eager dispatch per op (about
 * 11–18 µs each through tfjs-node's binding, which is most of a small
 * network's training step).
 *
 * Tracing wraps the binding's `executeOp` and `createTensor` while the
 * computation runs eagerly (so the traced call computes its results as usual).
 * Every op becomes a graph node with the same type and attributes, and every
 * tensor uploaded during the trace (scalars, shapes) a constant. Tensors that
 * existed before the trace are the function's inputs: each must be declared,
 * so that a value that changes between calls (a variable, the batch, the
 * learning rate) can never be frozen into a constant by mistake.
 *
 * Grappler is off by default, so the graph runs the very kernels the eager
 * ops ran, on the same inputs: the outputs are bit-identical to the eager
 * computation (tested), only the dispatch is gone.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([1, 2, 3]);
 * const f = traceGraphFunction(() => [tf.mul(tf.add(x, 1), 2)], [x]);
 * const [y] = f.run([f.upload(new Float32Array([4, 5, 6]), [3], "float32")]);
 * f.read(y); // Float32Array [10, 12, 14]
 * ```
 */
import { tf } from "../tf.ts";
import {
  borrowedTensor,
  copyFromNative,
  copyToNative,
  cString,
  type Ptr,
  sessionConfig,
  tensorflowCApi,
  TF_ATTR_BOOL,
  TF_ATTR_FLOAT,
  TF_ATTR_INT,
  TF_ATTR_SHAPE,
  TF_ATTR_STRING,
  TF_ATTR_TYPE,
  TF_BOOL,
  TF_FLOAT,
  TF_INT32,
  TF_INT64,
  type TfCApi,
  tfOutput,
  TfStatus,
} from "./_capi.ts";

/** An attribute as tfjs-node passes it to `executeOp`. */
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The part of tfjs-node's binding that tracing wraps. */
interface Binding {
  executeOp(
    op: string,
    attrs: OpAttr[],
    inputs: number[],
    numOutputs: number,
  ): { id: number; shape: number[]; dtype: number }[];
  createTensor(shape: number[], dtype: number, values: ArrayLike<number> | Uint8Array[]): number;
  tensorDataSync(id: number): Float32Array | Int32Array | Uint8Array;
}

/** The native backend's internals that tracing reads: the binding and the dataId → tensor-id map. */
interface NodeBackend {
  binding: Binding;
  tensorMap: { get(dataId: unknown): { id: number; dtype: number; shape: number[]; values: unknown } };
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  write(values: unknown, shape: number[], dtype: string): object;
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
}

type TraceEvent =
  | { kind: "op"; type: string; attrs: OpAttr[]; inputs: number[]; outputs: number[]; after: number[] }
  | { kind: "const"; id: number; shape: number[]; dtype: number; values: Float32Array | Int32Array | Uint8Array };

/** Ops whose leading inputs are one list of `N` tensors (the graph needs them grouped; eager takes them flat). */
const LIST_INPUTS: Record<string, { position: number; count: string }> = {
  AddN: { position: 0, count: "N" },
  ConcatV2: { position: 0, count: "N" },
  Pack: { position: 0, count: "N" },
};

/** A traced computation as a TensorFlow graph with its own session. */
export interface GraphFunction {
  /** Number of ops in the graph (constants and placeholders included). */
  readonly nodes: number;
  /** Number of control dependencies (see {@linkcode afterTensor}). */
  readonly controlInputs: number;
  /**
   * Runs the graph on `inputs` (one `TF_Tensor*` per declared input, in
   * order; the caller keeps them) and returns one new `TF_Tensor*` per
   * output, which the caller owns (see {@linkcode GraphFunction.free}).
   */
  run(inputs: Ptr[]): Ptr[];
  /**
   * A new `TF_Tensor*` holding `values`: a copy, or with `borrow` the array's
   * own memory where it can be (see `borrowedTensor`), in which case the
   * array must outlive the tensor and every output that might share it.
   */
  upload(values: Float32Array | Int32Array, shape: number[], dtype: "float32" | "int32", borrow?: boolean): Ptr;
  /**
   * The data of a float32 or int32 tensor (by the dtype the output had when
   * traced): a new array, or written into `into`, which must have the tensor's
   * size exactly (and is returned).
   */
  read<T extends Float32Array | Int32Array>(tensor: Ptr, dtype?: "float32" | "int32", into?: T): T;
  /** Deletes tensors returned by `run` or `upload`. */
  free(...tensors: Ptr[]): void;
  /** Closes the session and deletes the graph. */
  dispose(): void;
}

/** Options of {@linkcode traceGraphFunction}. */
export interface TraceOptions {
  /** Let Grappler rewrite the graph (faster, but results may round differently). Default false. */
  optimize?: boolean;
  /** Intra-op threads of the session (0: TensorFlow's default, which honours `TF_NUM_INTRAOP_THREADS`). */
  intraOpThreads?: number;
  /** Inter-op threads (0: default). */
  interOpThreads?: number;
  /**
   * Build one node for ops that repeat an earlier op: the same type and
   * attributes on the same inputs (control dependencies aside), which compute
   * the same values. Checkpointed blocks then run their forward pass once
   * instead of again in the backward pass: the graph keeps their activations
   * (more memory per step) and spends no time recomputing them. Ops whose
   * outputs are random are never merged. Default false.
   */
  mergeRepeatedOps?: boolean;
}

/** Ops that two identical calls of may give different values (random draws): {@linkcode TraceOptions.mergeRepeatedOps} keeps each. */
const UNMERGEABLE_OPS = /Random|Multinomial|TruncatedNormal|Stateful|Shuffle|Variable|Assign|Print/;

/** Whether {@linkcode TraceOptions.mergeRepeatedOps} may merge two identical calls of op `type`. */
export function mergeableOp(type: string): boolean {
  return !UNMERGEABLE_OPS.test(type);
}

/** Thrown when a computation cannot be traced into a graph (the caller should stay eager). */
export class UntraceableError extends Error {}

/** The native backend, or a clear error when another backend is active. */
function nodeBackend(): NodeBackend {
  if (tf.getBackend() !== "tensorflow") {
    throw new UntraceableError(`graph functions need the native 'tensorflow' backend (active: ${tf.getBackend()})`);
  }
  return tf.backend() as unknown as NodeBackend;
}

/** The trace in progress: the tensors that the ops being recorded must wait for. */
let tracing_: { waits: number[][]; backend: NodeBackend } | null = null;

/**
 * Runs `f`; while a graph is being traced, every op `f` dispatches gets a
 * control dependency on the op that computes `t`, so the graph cannot run
 * them before `t` exists. A graph runs every op as soon as its inputs are
 * ready: without this, the recomputation of a gradient-checkpointed block
 * (whose only data input, the block's input, exists from the forward pass
 * on) would run early and keep its activations alive, which is what
 * checkpointing exists to avoid. Eagerly this is just `f()`.
 *
 * @example
 * ```ts
 * const grads = afterTensor(dy, () => recomputeAndDifferentiate(dy));
 * ```
 */
export function afterTensor<R>(t: tf.Tensor, f: () => R): R {
  if (tracing_ === null) return f();
  const { waits, backend } = tracing_;
  waits.push(backend.getInputTensorIds([t]));
  try {
    return f();
  } finally {
    waits.pop();
  }
}

/** The binding tensor id behind `t`, uploading its values first if tfjs has not yet. */
export function nativeTensorId(t: tf.Tensor): number {
  const backend = nodeBackend();
  return backend.getInputTensorIds([t])[0];
}

/**
 * Runs `fn` eagerly while recording its ops, and builds the graph whose
 * inputs are `inputs` (tensors that exist before the call) and whose
 * outputs are the tensors `fn` returns. Throws {@linkcode UntraceableError}
 * when `fn` reads a tensor back to JavaScript (its control flow could then
 * depend on the values) or uses a pre-existing tensor not in `inputs`.
 * `fn`'s outputs stay alive (the caller disposes them).
 */
export function traceGraphFunction(
  fn: () => tf.Tensor[],
  inputs: tf.Tensor[],
  options: TraceOptions = {},
): { fn: GraphFunction; outputs: tf.Tensor[] } {
  const backend = nodeBackend();
  const binding = backend.binding;
  const inputIds = backend.getInputTensorIds(inputs);
  const inputInfo = inputs.map((t) => backend.tensorMap.get(t.dataId));
  const events: TraceEvent[] = [];
  const waits: number[][] = [];
  const restore = guardPreexistingTensors(backend);
  backend.binding = recordingBinding(binding, events, waits);
  let outputs: tf.Tensor[];
  try {
    tracing_ = { waits, backend };
    outputs = fn();
  } finally {
    tracing_ = null;
    backend.binding = binding;
    restore();
  }
  const outputIds = backend.getInputTensorIds(outputs);
  const graph = buildGraph(
    events,
    inputIds.map((id, k) => ({ id, dtype: inputInfo[k].dtype, shape: inputs[k].shape })),
    outputIds,
    options,
  );
  return { fn: graph, outputs };
}

/**
 * A stand-in for the binding (whose own properties are read-only) that runs
 * each op and records it in `events` with the control dependencies of
 * `waits`, records each uploaded constant, and refuses reads back to
 * JavaScript.
 */
function recordingBinding(binding: Binding, events: TraceEvent[], waits: number[][]): Binding {
  return Object.create(binding, {
    executeOp: {
      value: (op: string, attrs: OpAttr[], ids: number[], numOutputs: number) => {
        const out = binding.executeOp(op, attrs, ids, numOutputs);
        const after = waits.flat();
        events.push({ kind: "op", type: op, attrs, inputs: [...ids], outputs: out.map((m) => m.id), after });
        return out;
      },
    },
    createTensor: {
      value: (shape: number[], dtype: number, values: ArrayLike<number>) => {
        if (dtype !== TF_FLOAT && dtype !== TF_INT32 && dtype !== TF_BOOL && dtype !== TF_INT64) {
          throw new UntraceableError(`tensor of dtype ${dtype} uploaded during tracing`);
        }
        const id = binding.createTensor(shape, dtype, values);
        const copy = dtype === TF_FLOAT
          ? Float32Array.from(values)
          : dtype === TF_BOOL
          ? Uint8Array.from(values)
          : Int32Array.from(values);
        events.push({ kind: "const", id, shape: [...shape], dtype, values: copy });
        return id;
      },
    },
    tensorDataSync: {
      value: () => {
        throw new UntraceableError("a tensor was read back to JavaScript during tracing");
      },
    },
  });
}

/**
 * Until the returned function is called, refuses a tensor that existed
 * before the trace but is first used in it. tfjs-node uploads a tensor's
 * values on its first use, so such a tensor would be uploaded (and frozen as
 * a constant) during the trace: only those made during it may be.
 */
function guardPreexistingTensors(backend: NodeBackend): () => void {
  const madeHere = new WeakSet<object>();
  const proto = Object.getPrototypeOf(backend) as NodeBackend;
  const instance = backend as unknown as Record<string, unknown>;
  instance.write = (...args: unknown[]) => {
    const dataId = (proto.write as (...a: unknown[]) => object).apply(backend, args);
    madeHere.add(dataId);
    return dataId;
  };
  instance.move = (dataId: object, ...args: unknown[]) => {
    madeHere.add(dataId);
    return (proto.move as (...a: unknown[]) => unknown).call(backend, dataId, ...args);
  };
  instance.getInputTensorIds = (tensors: tf.Tensor[]) => {
    for (const t of tensors) {
      const info = backend.tensorMap.get(t.dataId);
      if (info?.values != null && !madeHere.has(t.dataId as object)) {
        throw new UntraceableError(
          `a tensor of shape [${t.shape}] that existed before tracing is not a declared input`,
        );
      }
    }
    return proto.getInputTensorIds.call(backend, tensors);
  };
  return () => {
    delete instance.write;
    delete instance.move;
    delete instance.getInputTensorIds;
  };
}

/** The graph function of the recorded `events`, fed `inputs` and fetching `outputIds`. */
function buildGraph(
  events: TraceEvent[],
  inputs: { id: number; dtype: number; shape: number[] }[],
  outputIds: number[],
  options: TraceOptions,
): GraphFunction {
  const api = tensorflowCApi();
  const b = new GraphBuilder(api, options);
  try {
    inputs.forEach((input, k) => b.placeholder(input, k));
    events.forEach((e, k) => e.kind === "const" ? b.constant(e, k) : b.operation(e, k));
  } catch (e) {
    api.TF_DeleteGraph(b.graph);
    b.status.dispose();
    throw e;
  }
  const fetches = new Uint8Array(16 * outputIds.length);
  outputIds.forEach((id, j) => {
    const out = b.produced.get(id);
    if (out === undefined) throw new UntraceableError("an output of the traced function is not computed by it");
    fetches.set(out, 16 * j);
  });
  const feeds = new Uint8Array(16 * inputs.length);
  inputs.forEach((input, k) => feeds.set(b.produced.get(input.id)!, 16 * k));

  const opts = BigInt(api.TF_NewSessionOptions());
  const config = sessionConfig(options.intraOpThreads ?? 0, options.interOpThreads ?? 0, options.optimize ?? false);
  api.TF_SetConfig(opts, config, BigInt(config.length), b.status.ptr);
  b.status.check("session options");
  const session = BigInt(api.TF_NewSession(b.graph, opts, b.status.ptr));
  api.TF_DeleteSessionOptions(opts);
  b.status.check("new session");
  return sessionFunction(api, b, session, { feeds, count: inputs.length }, { fetches, count: outputIds.length });
}

/**
 * A TensorFlow graph built node by node from a trace: placeholders, shared
 * constants, and ops (merged with an identical earlier one under
 * `mergeRepeatedOps`), each tensor id mapped to the output that computes it.
 */
class GraphBuilder {
  readonly status: TfStatus;
  readonly graph: Ptr;
  /** The graph output (`TF_Output`) of each tensor id. */
  readonly produced = new Map<number, Uint8Array<ArrayBuffer>>();
  /** The operation that computes each tensor id (for control dependencies). */
  readonly #producer = new Map<number, Ptr>();
  readonly #constants = new Map<string, { out: Uint8Array<ArrayBuffer>; op: Ptr }>();
  /** With `mergeRepeatedOps`: the node of each op identity built so far. */
  readonly #repeated = new Map<string, Ptr>();
  count = 0;
  controlInputs = 0;

  constructor(readonly api: TfCApi, readonly options: TraceOptions) {
    this.status = new TfStatus(api);
    this.graph = BigInt(api.TF_NewGraph());
  }

  #finish(desc: Ptr, what: string): Ptr {
    const op = BigInt(this.api.TF_FinishOperation(desc, this.status.ptr));
    this.status.check(what);
    this.count++;
    return op;
  }

  #set(id: number, out: Uint8Array<ArrayBuffer>, op: Ptr): void {
    this.produced.set(id, out);
    this.#producer.set(id, op);
  }

  /** Input `k`, a placeholder. */
  placeholder(input: { id: number; dtype: number; shape: number[] }, k: number): void {
    const api = this.api;
    const desc = BigInt(api.TF_NewOperation(this.graph, cString("Placeholder"), cString(`input${k}`)));
    api.TF_SetAttrType(desc, cString("dtype"), input.dtype);
    setShape(api, desc, "shape", input.shape);
    const op = this.#finish(desc, `graph input ${k}`);
    this.#set(input.id, tfOutput(op, 0), op);
  }

  /** Constant `k`; equal small constants (the same scalar made by every tf.mul(x, 0.9)) share one node: fewer nodes to schedule. */
  constant(e: Extract<TraceEvent, { kind: "const" }>, k: number): void {
    const api = this.api;
    const bytes = new Uint8Array(e.values.buffer, e.values.byteOffset, Math.min(e.values.byteLength, 256));
    const key = `${e.dtype}|${e.shape}|${bytes.join(",")}`; // bytes, not numbers: 0 and -0 stay apart
    const same = e.values.length <= 64 ? this.#constants.get(key) : undefined;
    if (same !== undefined) {
      this.#set(e.id, same.out, same.op);
      return;
    }
    const desc = BigInt(api.TF_NewOperation(this.graph, cString("Const"), cString(`const${k}`)));
    const tensor = allocate(api, e.values, e.shape, e.dtype);
    api.TF_SetAttrTensor(desc, cString("value"), tensor, this.status.ptr);
    api.TF_DeleteTensor(tensor);
    this.status.check(`constant ${k}`);
    api.TF_SetAttrType(desc, cString("dtype"), e.dtype);
    const op = this.#finish(desc, `constant ${k}`);
    const out = tfOutput(op, 0);
    this.#set(e.id, out, op);
    if (e.values.length <= 64) this.#constants.set(key, { out, op });
  }

  /** Op `k` with its inputs, control dependencies and attributes (or the identical op built before it). */
  operation(e: Extract<TraceEvent, { kind: "op" }>, k: number): void {
    const api = this.api;
    // The op's identity for merging: type, attributes (-0 kept apart from 0) and the graph outputs it reads.
    const key = this.options.mergeRepeatedOps && mergeableOp(e.type)
      ? `${e.type}|${JSON.stringify(e.attrs, (_k, v) => Object.is(v, -0) ? "-0" : v)}|${
        e.inputs.map((id) => this.produced.get(id)?.join(",") ?? `unknown ${id}`).join(";")
      }`
      : undefined;
    const earlier = key === undefined ? undefined : this.#repeated.get(key);
    if (earlier !== undefined) {
      e.outputs.forEach((id, j) => this.#set(id, tfOutput(earlier, j), earlier));
      return;
    }
    const desc = BigInt(api.TF_NewOperation(this.graph, cString(e.type), cString(`op${k}_${e.type}`)));
    this.#addInputs(desc, e);
    for (const id of new Set(e.after)) {
      const before = this.#producer.get(id);
      if (before === undefined) {
        throw new UntraceableError(`op ${e.type} waits for a tensor the graph does not compute`);
      }
      api.TF_AddControlInput(desc, before);
      this.controlInputs++;
    }
    for (const attr of e.attrs) setAttr(api, desc, attr);
    const op = this.#finish(desc, `op ${e.type}`);
    if (key !== undefined) this.#repeated.set(key, op);
    e.outputs.forEach((id, j) => this.#set(id, tfOutput(op, j), op));
  }

  /** The op's data inputs, those of a list input (`AddN`, `ConcatV2`, `Pack`) as one list. */
  #addInputs(desc: Ptr, e: Extract<TraceEvent, { kind: "op" }>): void {
    const input = (id: number): Uint8Array<ArrayBuffer> => {
      const out = this.produced.get(id);
      if (out === undefined) {
        throw new UntraceableError(
          `op ${e.type} reads a tensor that existed before tracing and is not a declared input`,
        );
      }
      return out;
    };
    const list = LIST_INPUTS[e.type];
    let position = 0;
    while (position < e.inputs.length) {
      if (list && position === list.position) {
        const n = e.attrs.find((a) => a.name === list.count)?.value as number | undefined ?? e.inputs.length;
        const outs = new Uint8Array(16 * n);
        for (let j = 0; j < n; j++) outs.set(input(e.inputs[position + j]), 16 * j);
        this.api.TF_AddInputList(desc, outs, n);
        position += n;
      } else {
        this.api.TF_AddInput(desc, input(e.inputs[position]));
        position++;
      }
    }
  }
}

/** The {@linkcode GraphFunction} of a built graph and its session, fed `feeds` and fetching `fetches`. */
function sessionFunction(
  api: TfCApi,
  built: GraphBuilder,
  session: Ptr,
  feeds: { feeds: Uint8Array; count: number },
  fetches: { fetches: Uint8Array; count: number },
): GraphFunction {
  const { status, graph } = built;
  const inValues = new BigUint64Array(feeds.count);
  const outValues = new BigUint64Array(fetches.count);
  let disposed = false;
  return {
    nodes: built.count,
    controlInputs: built.controlInputs,
    run(values) {
      if (disposed) throw new Error("graph function used after dispose()");
      if (values.length !== feeds.count) throw new Error(`expected ${feeds.count} inputs, got ${values.length}`);
      values.forEach((v, k) => inValues[k] = BigInt(v));
      api.TF_SessionRun(
        session,
        0n,
        feeds.feeds,
        new Uint8Array(inValues.buffer),
        feeds.count,
        fetches.fetches,
        new Uint8Array(outValues.buffer),
        fetches.count,
        0n,
        0,
        0n,
        status.ptr,
      );
      status.check("graph run");
      return Array.from(outValues);
    },
    upload(values, shape, dtype, borrow = false) {
      return allocate(api, values, shape, dtype === "float32" ? TF_FLOAT : TF_INT32, borrow);
    },
    read<T extends Float32Array | Int32Array>(tensor: Ptr, dtype = "float32", into?: T): T {
      const size = Number(api.TF_TensorByteSize(tensor));
      if (into !== undefined && into.byteLength !== size) {
        throw new Error(`read: a tensor of ${size} bytes into an array of ${into.byteLength}`);
      }
      const out = into ?? (dtype === "float32" ? new Float32Array(size / 4) : new Int32Array(size / 4)) as T;
      copyFromNative(
        api,
        new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, size),
        BigInt(api.TF_TensorData(tensor)),
      );
      return out;
    },
    free(...tensors) {
      for (const t of tensors) if (BigInt(t) !== 0n) api.TF_DeleteTensor(t);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      api.TF_CloseSession(session, status.ptr);
      api.TF_DeleteSession(session, status.ptr);
      api.TF_DeleteGraph(graph);
      status.dispose();
    },
  };
}

/** A new `TF_Tensor*` of `dtype` and `shape` holding a copy of `values` (with `borrow`, `values` itself where it can). */
function allocate(
  api: TfCApi,
  values: Float32Array | Int32Array | Uint8Array,
  shape: number[],
  dtype: number,
  borrow = false,
): Ptr {
  const dims = new BigInt64Array(shape.map((d) => BigInt(d)));
  const width = dtype === TF_INT64 ? 8 : dtype === TF_BOOL ? 1 : 4;
  const size = shape.reduce((a, b) => a * b, 1);
  // tfjs-node hands int64 values over as raw little-endian words (an Int32Array of twice the length), as here.
  if (values.byteLength < size * width) throw new Error(`${values.byteLength} bytes for a tensor of shape [${shape}]`);
  const bytes = new Uint8Array(values.buffer, values.byteOffset, size * width);
  const lent = borrow ? borrowedTensor(api, dtype, shape, bytes as Uint8Array<ArrayBuffer>) : null;
  if (lent !== null) return lent;
  const tensor = BigInt(api.TF_AllocateTensor(dtype, new Uint8Array(dims.buffer), shape.length, BigInt(size * width)));
  if (BigInt(tensor) === 0n) throw new Error(`could not allocate a tensor of shape [${shape}]`);
  copyToNative(api, BigInt(api.TF_TensorData(tensor)), bytes as ArrayBufferView<ArrayBuffer>);
  return tensor;
}

function setShape(api: TfCApi, desc: Ptr, name: string, shape: number[]): void {
  const dims = new BigInt64Array(shape.map((d) => BigInt(d)));
  api.TF_SetAttrShape(desc, cString(name), new Uint8Array(dims.buffer), shape.length);
}

function setAttr(api: TfCApi, desc: Ptr, attr: OpAttr): void {
  const name = cString(attr.name);
  const v = attr.value;
  switch (attr.type) {
    case TF_ATTR_BOOL:
      api.TF_SetAttrBool(desc, name, v ? 1 : 0);
      return;
    case TF_ATTR_INT:
      if (Array.isArray(v)) {
        const list = new BigInt64Array(v.map((x) => BigInt(x)));
        api.TF_SetAttrIntList(desc, name, new Uint8Array(list.buffer), v.length);
      } else api.TF_SetAttrInt(desc, name, BigInt(v as number));
      return;
    case TF_ATTR_FLOAT:
      api.TF_SetAttrFloat(desc, name, v as number);
      return;
    case TF_ATTR_TYPE:
      if (Array.isArray(v)) api.TF_SetAttrTypeList(desc, name, new Uint8Array(new Int32Array(v).buffer), v.length);
      else api.TF_SetAttrType(desc, name, v as number);
      return;
    case TF_ATTR_SHAPE:
      setShape(api, desc, attr.name, v as number[]);
      return;
    case TF_ATTR_STRING: {
      const bytes = new TextEncoder().encode(v as string);
      api.TF_SetAttrString(desc, name, bytes, BigInt(bytes.length));
      return;
    }
    default:
      throw new UntraceableError(`attribute ${attr.name} of type ${attr.type} cannot be traced`);
  }
}
