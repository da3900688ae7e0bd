/**
 * The thread counts a local sweep gives its MLP runs (`sweepThreadEnv`), and
 * the property that makes that safe: an MLP trained with one TensorFlow
 * thread writes the same run folder, byte for byte, as with TensorFlow's
 * default threads (the native backend; ignored, with the reason, without it).
 */
import { assert, assertEquals } from "./_assert.ts";
import { sweepThreadEnv } from "../src/sweep/task_runner.ts";
import { runTask } from "./_task.ts";
import { ignore, why } from "./_native.ts";

Deno.test("sweepThreadEnv shares the cores among concurrent MLP runs, and only then", () => {
  const one = { TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" };
  assertEquals(sweepThreadEnv("mlp", 2, 2, {}), one);
  assertEquals(sweepThreadEnv("mlp", 3, 2, {}), one);
  assertEquals(sweepThreadEnv("mlp", 2, 16, {}), { TF_NUM_INTRAOP_THREADS: "8", TF_NUM_INTEROP_THREADS: "1" });
  assertEquals(sweepThreadEnv("mlp", 1, 2, {}), {});
  assertEquals(sweepThreadEnv("resnet18", 2, 2, {}), {});
  assertEquals(sweepThreadEnv("wide_resnet50", 4, 16, {}), {});
  assertEquals(sweepThreadEnv("mlp", 2, 2, { TF_NUM_INTRAOP_THREADS: "2" }), {});
  assertEquals(sweepThreadEnv("mlp", 2, 2, { TF_NUM_INTEROP_THREADS: "4" }), {});
});

Deno.test({
  name: `an MLP trained with one TensorFlow thread writes the same log and checkpoints as with the default${why}`,
  ignore,
  fn: async () => {
    const dirs = [await Deno.makeTempDir({ prefix: "threads_" }), await Deno.makeTempDir({ prefix: "threads_" })];
    try {
      const envs: Record<string, string>[] = [{}, { TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" }];
      for (const [i, env] of envs.entries()) {
        const args = ["--dataset", "fashion-mnist-subset", "--train-subset", "60", "--model", "mlp", "--width", "1"];
        args.push("--loss", "focal_loss", "-e", "3", "--backend", "tensorflow", "--save-path", `${dirs[i]}/run`);
        const out = await runTask("train", args, { env });
        assertEquals(out.code, 0, out.stderr);
      }
      const files = (dir: string) => [...Deno.readDirSync(`${dir}/run`)].map((e) => e.name).sort();
      assertEquals(files(dirs[1]), files(dirs[0]));
      for (const name of files(dirs[0])) {
        if (name === "config.json" || name.startsWith(".")) continue; // the start time, the lock
        const read = (dir: string) => Deno.readFileSync(`${dir}/run/${name}`);
        if (name === "log.jsonl") {
          const records = (dir: string) =>
            new TextDecoder().decode(read(dir)).trim().split("\n").map((l) => ({ ...JSON.parse(l), seconds: 0 }));
          assertEquals(records(dirs[1]), records(dirs[0]));
          continue;
        }
        const [a, b] = [read(dirs[0]), read(dirs[1])];
        assert(a.length === b.length && a.every((v, k) => v === b[k]), `${name} differs`);
      }
    } finally {
      for (const d of dirs) await Deno.remove(d, { recursive: true });
    }
  },
});
