/**
 * Moving checkpoint values in and out of tfjs variables. The file format, its
 * checksums and validation are `src/run/checkpoint.ts`.
 */
import type { tf } from "../backend/tf.ts";
import { type StoredTensor, writeCheckpoint } from "../run/checkpoint.ts";

/** Reads the current values of named variables into {@linkcode StoredTensor}s. */
export async function snapshot(vars: { name: string; variable: tf.Variable }[]): Promise<StoredTensor[]> {
  return await Promise.all(vars.map(async ({ name, variable }) => ({
    name,
    shape: variable.shape,
    values: (await variable.data()) as Float32Array,
  })));
}

/** Writes a checkpoint file atomically. */
export async function saveCheckpoint(
  path: string,
  vars: { name: string; variable: tf.Variable }[],
  meta: Record<string, unknown>,
): Promise<void> {
  await writeCheckpoint(path, await snapshot(vars), meta);
}
