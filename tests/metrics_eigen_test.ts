/** The symmetric eigensolver behind the pseudo-inverse of Σ_B. */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { symmetricEigen } from "../src/metrics/mod.ts";
import { Rng } from "../src/rng.ts";

/** max |A V − V Λ| and max |VᵀV − I|. */
function residuals(a: Float64Array, n: number): { av: number; orth: number; values: Float64Array } {
  const { values, vectors: v } = symmetricEigen(a, n);
  let av = 0;
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let o = 0;
      for (let k = 0; k < n; k++) {
        s += a[i * n + k] * v[k * n + j];
        o += v[k * n + i] * v[k * n + j];
      }
      av = Math.max(av, Math.abs(s - v[i * n + j] * values[j]));
      orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
    }
  }
  return { av, orth, values };
}

Deno.test("2 × 2 by hand: [[2, 1], [1, 2]] has eigenvalues 1 and 3", () => {
  const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
  assert(Math.abs(values[0] - 1) < 1e-15 && Math.abs(values[1] - 3) < 1e-15, `${values}`);
  // λ = 3 has eigenvector ±(1, 1)/√2.
  assert(Math.abs(Math.abs(vectors[1]) - Math.SQRT1_2) < 1e-15);
  assert(Math.abs(vectors[1] - vectors[3]) < 1e-15);
});

Deno.test("random symmetric matrices: A V = V Λ, VᵀV = I, ascending, trace preserved", () => {
  const rng = new Rng(11);
  for (const n of [1, 3, 17, 60]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    }
    const { av, orth, values } = residuals(a, n);
    assert(av < 1e-12 * n, `n=${n} residual ${av}`);
    assert(orth < 1e-13 * n, `n=${n} orthogonality ${orth}`);
    let trace = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      trace += a[i * n + i];
      sum += values[i];
      if (i > 0) assert(values[i - 1] <= values[i], "ascending");
    }
    assert(Math.abs(trace - sum) < 1e-12 * n);
  }
});

Deno.test("repeated and zero eigenvalues: rank-1 Gram, identity, zero matrix", () => {
  // u uᵀ with ‖u‖² = 14: eigenvalues 0, 0, 14.
  const u = [1, 2, 3];
  const r1 = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r1[i * 3 + j] = u[i] * u[j];
  const rank1 = residuals(r1, 3);
  assert(Math.abs(rank1.values[2] - 14) < 1e-13 && Math.abs(rank1.values[0]) < 1e-14 && rank1.av < 1e-13);
  const eye = residuals(new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), 3);
  assertEquals(Array.from(eye.values), [1, 1, 1]);
  const zero = residuals(new Float64Array(16), 4);
  assertEquals(Array.from(zero.values), [0, 0, 0, 0]);
  assert(zero.orth === 0);
});

Deno.test("bad input: wrong size or non-finite entries", () => {
  assertThrows(() => symmetricEigen(new Float64Array(5), 2), RangeError);
  assertThrows(() => symmetricEigen(new Float64Array([1, NaN, NaN, 1]), 2), RangeError);
});
