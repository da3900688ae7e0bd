/**
 * Moving checkpoint values in and out of a model's tfjs variables: loading
 * them (`restoreVariables`, what training does to resume and evaluation does
 * before each measurement), reading them (`snapshot`) and writing them to a
 * checkpoint file (`saveCheckpoint`, what training does at every save). The
 * file format, its checksums and validation are `src/run/checkpoint.ts`.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { UserError } from "../errors.ts";
import { type Checkpoint, type StoredTensor, writeCheckpoint } from "../run/checkpoint.ts";

/**
 * Assigns stored values to variables by name; every variable must be present
 * with the same shape (a checkpoint of another configuration is refused).
 */
export function restoreVariables(
  ckpt: Checkpoint,
  vars: { name: string; variable: tf.Variable }[],
  path: string,
): void {
  for (const { name, variable } of vars) {
    const t = ckpt.tensors.get(name);
    if (!t) throw new UserError(`${path}: has no tensor '${name}' (written by another model configuration?)`);
    if (t.shape.join(",") !== variable.shape.join(",")) {
      throw new UserError(`${path}: tensor '${name}' has shape [${t.shape}], the model expects [${variable.shape}]`);
    }
    tf.tidy(() => variable.assign(tf.tensor(t.values, t.shape, "float32")));
  }
}

/** Reads the current values of named variables into {@linkcode StoredTensor}s. */
export async function snapshot(vars: { name: string; variable: tf.Variable }[]): Promise<StoredTensor[]> {
  return await Promise.all(vars.map(async ({ name, variable }) => ({
    name,
    shape: variable.shape,
    values: (await variable.data()) as Float32Array,
  })));
}

/** Writes a checkpoint file atomically: `meta` and the current values of `vars`. */
export async function saveCheckpoint(
  path: string,
  vars: { name: string; variable: tf.Variable }[],
  meta: Record<string, unknown>,
): Promise<void> {
  await writeCheckpoint(path, await snapshot(vars), meta);
}
