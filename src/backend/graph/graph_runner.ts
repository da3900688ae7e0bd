/**
 * Runs a tfjs computation over a fixed set of variables as TensorFlow graphs
 * on the native backend: the first call for each input shape runs eagerly
 * while being traced ({@linkcode traceGraphFunction}); later calls replay the
 * graph in one `TF_SessionRun`. When the computation updates the variables
 * (a training step), their values live in the graph's tensors between calls
 * and go back into the tfjs variables on {@linkcode GraphRunner.sync}, so
 * call that before anything else reads them. Variables assigned outside
 * the runner are uploaded again on the next call.
 *
 * @example
 * ```ts
 * const v = tf.variable(tf.scalar(1));
 * const runner = GraphRunner.create([v], { updatesVariables: true });
 * for (let i = 0; i < 3; i++) {
 *   runner!.run("step", [{ values: new Float32Array([2]), shape: [], dtype: "float32" }], ([x]) => {
 *     v.assign(tf.mul(v, x));
 *     return [];
 *   });
 * }
 * runner!.sync(); // v is 8
 * ```
 */
import { tf } from "../tf.ts";
import { alignedFloat32Array, type Ptr, tensorflowCApi } from "./_capi.ts";
import { type GraphFunction, traceGraphFunction, type TraceOptions } from "./graph_function.ts";

/** One input of a call: host values and their shape. */
export interface HostTensor {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: "float32" | "int32";
}

/** Options of {@linkcode GraphRunner.create}. */
export interface GraphRunnerOptions extends TraceOptions {
  /** Whether the computation assigns new values to the variables (kept in the graph between calls). */
  updatesVariables: boolean;
}

/** Graphs of one computation per input shape, over shared variables. */
export class GraphRunner {
  readonly #graphs = new Map<string, { fn: GraphFunction; dtypes: ("float32" | "int32")[]; sizes: number[] }>();
  /** The variables' values as graph tensors (null: not uploaded, or stale after an eager call). */
  #state: Ptr[] | null = null;
  /** Whether #state holds values the tfjs variables do not have yet. */
  #ahead = false;
  /** The variables' tfjs data when #state was taken from them (an assignment replaces it). */
  #stateOf: object[] = [];
  /** Any graph, for uploads and reads (all share the one C library). */
  #any: GraphFunction | null = null;

  private constructor(readonly variables: tf.Variable[], readonly options: GraphRunnerOptions) {}

  /**
   * A runner, or null when graphs are unavailable: not the native backend,
   * the C library cannot be opened (no FFI permission for its path), or
   * `TFJS_GRAPHS=0` in the environment. `why` receives the reason.
   */
  static create(
    variables: tf.Variable[],
    options: GraphRunnerOptions,
    why?: (reason: string) => void,
  ): GraphRunner | null {
    const reason = graphsUnavailable();
    if (reason !== null) {
      why?.(reason);
      return null;
    }
    return new GraphRunner(variables, options);
  }

  /**
   * Calls `body` on `inputs` (as tensors) and returns its outputs' values,
   * through the graph traced for `key` (which must identify the input shapes
   * and everything else `body` depends on besides the inputs and variables).
   * Output i is written into `into[i]` where given (which must have the
   * output's size exactly), else into a new array. Where the computation
   * leaves the variables alone, TensorFlow reads large inputs in place
   * (those 64-byte aligned, as {@linkcode graphInputArray} allocates them)
   * instead of copying them.
   */
  run(
    key: string,
    inputs: HostTensor[],
    body: (inputs: tf.Tensor[]) => tf.Tensor[],
    into: readonly (Float32Array | Int32Array | undefined)[] = [],
  ): (Float32Array | Int32Array)[] {
    const compiled = this.#graphs.get(key);
    if (compiled === undefined) return this.#trace(key, inputs, body, into);
    const { fn, dtypes, sizes } = compiled;
    into.forEach((a, i) => {
      if (a !== undefined && a.length !== sizes[i]) {
        throw new Error(`read: ${sizes[i]} values into an array of ${a.length}`);
      }
    });
    if (this.#state !== null && this.variables.some((v, i) => v.dataId !== this.#stateOf[i])) {
      // Assigned outside the runner (a restored checkpoint, another optimiser): take the new values.
      if (this.#ahead) throw new Error("GraphRunner: variables were assigned while the graph held newer values");
      this.#dropState();
    }
    if (this.#state === null) {
      this.#state = this.variables.map((v) => fn.upload(v.dataSync() as Float32Array, v.shape, "float32"));
      this.#stateOf = this.variables.map((v) => v.dataId);
    }
    // Lent inputs are safe to free right after the run: every output that could share their memory is read
    // and freed below, before `inputs` can be let go (a runner that updates variables keeps its outputs: no lending).
    const lend = !this.options.updatesVariables;
    const fed: Ptr[] = [];
    let out: Ptr[];
    try {
      for (const t of inputs) fed.push(fn.upload(t.values, t.shape, t.dtype, lend));
      out = fn.run([...fed, ...this.#state]);
    } finally {
      fn.free(...fed);
    }
    const results = dtypes.map((dtype, i) => fn.read(out[i], dtype, into[i]));
    fn.free(...out.slice(0, dtypes.length));
    if (this.options.updatesVariables) {
      fn.free(...this.#state);
      this.#state = out.slice(dtypes.length);
      this.#ahead = true;
    }
    return results;
  }

  #trace(
    key: string,
    inputs: HostTensor[],
    body: (inputs: tf.Tensor[]) => tf.Tensor[],
    into: readonly (Float32Array | Int32Array | undefined)[],
  ): (Float32Array | Int32Array)[] {
    this.sync(); // the eager call below reads and may write the tfjs variables
    const tensors = inputs.map((t) => tf.tensor(t.values, t.shape, t.dtype));
    try {
      const { fn, outputs } = traceGraphFunction(
        () => {
          const results = body(tensors);
          return this.options.updatesVariables ? [...results, ...this.variables] : results;
        },
        [...tensors, ...this.variables],
        this.options,
      );
      const own = this.options.updatesVariables ? outputs.slice(0, outputs.length - this.variables.length) : outputs;
      const dtypes = own.map((t) => t.dtype === "int32" ? "int32" as const : "float32" as const);
      this.#graphs.set(key, { fn, dtypes, sizes: own.map((t) => t.size) });
      this.#any = fn;
      if (this.options.updatesVariables) this.#dropState(); // the eager call moved the variables on
      try {
        return own.map((t, i) => copyInto(t.dataSync() as Float32Array | Int32Array, into[i]));
      } finally {
        tf.dispose(own);
      }
    } finally {
      tf.dispose(tensors);
    }
  }

  /** The number of nodes of the graph traced for `key` (undefined before its first call). */
  graphNodes(key: string): number | undefined {
    return this.#graphs.get(key)?.fn.nodes;
  }

  /** Writes the graph's newer variable values into the tfjs variables (a no-op when they are current). */
  sync(): void {
    if (!this.#ahead || this.#state === null || this.#any === null) return;
    const fn = this.#any;
    const state = this.#state;
    this.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(fn.read(state[i]), v.shape, "float32"))));
    this.#stateOf = this.variables.map((v) => v.dataId);
    this.#ahead = false;
  }

  #dropState(): void {
    if (this.#state !== null && this.#any !== null) this.#any.free(...this.#state);
    this.#state = null;
    this.#ahead = false;
  }

  /** Syncs the variables, then frees the graphs and their tensors. */
  dispose(): void {
    this.sync();
    this.#dropState();
    for (const { fn } of this.#graphs.values()) fn.dispose();
    this.#graphs.clear();
    this.#any = null;
  }
}

/** `values`, or `values` copied into `into` when given (which must have the same length). */
export function copyInto<T extends Float32Array | Int32Array>(values: T, into: T | undefined): T {
  if (into === undefined) return values;
  if (into.length !== values.length) throw new Error(`read: ${values.length} values into an array of ${into.length}`);
  into.set(values);
  return into;
}

/**
 * A zeroed `Float32Array` of `length` values for graph inputs: aligned so
 * that TensorFlow reads it in place where graphs run (see
 * {@linkcode GraphRunner.run}), a plain one elsewhere.
 *
 * @example
 * ```ts
 * const x = graphInputArray(4096 * 784); // a batch buffer for batches(…, { allocate: graphInputArray })
 * ```
 */
export function graphInputArray(length: number): Float32Array {
  return graphsUnavailable() === null ? alignedFloat32Array(tensorflowCApi(), length) : new Float32Array(length);
}

/** Why graphs cannot run here, or null when they can. */
export function graphsUnavailable(): string | null {
  if (tf.getBackend() !== "tensorflow") return `backend ${tf.getBackend()} (graphs need the native backend)`;
  try {
    if (Deno.env.get("TFJS_GRAPHS") === "0") return "TFJS_GRAPHS=0";
  } catch {
    // no --allow-env: the default applies
  }
  try {
    tensorflowCApi(); // opened on first use: portable-backend users need no FFI permission
  } catch (e) {
    return `cannot open TensorFlow's C library (${(e as Error).message.split("\n")[0]})`;
  }
  return null;
}
