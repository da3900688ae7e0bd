/**
 * The part of TensorFlow's C API (`tensorflow/c/c_api.h`) that building and
 * running a graph needs, opened through Deno's FFI on the library that
 * tfjs-node's binding has already loaded (same process, same op registry).
 * Every function here is a thin typed wrapper; `TfStatus` turns a failed
 * status into an `Error` that carries TensorFlow's message.
 */

import { loadedNativeBinding } from "../native.ts";
import { tensorflowLibraryFor } from "./_library_path.ts";

/** `TF_DataType` values used by the traced ops (the same numbers as tfjs-node's binding constants). */
export const TF_FLOAT = 1;
export const TF_INT32 = 3;
export const TF_INT64 = 9;
export const TF_BOOL = 10;

/** `TF_AttrType` values (`tf_attrtype.h`), as tfjs-node's `TFEOpAttr.type` carries them. */
export const TF_ATTR_STRING = 0;
export const TF_ATTR_INT = 1;
export const TF_ATTR_FLOAT = 2;
export const TF_ATTR_BOOL = 3;
export const TF_ATTR_TYPE = 4;
export const TF_ATTR_SHAPE = 5;

const SYMBOLS = {
  TF_NewStatus: { parameters: [], result: "usize" },
  TF_DeleteStatus: { parameters: ["usize"], result: "void" },
  TF_GetCode: { parameters: ["usize"], result: "i32" },
  TF_Message: { parameters: ["usize"], result: "usize" },
  TF_NewGraph: { parameters: [], result: "usize" },
  TF_DeleteGraph: { parameters: ["usize"], result: "void" },
  TF_NewOperation: { parameters: ["usize", "buffer", "buffer"], result: "usize" },
  TF_AddInput: { parameters: ["usize", { struct: ["usize", "i32"] }], result: "void" },
  TF_AddInputList: { parameters: ["usize", "buffer", "i32"], result: "void" },
  TF_AddControlInput: { parameters: ["usize", "usize"], result: "void" },
  TF_SetAttrString: { parameters: ["usize", "buffer", "buffer", "usize"], result: "void" },
  TF_SetAttrInt: { parameters: ["usize", "buffer", "i64"], result: "void" },
  TF_SetAttrIntList: { parameters: ["usize", "buffer", "buffer", "i32"], result: "void" },
  TF_SetAttrFloat: { parameters: ["usize", "buffer", "f32"], result: "void" },
  TF_SetAttrBool: { parameters: ["usize", "buffer", "u8"], result: "void" },
  TF_SetAttrType: { parameters: ["usize", "buffer", "i32"], result: "void" },
  TF_SetAttrTypeList: { parameters: ["usize", "buffer", "buffer", "i32"], result: "void" },
  TF_SetAttrShape: { parameters: ["usize", "buffer", "buffer", "i32"], result: "void" },
  TF_SetAttrTensor: { parameters: ["usize", "buffer", "usize", "usize"], result: "void" },
  TF_FinishOperation: { parameters: ["usize", "usize"], result: "usize" },
  TF_AllocateTensor: { parameters: ["i32", "buffer", "i32", "usize"], result: "usize" },
  TF_DeleteTensor: { parameters: ["usize"], result: "void" },
  TF_TensorData: { parameters: ["usize"], result: "usize" },
  TF_TensorByteSize: { parameters: ["usize"], result: "usize" },
  TF_NewSessionOptions: { parameters: [], result: "usize" },
  TF_DeleteSessionOptions: { parameters: ["usize"], result: "void" },
  TF_SetConfig: { parameters: ["usize", "buffer", "usize", "usize"], result: "void" },
  TF_NewSession: { parameters: ["usize", "usize", "usize"], result: "usize" },
  TF_CloseSession: { parameters: ["usize", "usize"], result: "void" },
  TF_DeleteSession: { parameters: ["usize", "usize"], result: "void" },
  // libc's, found through the library's dependencies: copying to and from tensor memory without Deno's
  // pointer API, which needs an unrestricted --allow-ffi (the tasks allow FFI for two folders only).
  copyToBuffer: { name: "memcpy", parameters: ["buffer", "usize", "usize"], result: "usize" },
  copyFromBuffer: { name: "memcpy", parameters: ["usize", "buffer", "usize"], result: "usize" },
  strlen: { parameters: ["usize"], result: "usize" },
  // memset of no bytes returns its first argument untouched: the address of a buffer, again without the pointer API.
  addressOf: { name: "memset", parameters: ["buffer", "i32", "usize"], result: "usize" },
  dlsym: { parameters: ["usize", "buffer"], result: "usize" },
  TF_NewTensor: { parameters: ["i32", "buffer", "i32", "usize", "usize", "usize", "usize"], result: "usize" },
  TF_SessionRun: {
    parameters: [
      "usize", // session
      "usize", // run options (TF_Buffer*, null)
      "buffer", // const TF_Output* inputs
      "buffer", // TF_Tensor* const* input values
      "i32",
      "buffer", // const TF_Output* outputs
      "buffer", // TF_Tensor** output values
      "i32",
      "usize", // target operations (none)
      "i32",
      "usize", // run metadata (null)
      "usize", // status
    ],
    result: "void",
  },
  // The same function on a thread of Deno's pool: the JavaScript thread goes on while the graph runs.
  TF_SessionRunAsync: {
    name: "TF_SessionRun",
    parameters: [
      "usize",
      "usize",
      "buffer",
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "i32",
      "usize",
      "i32",
      "usize",
      "usize",
    ],
    result: "void",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** A C pointer as an integer (0 is null). Pointers are passed as `usize` (see `copyToBuffer` above). */
export type Ptr = bigint;

/** The opened library's functions. */
export type TfCApi = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let opened: { api: TfCApi; path: string } | undefined;

/**
 * The TensorFlow C library that the loaded native backend's addon links
 * against (so the graph runs in the very library the eager ops do: same
 * process, same op registry, same build). Throws when the native backend is
 * not loaded, the library cannot be located, or FFI is not permitted for it.
 */
export function tensorflowCApi(): TfCApi {
  if (opened) return opened.api;
  const binding = loadedNativeBinding();
  if (binding === null) throw new Error("the native backend is not loaded");
  const path = tensorflowLibraryFor(binding);
  if (path === null) throw new Error(`cannot locate the TensorFlow library that ${binding} links against`);
  // Asked first, so that a narrower --allow-ffi is a fallback, never an interactive permission prompt.
  if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") {
    throw new Error(`no FFI permission for ${path} (the tasks pass --allow-ffi=node_modules,native)`);
  }
  const lib = Deno.dlopen(path, SYMBOLS);
  opened = { api: lib.symbols, path };
  return opened.api;
}

const encoder = new TextEncoder();

/** A NUL-terminated C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(s.length * 3 + 1);
  const { written } = encoder.encodeInto(s, bytes);
  return bytes.subarray(0, written + 1) as Uint8Array<ArrayBuffer>;
}

/** The NUL-terminated string at `ptr` ("" for null). */
export function cStringAt(api: TfCApi, ptr: Ptr): string {
  if (BigInt(ptr) === 0n) return "";
  const bytes = new Uint8Array(Number(api.strlen(ptr)));
  copyFromNative(api, bytes, ptr);
  return new TextDecoder().decode(bytes);
}

/** Copies `dst.byteLength` bytes from native memory at `src` into `dst`. */
export function copyFromNative(api: TfCApi, dst: Uint8Array<ArrayBuffer>, src: Ptr): void {
  if (dst.byteLength > 0) api.copyToBuffer(dst, src, BigInt(dst.byteLength));
}

/** Copies `src` into native memory at `dst`. */
export function copyToNative(api: TfCApi, dst: Ptr, src: ArrayBufferView<ArrayBuffer>): void {
  if (src.byteLength > 0) api.copyFromBuffer(dst, src, BigInt(src.byteLength));
}

/**
 * The alignment TensorFlow needs to use memory in place (`EIGEN_MAX_ALIGN_BYTES`
 * of an AVX-512 build); `TF_NewTensor` copies memory aligned less.
 */
export const TENSOR_ALIGNMENT = 64;
/**
 * Smallest array lent to TensorFlow in place. V8 may keep small typed arrays
 * on its moving heap, whose address is only good during a call; copying them
 * costs nothing anyway.
 */
export const BORROW_MIN_BYTES = 4096;

/** The address of `bytes`' first byte (valid while `bytes` is alive, for arrays of at least 4 KiB). */
export function addressOf(api: TfCApi, bytes: ArrayBufferView): Ptr {
  return BigInt(api.addressOf(bytes as ArrayBufferView<ArrayBuffer>, 0, 0n));
}

/** A zeroed `Float32Array` of `length` values whose memory starts on a {@linkcode TENSOR_ALIGNMENT} boundary. */
export function alignedFloat32Array(api: TfCApi, length: number): Float32Array<ArrayBuffer> {
  const buffer = new ArrayBuffer(4 * length + TENSOR_ALIGNMENT);
  const misalignment = Number(addressOf(api, new Uint8Array(buffer)) % BigInt(TENSOR_ALIGNMENT));
  return new Float32Array(buffer, (TENSOR_ALIGNMENT - misalignment) % TENSOR_ALIGNMENT, length);
}

let noOpDeallocator: Ptr | undefined;

/**
 * The deallocator of lent memory: lent arrays belong to JavaScript, so there
 * is nothing to free. TensorFlow calls it with (data, length, argument); libc's
 * `getpid` takes no arguments and has no effect, and on the Linux calling
 * conventions (x86-64, AArch64: arguments in registers, which the callee may
 * ignore) it is a well-defined no-op for any arguments. 0 where not found.
 */
function deallocatorOfLentMemory(api: TfCApi): Ptr {
  if (noOpDeallocator === undefined) {
    const linux = Deno.build.os === "linux" && (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");
    noOpDeallocator = linux ? BigInt(api.dlsym(0n, cString("getpid"))) : 0n; // RTLD_DEFAULT is 0 on Linux
  }
  return noOpDeallocator;
}

/**
 * A `TF_Tensor*` of `dtype` and `shape` over `bytes`' own memory, without a
 * copy: TensorFlow reads the array in place. Null when that is not possible
 * (an array under {@linkcode BORROW_MIN_BYTES}, or not aligned to
 * {@linkcode TENSOR_ALIGNMENT}: the caller copies instead). The array must
 * stay alive, and unchanged, until the tensor and every tensor TensorFlow
 * made that shares its memory are deleted. TensorFlow never writes into a
 * fed tensor while the caller holds it (it reuses an input's memory only when
 * nothing else refers to it).
 */
export function borrowedTensor(
  api: TfCApi,
  dtype: number,
  shape: number[],
  bytes: Uint8Array<ArrayBuffer>,
): Ptr | null {
  if (bytes.byteLength < BORROW_MIN_BYTES) return null;
  const address = addressOf(api, bytes);
  if (address % BigInt(TENSOR_ALIGNMENT) !== 0n) return null;
  const deallocator = deallocatorOfLentMemory(api);
  if (deallocator === 0n) return null;
  const dims = new BigInt64Array(shape.map((d) => BigInt(d)));
  const tensor = BigInt(
    api.TF_NewTensor(
      dtype,
      new Uint8Array(dims.buffer),
      shape.length,
      address,
      BigInt(bytes.byteLength),
      deallocator,
      0n,
    ),
  );
  return tensor === 0n ? null : tensor;
}

/** A `TF_Status` that throws on failure. */
export class TfStatus {
  readonly ptr: Ptr;
  constructor(readonly api: TfCApi) {
    this.ptr = BigInt(api.TF_NewStatus());
  }
  /** Throws `what: <TensorFlow's message>` when the last call failed. */
  check(what: string): void {
    if (this.api.TF_GetCode(this.ptr) === 0) return;
    const text = cStringAt(this.api, BigInt(this.api.TF_Message(this.ptr))) || "unknown error";
    throw new Error(`${what}: ${text}`);
  }
  dispose(): void {
    this.api.TF_DeleteStatus(this.ptr);
  }
}

/** A `TF_Output` ({operation, index}) laid out as the C struct (16 bytes on 64-bit). */
export function tfOutput(op: Ptr, index: number): Uint8Array<ArrayBuffer> {
  const buf = new ArrayBuffer(16);
  new BigUint64Array(buf, 0, 1)[0] = BigInt(op);
  new Int32Array(buf, 8, 1)[0] = index;
  return new Uint8Array(buf);
}

/**
 * A serialised `ConfigProto`: intra- and inter-op thread counts (0 = TensorFlow's
 * default) and, with `optimize` false, Grappler switched off
 * (`graph_options.rewrite_options.disable_meta_optimizer`), so the graph runs
 * exactly the kernels it was built from.
 */
export function sessionConfig(intraOp: number, interOp: number, optimize: boolean): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  const varint = (v: number) => {
    while (v > 127) {
      bytes.push((v & 127) | 128);
      v >>>= 7;
    }
    bytes.push(v);
  };
  if (intraOp > 0) (bytes.push(0x10), varint(intraOp)); // field 2
  if (interOp > 0) (bytes.push(0x28), varint(interOp)); // field 5
  // graph_options (10) { rewrite_options (10) { disable_meta_optimizer (19): true } }
  if (!optimize) bytes.push(0x52, 0x05, 0x52, 0x03, 0x98, 0x01, 0x01);
  return new Uint8Array(bytes);
}
