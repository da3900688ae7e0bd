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
import type { NodeBackend } from "./native_kernels.ts";

type Pad = "valid" | "same" | number | [[number, number], [number, number], [number, number], [number, number]];

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

/**
 * The spatial axes (1: height, 2: width) to reverse so that a convolution's
 * input gradient can run with `SAME` padding, or null when it cannot. A
 * strided convolution with PyTorch's symmetric padding reads `top` rows of
 * padding above and only what its last window needs below; `SAME` puts the
 * smaller half above (for 3 × 3, stride 2, pad 1 on an even size: 1 and 0
 * against `SAME`'s 0 and 1). Reversing the maps and the filter along that axis
 * swaps the two sides. Worth it for the input gradient only: TensorFlow's CPU
 * `Conv2DBackpropInput` with `EXPLICIT` padding took 54, 80 and 145 ms for
 * ResNet-18's three stride-2 layers (w = 1, batch 100) against 45, 48 and 39
 * ms reversed (reversals included); the forward pass and the filter gradient
 * gain less than the reversals cost.
 */
function reversedSameAxes({ info, same }: { info: tf.backend_util.Conv2DInfo; same: tf.backend_util.Conv2DInfo }):
  | number[]
  | null {
  if (info.outHeight !== same.outHeight || info.outWidth !== same.outWidth) return null;
  const p = info.padInfo;
  const q = same.padInfo;
  const axes: number[] = [];
  const sides = [
    { axis: 1, top: p.top, out: info.outHeight, stride: info.strideHeight, k: info.effectiveFilterHeight },
    { axis: 2, top: p.left, out: info.outWidth, stride: info.strideWidth, k: info.effectiveFilterWidth },
  ];
  const inSizes = [info.inHeight, info.inWidth];
  for (const [i, side] of sides.entries()) {
    // Padding actually read after the input: what the last window reaches past it.
    const after = (side.out - 1) * side.stride + side.k - inSizes[i] - side.top;
    const [sameBefore, sameAfter] = i === 0 ? [q.top, q.bottom] : [q.left, q.right];
    if (side.top === sameBefore && after === sameAfter) continue;
    if (after === sameBefore && side.top === sameAfter) axes.push(side.axis);
    else return null;
  }
  return axes;
}

/** `t` reversed along `axes` by TensorFlow's `ReverseV2`. */
function reversed(backend: NodeBackend, t: tf.Tensor, axes: number[]): tf.Tensor {
  const b = backend.binding;
  const axis = tf.tensor1d(axes, "int32");
  try {
    return backend.executeSingleOutput("ReverseV2", [
      { name: "T", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
      { name: "Tidx", type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
    ], [t, axis]);
  } finally {
    axis.dispose();
  }
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
      const node = backend as NodeBackend;
      const axes = reversedSameAxes(geometry);
      if (axes === null || axes.length === 0) {
        return withShapeInput(node, tf.Conv2DBackpropInput, geometry, [filter, dy], shape, 0);
      }
      // Reversed along `axes`, the same padding is SAME's: ∂x = rev(∂x_SAME(rev(∂y), rev(w))).
      const dyR = reversed(node, dy, axes);
      const filterR = reversed(node, filter, axes.map((a) => a - 1));
      const sameGeometry = { info: geometry.same, same: geometry.same };
      try {
        const dxR = withShapeInput(node, tf.Conv2DBackpropInput, sameGeometry, [filterR, dyR], shape, 0);
        try {
          return reversed(node, dxR, axes);
        } finally {
          dxR.dispose();
        }
      } finally {
        dyR.dispose();
        filterR.dispose();
      }
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
