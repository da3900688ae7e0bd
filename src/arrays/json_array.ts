/**
 * Dense numeric arrays written as nested JSON arrays (`[[1, 2], [3, 4]]`),
 * the plain-text alternative to `.npy` for small weights and labels.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { NdArray } from "./npy.ts";

/** Most dimensions a JSON array may have: NumPy's own limit (`NPY_MAXDIMS` of NumPy 2). */
const MAX_JSON_DIMENSIONS = 64;

/**
 * Parses a JSON number or nested array of numbers (rectangular) into a
 * float64 {@linkcode NdArray}. `name` prefixes error messages.
 *
 * @example
 * ```ts
 * parseJsonArray("[[1, 2], [3, 4]]", "w.json"); // { dtype: "float64", shape: [2, 2], data: Float64Array [1, 2, 3, 4] }
 * ```
 */
export function parseJsonArray(text: string, name: string): NdArray {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${name}: invalid JSON (${(e as Error).message})`);
  }
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) {
    // The walk below recurses once per dimension: a file of 100 000 nested brackets must not reach the stack's end.
    if (shape.length === MAX_JSON_DIMENSIONS) {
      throw new UserError(
        `${name}: arrays nested deeper than ${MAX_JSON_DIMENSIONS} levels (NumPy's limit of dimensions)`,
      );
    }
    shape.push(v.length);
  }
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let pos = 0;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw new UserError(`${name}: element ${path || "(root)"} is not a number`);
      out[pos++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new UserError(`${name}: ragged array at ${path || "(root)"}; expected shape [${shape.join(", ")}]`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, "");
  return { dtype: "float64", shape, data: out };
}
