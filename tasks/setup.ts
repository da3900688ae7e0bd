/**
 * `deno task setup [--gpu] [--force] [--from-registries] [--no-verify]`:
 * makes the native TensorFlow backend (`--backend tensorflow`) available.
 * See `scripts/setup/native_setup.ts` for the steps and `docs/backends.md`
 * for the why. Idempotent: a second run checks and returns in seconds.
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { setupNative, since, verifyNative } from "../scripts/setup/native_setup.ts";

const USAGE = "deno task setup [--gpu] [--force] [--from-registries] [--no-verify]";

const FLAGS = defineFlags([
  { name: "gpu", type: "boolean", default: false, help: "build @tensorflow/tfjs-node-gpu against CUDA TensorFlow" },
  { name: "force", type: "boolean", default: false, help: "redo every step, ignoring what is already done" },
  {
    name: "from-registries",
    type: "boolean",
    default: false,
    help: "build from PyPI wheels even where tfjs-node's own download host is reachable",
  },
  {
    name: "verify",
    type: "boolean",
    default: true,
    help: "load the backend in a fresh process and check a gradient",
  },
]);

/** Builds (or checks) the native backend, then checks that it loads and computes a gradient. */
async function main(flags: FlagValues<typeof FLAGS>): Promise<void> {
  const t0 = performance.now();
  const log = (line: string): void => console.log(`setup: ${line}`);
  const result = await setupNative({
    gpu: flags.gpu,
    force: flags.force,
    fromRegistries: flags["from-registries"],
    log,
  });
  if (flags.verify) {
    const t1 = performance.now();
    const v = await verifyNative();
    log(
      `check ok: ${result.package} loads, TensorFlow ${v.tensorflowVersion}, ${v.gpu ? "GPU" : "CPU"}, ` +
        `conv2d gradient matches cpu backend (rel. err ${v.relativeError.toExponential(1)}) (${since(t1)})`,
    );
  }
  log(`done in ${since(t0)}; use --backend tensorflow (or auto)`);
}

if (import.meta.main) {
  await runTask(USAGE, FLAGS, main);
}
