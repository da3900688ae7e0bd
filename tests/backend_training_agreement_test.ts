/**
 * The native `tensorflow` backend against the portable `cpu` backend on what
 * a run computes end to end: every loss and its gradient on fixed logits
 * (relative 1e-5), and a seeded 1-epoch synthetic training run (epoch losses
 * within 1e-4). The NC metrics are plain float64 JavaScript, identical on every
 * backend by construction. Ignored, with the reason, without the native backend.
 */
import { assert, assertEquals } from "./_assert.ts";
import { tf } from "../src/backend/mod.ts";
import { makeSyntheticDataset } from "../src/data/mod.ts";
import { LOSS_NAMES, makeLoss } from "../src/losses/mod.ts";
import { Rng } from "../src/rng.ts";
import { DEFAULT_CONFIG } from "../src/run/train_config.ts";
import { trainRun } from "../src/train/train.ts";
import { ignore, why } from "./_native.ts";

function relClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    assert(Math.abs(a[i] - b[i]) <= tol * Math.max(scale, 1e-12), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

Deno.test({
  name: `every loss and its gradient agree between tensorflow and cpu to 1e-5${why}`,
  ignore,
  fn: async () => {
    const rng = new Rng(5);
    const logits = Float32Array.from({ length: 8 * 10 }, () => 4 * rng.normal());
    logits[3] = 100; // extreme logits too
    logits[14] = -100;
    const labels = Int32Array.from({ length: 8 }, (_, i) => (i * 3) % 10);
    for (const name of LOSS_NAMES) {
      const results: Float32Array[][] = [];
      for (const backend of ["cpu", "tensorflow"]) {
        assert(await tf.setBackend(backend), `backend ${backend} did not load`);
        assertEquals(tf.getBackend(), backend);
        const out = tf.tidy(() => {
          const z = tf.tensor2d(logits, [8, 10]);
          const y = tf.tensor1d(labels, "int32");
          const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => makeLoss(name)(t as tf.Tensor2D, y))(z);
          return [value, grad];
        });
        results.push(await Promise.all(out.map(async (t) => Float32Array.from(await t.data() as Float32Array))));
        tf.dispose(out);
      }
      relClose(results[1][0], results[0][0], 1e-5, `${name} value`);
      relClose(results[1][1], results[0][1], 1e-5, `${name} gradient`);
    }
  },
});

Deno.test({
  name: `a seeded 1-epoch synthetic run gives the same epoch losses on tensorflow and cpu (1e-4)${why}`,
  ignore,
  fn: async () => {
    const records = [];
    for (const backend of ["cpu", "tensorflow"] as const) {
      assert(await tf.setBackend(backend), `backend ${backend} did not load`);
      assertEquals(tf.getBackend(), backend);
      const dir = await Deno.makeTempDir();
      const cfg = {
        ...DEFAULT_CONFIG,
        dataset: "synthetic",
        model: "mlp",
        mlpDepth: 2,
        mlpHidden: 32,
        epochs: 1,
        lr: 0.05,
        savePath: dir,
        backend,
      };
      const ds = makeSyntheticDataset({ numClasses: 4, dim: 8, trainPerClass: 50, valPerClass: 10 });
      const { records: r, model } = await trainRun(cfg, ds);
      records.push(r[0]);
      for (const v of [...model.store.trainable, ...model.store.buffers]) v.variable.dispose();
      await Deno.remove(dir, { recursive: true });
    }
    for (const key of ["train_loss", "val_loss"] as const) {
      const [a, b] = [records[0][key], records[1][key]];
      assert(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)), `${key}: cpu ${a} vs tensorflow ${b}`);
    }
    await tf.setBackend("cpu");
  },
});
