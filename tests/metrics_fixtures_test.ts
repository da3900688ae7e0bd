/**
 * The metrics against values computed once with NumPy/SciPy (dense Σ_W and
 * scipy.linalg.pinv of the d × d Σ_B) by tests/fixtures/metrics/generate.py.
 */
import { assertClose, assertEquals } from "./_assert.ts";
import { type NeuralCollapseMetrics, neuralCollapseMetrics } from "../src/metrics/mod.ts";
import { exists, joinPath } from "../src/io.ts";
import { numericData } from "../src/arrays/npy.ts";
import { readArrayFile } from "../src/arrays/read_array_file.ts";

const FIXTURES = joinPath(new URL(".", import.meta.url).pathname, "fixtures", "metrics");

async function loadCase(name: string) {
  const dir = joinPath(FIXTURES, name);
  const features = (await readArrayFile(joinPath(dir, "features.npy"))).data as Float32Array | Float64Array;
  const labels = numericData(await readArrayFile(joinPath(dir, "labels.npy")), "labels");
  const weights = (await readArrayFile(joinPath(dir, "weights.npy"))).data as Float32Array | Float64Array;
  const biasPath = joinPath(dir, "bias.npy");
  const bias = (await exists(biasPath)) ? (await readArrayFile(biasPath)).data as Float32Array | Float64Array : null;
  const expected = JSON.parse(await Deno.readTextFile(joinPath(dir, "expected.json"))) as NeuralCollapseMetrics;
  return { features, labels, weights, bias, expected };
}

for (const name of ["k5_d8", "k4_d2", "k2_d5", "k10_d20"]) {
  Deno.test(`metrics match NumPy fixture ${name}`, async () => {
    const c = await loadCase(name);
    const got = neuralCollapseMetrics(c.features, c.labels, c.weights, c.bias);
    const keys = Object.keys(c.expected) as (keyof NeuralCollapseMetrics)[];
    assertEquals(new Set(Object.keys(got)), new Set(keys));
    for (const key of keys) {
      const want = c.expected[key];
      const tol = 1e-9 * Math.max(1, Math.abs(want));
      assertClose(got[key], want, { abs: tol }, `${name}.${key}: got ${got[key]}, NumPy ${want}`);
    }
  });
}
