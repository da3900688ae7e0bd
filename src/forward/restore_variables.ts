/**
 * Loading a checkpoint's values into a model's tfjs variables: what training
 * does to resume and evaluation does before each measurement. The file format,
 * its checksums and validation are `src/run/checkpoint.ts`.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { UserError } from "../errors.ts";
import type { Checkpoint } from "../run/checkpoint.ts";

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
