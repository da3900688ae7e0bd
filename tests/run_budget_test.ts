/** Size flags beyond this machine's memory are refused before anything is allocated, naming the flag. */
import { assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { checkRunFits, runMemoryItems } from "../src/run/budget.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../src/run/train_config.ts";

const mlp: TrainConfig = { ...DEFAULT_CONFIG, dataset: "synthetic", model: "mlp", width: 1 };
const GB = 1e9;

Deno.test("runMemoryItems: hand-counted bytes of a small synthetic MLP run", () => {
  const cfg = { ...mlp, syntheticDim: 4, syntheticClasses: 3, syntheticPerClass: 10, mlpHidden: 5, mlpDepth: 2 };
  const items = runMemoryItems(cfg);
  // 3 classes × (10 + 20 + 100) samples × 4 values × 4 bytes
  assertEquals(items[0].bytes, 3 * 130 * 4 * 4);
  // (4·5 + 1·5·5 + 5·3) parameters × 16 bytes
  assertEquals(items[1].bytes, (20 + 25 + 15) * 16);
  // four 3 × 3 float64 matrices
  assertEquals(items[2].bytes, 4 * 8 * 9);
});

Deno.test("checkRunFits: the defaults fit; each oversized flag is named in one line", () => {
  checkRunFits(mlp, 1 * GB);
  checkRunFits({ ...DEFAULT_CONFIG }, 1 * GB); // CIFAR-100 WideResNet: only the K × K sums count here
  assertThrows(() => checkRunFits({ ...mlp, mlpHidden: 2_000_000 }, 24 * GB), UserError, "--mlp-hidden: the MLP");
  assertThrows(() => checkRunFits({ ...mlp, syntheticDim: 1e9 }, 24 * GB), UserError, "--synthetic-dim: the synthetic");
  assertThrows(
    () => checkRunFits({ ...mlp, syntheticClasses: 1_000_000 }, 24 * GB),
    UserError,
    "--synthetic-classes: the NC metrics' K x K sums would need about 3.20e+4 GB",
  );
  assertThrows(
    () => checkRunFits({ ...mlp, syntheticPerClass: 1e8 }, 24 * GB),
    UserError,
    "--synthetic-per-class: the synthetic dataset",
  );
});

Deno.test("train: crafted numbers and sizes end in one error line, exit 2", async () => {
  const { runTask } = await import("./_task.ts");
  const base = ["--dataset", "synthetic", "--model", "mlp", "-e", "1", "--save-path", "/nonexistent/never"];
  for (
    const [args, text] of [
      [["--mlp-hidden", "2000000"], "--mlp-hidden: the MLP"],
      [["--synthetic-classes", "1000000"], "--synthetic-classes: the NC metrics"],
      [["--lr", "0x10"], "--lr: expected a decimal number, got '0x10'"],
      [["--seed", "9007199254740993"], "--seed: 9007199254740993 is beyond 2^53 - 1"],
    ] as const
  ) {
    const out = await runTask("train", [...base, ...args]);
    assertEquals(out.code, 2, out.stderr);
    assertEquals(out.stderr.trim().split("\n").filter((l) => l.trim() !== "").length, 1, out.stderr);
    assertEquals(out.stderr.trim().startsWith(`error: ${text}`), true, out.stderr);
  }
});
