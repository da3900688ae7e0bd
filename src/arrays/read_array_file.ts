/**
 * Reading a whole array from a `.npy` or `.json` file, chosen by extension.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { readBytesOrFail } from "../io.ts";
import { parseJsonArray } from "./json_array.ts";
import { type NdArray, readNpy } from "./npy.ts";

/**
 * Reads an array from a `.npy` or `.json` file (chosen by extension).
 *
 * @example
 * ```ts
 * const w = await readArrayFile("runs/a/weights.npy");
 * ```
 */
export async function readArrayFile(path: string): Promise<NdArray> {
  const lower = path.toLowerCase();
  if (!lower.endsWith(".npy") && !lower.endsWith(".json")) {
    throw new UserError(`${path}: expected a .npy or .json file`);
  }
  const bytes = await readBytesOrFail(path, `${path}: file not found`);
  return lower.endsWith(".npy") ? readNpy(bytes, path) : parseJsonArray(new TextDecoder().decode(bytes), path);
}
