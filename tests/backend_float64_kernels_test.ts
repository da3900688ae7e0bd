/**
 * TensorFlow's float64 kernels for the metrics (`src/backend/graph/native_float64_kernels.ts`) against the
 * JavaScript ones: products, eigendecompositions (values, reconstruction, orthonormality, a repeated
 * eigenvalue), and every metric of a K = 150 measurement with and without them. Also which sizes the
 * dispatcher (`src/metrics/_gemm.ts`) hands over. Ignored, with the reason, without the native backend.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { nativeFloat64Kernels } from "../src/backend/graph/native_float64_kernels.ts";
import { type Float64Kernels, setFloat64Kernels } from "../src/float64_kernels.ts";
import { eigen, gemm, gemmNT } from "../src/metrics/_gemm.ts";
import { neuralCollapseMetrics, symmetricEigen, syntheticFeatures } from "../src/metrics/mod.ts";
import { Rng } from "../src/rng.ts";
import { ignore, why } from "./_native.ts";

function random(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

/** A symmetric matrix Xᵀ X [n, n] from a random X [m, n]. */
function gram(n: number, m: number, seed: number): Float64Array {
  const x = random(m * n, seed);
  const xt = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xt[j * m + i] = x[i * n + j];
  const g = new Float64Array(n * n);
  gemmNT(xt, xt, g, n, n, m);
  return g;
}

Deno.test({
  name: `TensorFlow's float64 product equals the JavaScript one to rounding${why}`,
  ignore,
  fn: () => {
    const k = nativeFloat64Kernels();
    assert(k !== null, "the native kernels did not load");
    const [n, m, d] = [37, 41, 53];
    const a = random(n * d, 1), b = random(m * d, 2);
    const ours = new Float64Array(n * m), js = new Float64Array(n * m);
    k.gemmNT(a, b, ours, n, m, d);
    gemmNT(a, b, js, n, m, d);
    assert(worstRelative(ours, js) < 1e-14, `worst ${worstRelative(ours, js)}`);
    // Operands longer than n·d and m·d (views of larger buffers) are read only that far.
    const longer = new Float64Array(n * m);
    k.gemmNT(random(n * d + 10, 1), b, longer, n, m, d);
    assertEquals(Array.from(longer), Array.from(ours));
  },
});

Deno.test({
  name: `TensorFlow's float64 eigendecomposition: ascending values, A = VΛVᵀ, orthonormal V${why}`,
  ignore,
  fn: () => {
    const k = nativeFloat64Kernels()!;
    const n = 60;
    const a = gram(n, 40, 3); // rank 40: twenty zero eigenvalues
    const { values, vectors } = k.symmetricEigen(a, n);
    const js = symmetricEigen(a, n);
    assert(worstRelative(values, js.values) < 1e-12, `values: worst ${worstRelative(values, js.values)}`);
    for (let j = 1; j < n; j++) assert(values[j] >= values[j - 1], `values not ascending at ${j}`);
    const rebuilt = new Float64Array(n * n), identity = new Float64Array(n * n);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        for (let j = 0; j < n; j++) {
          rebuilt[r * n + c] += vectors[r * n + j] * values[j] * vectors[c * n + j];
          identity[r * n + c] += vectors[j * n + r] * vectors[j * n + c];
        }
      }
    }
    assert(worstRelative(rebuilt, a) < 1e-12, `A = VΛVᵀ: worst ${worstRelative(rebuilt, a)}`);
    const eye = Float64Array.from({ length: n * n }, (_, i) => i % (n + 1) === 0 ? 1 : 0);
    assert(worstRelative(identity, eye) < 1e-12, `VᵀV = I: worst ${worstRelative(identity, eye)}`);
    // A repeated eigenvalue: 2·I has the eigenvalue 2 n times.
    const twice = k.symmetricEigen(Float64Array.from(eye, (v) => 2 * v), n);
    assert(twice.values.every((v) => Math.abs(v - 2) < 1e-14));
  },
});

Deno.test("large products and eigendecompositions go to registered kernels, small ones stay in JavaScript", () => {
  const calls: string[] = [];
  const recording: Float64Kernels = {
    gemmNT(a, b, c, n, m, d) {
      calls.push(`gemm ${n}x${m}x${d}`);
      gemmNT(a, b, c, n, m, d);
    },
    symmetricEigen(a, n) {
      calls.push(`eigen ${n}`);
      return symmetricEigen(a, n);
    },
  };
  setFloat64Kernels(recording);
  try {
    gemm(random(4 * 8, 1), random(4 * 8, 2), new Float64Array(16), 4, 4, 8);
    gemm(random(128 * 256, 1), random(128 * 256, 2), new Float64Array(128 * 128), 128, 128, 256);
    eigen(gram(10, 10, 4), 10);
    eigen(gram(128, 128, 5), 128);
    assertEquals(calls, ["gemm 128x128x256", "eigen 128"]);
    // Bad input is refused before it reaches a kernel, in the JavaScript solver's words.
    const bad = gram(128, 128, 6);
    bad[5] = NaN;
    assertThrows(() => eigen(bad, 128), RangeError, "non-finite entry at 5");
    assertEquals(calls.length, 2);
  } finally {
    setFloat64Kernels(null);
  }
});

Deno.test({
  name: `every metric at K = 150, d = 256 is the same with TensorFlow's float64 kernels as without${why}`,
  ignore,
  fn: () => {
    const data = syntheticFeatures(7, 5000, 150, 256, 2); // pass 2 in blocks of 2048, 2048 and 904 rows
    const measure = () => neuralCollapseMetrics(data.features, data.labels, data.weights, data.bias);
    const js = measure();
    const k = nativeFloat64Kernels()!;
    const used: string[] = [];
    setFloat64Kernels({
      gemmNT: (...args) => (used.push("gemm"), k.gemmNT(...args)),
      symmetricEigen: (...args) => (used.push("eigen"), k.symmetricEigen(...args)),
    });
    let ours: ReturnType<typeof measure>;
    try {
      ours = measure();
    } finally {
      setFloat64Kernels(null);
    }
    assert(used.includes("gemm") && used.includes("eigen"), `kernels used: ${used.join(", ")}`);
    for (const [key, value] of Object.entries(js)) {
      const other = (ours as unknown as Record<string, number>)[key];
      const err = Math.abs(other - value) / Math.max(Math.abs(value), 1e-300);
      assert(err < 1e-10, `${key}: ${other} against ${value} (relative ${err})`);
    }
  },
});
