/**
 * Numeric convolution padding for the native backend. tfjs-node 4.22's
 * `Conv2D` accepts `'valid'`, `'same'` and explicit per-side padding, but not
 * a number (PyTorch's symmetric `padding=p`, which our models use), and its
 * two backward kernels accept only `'valid'`/`'same'`, so training such a
 * convolution throws. TensorFlow's own ops take `padding="EXPLICIT"` with
 * `explicit_paddings` in all three, so these kernels pass numeric and
 * explicit pads through that way and leave `'valid'`/`'same'` to tfjs-node.
 */
import { tf } from "./tf.ts";

type Pad = "valid" | "same" | number | [[number, number], [number, number], [number, number], [number, number]];

/** The parts of tfjs-node's backend and binding used here. */
interface NodeBackend {
  binding: {
    TF_ATTR_INT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_TYPE: number;
    TF_FLOAT: number;
  };
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

/** Whether tfjs-node handles `pad` itself for kernel `name`. */
function handledByTfjsNode(name: string, attrs: ConvAttrs): boolean {
  if (attrs.dataFormat === "NCHW") return true; // ours is NHWC only; let tfjs-node report it
  if (attrs.pad === "valid" || attrs.pad === "same") return true;
  return name === tf.Conv2D && Array.isArray(attrs.pad);
}

/**
 * The TF op attributes of a 2-D convolution (or its gradients) with explicit
 * padding, or `SAME` when that pads the same way (`same`: the `'same'` info of
 * the same shapes). The results are the same convolution, but TensorFlow's CPU
 * gradients with `EXPLICIT` padding take a slow generic path: for a 3 × 3,
 * stride-1 layer of 64 channels on 32 × 32 maps (batch 100), 97 against 53 ms
 * for the input gradient and 122 against 35 ms for the filter gradient. They
 * round differently (about 1e-6 relative); the forward results are identical.
 */
function explicitConvAttrs(
  backend: NodeBackend,
  info: tf.backend_util.Conv2DInfo,
  same: tf.backend_util.Conv2DInfo,
): unknown[] {
  const b = backend.binding;
  const p = info.padInfo;
  const q = same.padInfo;
  const isSame = p.top === q.top && p.bottom === q.bottom && p.left === q.left && p.right === q.right &&
    info.outHeight === same.outHeight && info.outWidth === same.outWidth;
  const padding = isSame ? [{ name: "padding", type: b.TF_ATTR_STRING, value: "SAME" }] : [
    { name: "padding", type: b.TF_ATTR_STRING, value: "EXPLICIT" },
    { name: "explicit_paddings", type: b.TF_ATTR_INT, value: [0, 0, p.top, p.bottom, p.left, p.right, 0, 0] },
  ];
  return [
    { name: "T", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: "strides", type: b.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
    ...padding,
    { name: "data_format", type: b.TF_ATTR_STRING, value: "NHWC" },
    { name: "use_cudnn_on_gpu", type: b.TF_ATTR_BOOL, value: true },
    { name: "dilations", type: b.TF_ATTR_INT, value: [1, info.dilationHeight, info.dilationWidth, 1] },
  ];
}

/** The convolution's geometry with its own padding, and with `'same'` padding (see `explicitConvAttrs`). */
function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  dilations: number | [number, number],
): { info: tf.backend_util.Conv2DInfo; same: tf.backend_util.Conv2DInfo } {
  const geometry = (pad: Pad) =>
    tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      attrs.strides,
      dilations,
      pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
  return { info: geometry(attrs.pad), same: geometry("same") };
}

/** Executes `op` with an int32 shape tensor made from `shape` as input number `at`. */
function withShapeInput(
  backend: NodeBackend,
  op: string,
  { info, same }: ReturnType<typeof convInfo>,
  inputs: tf.Tensor[],
  shape: number[],
  at: number,
): tf.Tensor {
  const sizes = tf.tensor1d(shape, "int32");
  try {
    const all = [...inputs];
    all.splice(at, 0, sizes);
    return backend.executeSingleOutput(op, explicitConvAttrs(backend, info, same), all);
  } finally {
    sizes.dispose();
  }
}

/**
 * Replaces tfjs-node's `Conv2D`, `Conv2DBackpropInput` and
 * `Conv2DBackpropFilter` kernels with ones that also take numeric and
 * explicit padding. Call once, after tfjs-node has registered its kernels.
 */
export function registerPaddedConvKernels(): void {
  const overrides: Record<
    string,
    (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: ConvAttrs }) => tf.Tensor
  > = {
    [tf.Conv2D]: ({ inputs, backend, attrs }) => {
      const x = inputs.x as tf.Tensor;
      const filter = inputs.filter as tf.Tensor;
      const { info, same } = convInfo(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
      const convAttrs = explicitConvAttrs(backend as NodeBackend, info, same);
      return (backend as NodeBackend).executeSingleOutput(tf.Conv2D, convAttrs, [x, filter]);
    },
    [tf.Conv2DBackpropInput]: ({ inputs, backend, attrs }) => {
      const dy = inputs.dy as tf.Tensor;
      const filter = inputs.filter as tf.Tensor;
      const geometry = convInfo(attrs.inputShape!, filter.shape, attrs, 1);
      const shape = geometry.info.inShape;
      return withShapeInput(backend as NodeBackend, tf.Conv2DBackpropInput, geometry, [filter, dy], shape, 0);
    },
    [tf.Conv2DBackpropFilter]: ({ inputs, backend, attrs }) => {
      const x = inputs.x as tf.Tensor;
      const dy = inputs.dy as tf.Tensor;
      const geometry = convInfo(x.shape, attrs.filterShape!, attrs, 1);
      const shape = geometry.info.filterShape;
      return withShapeInput(backend as NodeBackend, tf.Conv2DBackpropFilter, geometry, [x, dy], shape, 1);
    },
  };
  for (const [name, explicit] of Object.entries(overrides)) {
    const original = tf.getKernel(name, "tensorflow");
    if (original === undefined) throw new Error(`tfjs-node registered no '${name}' kernel`);
    tf.unregisterKernel(name, "tensorflow");
    tf.registerKernel({
      kernelName: name,
      backendName: "tensorflow",
      kernelFunc: (args) => {
        const attrs = args.attrs as unknown as ConvAttrs;
        if (handledByTfjsNode(name, attrs)) return original.kernelFunc(args);
        return explicit({ inputs: args.inputs, backend: args.backend, attrs });
      },
    });
  }
}
