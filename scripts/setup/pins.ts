/**
 * Every artifact `deno task setup` downloads, pinned by version and SHA-256.
 *
 * The TensorFlow C library comes from the official TensorFlow wheels on PyPI:
 * since TF 2.12 a wheel carries `tensorflow/libtensorflow_cc.so.2` (which
 * exports the whole `TF_*`/`TFE_*` C API and needs no Python) and
 * `libtensorflow_framework.so.2`, plus the C API headers under
 * `tensorflow/include/`. TF 2.9 (the libtensorflow tfjs-node 4.22 was built
 * against) is no use here: its wheel keeps the C API inside
 * `_pywrap_tensorflow_internal.so`, which has undefined `Py*` symbols.
 * TensorFlow Java's `tensorflow-core-native:1.0.0` on Maven Central repackages
 * the very same 2.16.2 `libtensorflow_cc.so.2` (byte-identical size) but ships
 * no headers, so the wheel is the simpler route.
 *
 * The CUDA build is the `tensorflow` wheel with the exact CUDA/cuDNN wheels its
 * `and-cuda` extra names (read from its METADATA). Wheels are tagged for
 * CPython 3.10, but only their shared libraries are used, which are the same
 * for every Python tag.
 */

/** One wheel from PyPI. */
export interface PinnedWheel {
  /** Distribution name as pip knows it. */
  name: string;
  version: string;
  /** Exact file name pip saves (encodes the platform tag). */
  file: string;
  /** Hex SHA-256 of the file, as listed by PyPI. */
  sha256: string;
}

/** TensorFlow release whose C library the addon is built against. */
export const TENSORFLOW_VERSION = "2.16.2";

/** The version of `@tensorflow/tfjs-node(-gpu)` the addon is built for (deno.json pins the same). */
export const TFJS_NODE_VERSION = "4.22.0";

/** N-API headers (`node_api.h`, `js_native_api.h`): tfjs-node is an N-API addon, so any Node-API headers do. */
export const NODE_API_HEADERS = {
  name: "node-api-headers",
  version: "1.5.0",
  file: "node-api-headers-1.5.0.tgz",
  sha256: "59d0c186cb2db56fb5219219fdbcfb0573c33ff772494a23940564b9cfff881c",
} as const;

/** CPU build: `tensorflow-cpu` 2.16.2. */
export const CPU_WHEELS: readonly PinnedWheel[] = [
  {
    name: "tensorflow-cpu",
    version: TENSORFLOW_VERSION,
    file: "tensorflow_cpu-2.16.2-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    sha256: "58f4f8e3a3304110b9d3d24d3b1f73e690f9b5bf88738b88d2f1e63ba337fb8c",
  },
];

function nvidia(name: string, version: string, sha256: string): PinnedWheel {
  return { name, version, file: `${name.replaceAll("-", "_")}-${version}-py3-none-manylinux1_x86_64.whl`, sha256 };
}

/** CUDA build: `tensorflow` 2.16.2 and its `and-cuda` extra (CUDA 12.3, cuDNN 8.9). */
export const GPU_WHEELS: readonly PinnedWheel[] = [
  {
    name: "tensorflow",
    version: TENSORFLOW_VERSION,
    file: "tensorflow-2.16.2-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    sha256: "4ed24662a3625b2eaa89a02ea177aadad840d6eb91445091fe1f7ad5fa528db3",
  },
  nvidia("nvidia-cublas-cu12", "12.3.4.1", "9b25b27bd5a5be1cc7e83a7b8004258daa338800798e22986e5b67ee06f0859d"),
  nvidia("nvidia-cuda-cupti-cu12", "12.3.101", "7b984288af7db1faa1e6f1803db075d4350116b72a98d4be0e88d604dc812c0e"),
  nvidia("nvidia-cuda-nvcc-cu12", "12.3.107", "a3344b94f5e89023fa17e0bbf8fb0dd26d5ef6f4091a5aab08f215e4999eac62"),
  nvidia("nvidia-cuda-nvrtc-cu12", "12.3.107", "4db66788a37a234304a0b3203744f9a6c665f48bde65f69a096ae3b5799b5b1d"),
  nvidia("nvidia-cuda-runtime-cu12", "12.3.101", "04604679ddca6acb96c76a7a9306282cddc16981f92e148e2dfe227078883cda"),
  nvidia("nvidia-cudnn-cu12", "8.9.7.29", "adf4f59ed7a1341103822ed8df6e144f4d47ea8b10d9bf0ea0047ba738fd7b02"),
  nvidia("nvidia-cufft-cu12", "11.0.12.1", "3b2c85d24d7dcc578720fdf39e2823950b5857e85164c3c1dc97184a8a8e0398"),
  nvidia("nvidia-curand-cu12", "10.3.4.107", "d798db82ae445cf1d8bf6af9ca3bd6bb6cc87753c229a441cf8d2597b09332e5"),
  nvidia("nvidia-cusolver-cu12", "11.5.4.101", "783a3279553feaf8e47af12cab1fa769ffd5e644ea876db3dc2252f35f9bf256"),
  nvidia("nvidia-cusparse-cu12", "12.2.0.103", "fe9e17daf406c98c28fbc8bcf785ecd4db301bf02ce626de6aa1046de66f84bd"),
  nvidia("nvidia-nccl-cu12", "2.19.3", "a9734707a2c96443331c1e48c717024aa6678a0e2a4cb66b2c364d18cee6b48d"),
  nvidia("nvidia-nvjitlink-cu12", "12.3.101", "64335a8088e2b9d196ae8665430bc6a2b7e6ef2eb877a9c735c804bd4ff6467c"),
];

/**
 * Members of the TensorFlow wheel the build needs: the two libraries and the
 * C API headers `binding/*.cc` include (found with `g++ -MM`).
 */
export const TENSORFLOW_MEMBERS: readonly string[] = [
  "tensorflow/libtensorflow_cc.so.2",
  "tensorflow/libtensorflow_framework.so.2",
  "tensorflow/include/tensorflow/c/",
  "tensorflow/include/tensorflow/core/platform/ctstring",
  "tensorflow/include/tsl/c/",
  "tensorflow/include/tsl/platform/ctstring",
];

/** Members of the NVIDIA wheels: their libraries (and `ptxas`/libdevice), not their headers. */
export const NVIDIA_MEMBERS: readonly string[] = ["nvidia/"];

/** Where `scripts/install.js` of tfjs-node would fetch libtensorflow; probed to decide on the standard install. */
export const STANDARD_LIBTENSORFLOW_URL = {
  cpu: "https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz",
  gpu: "https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz",
} as const;
