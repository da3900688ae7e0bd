/**
 * `deno task bench-serve`: how long the dashboard of `deno task serve` takes
 * to list a large runs folder (a generated sweep of `--runs` run folders with
 * `--epochs`-line training logs): the first, cold read; a poll when nothing
 * changed; `/api/runs`; the grid figures.
 *
 *   deno task bench-serve                  # 1 000 runs of 200 epochs
 *   deno task bench-serve --runs 5000 --epochs 800
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { timeListing, writeLargeSweep } from "../bench/serve_listing.ts";

const FLAGS = defineFlags([
  { name: "runs", type: "int", min: 1, max: 100000, default: 1000, help: "run folders to generate" },
  { name: "epochs", type: "int", min: 1, max: 10000, default: 200, help: "lines of each training log" },
]);

/** Times the dashboard listing a generated sweep, in a temporary folder. */
async function main(values: FlagValues<typeof FLAGS>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "bench-serve-" });
  try {
    await writeLargeSweep(root, values.runs, values.epochs);
    const t = await timeListing(root);
    console.log(`${t.runs} runs (${values.runs} generated, ${values.epochs}-epoch logs):`);
    console.log(`  cold listing (every folder and file read): ${t.coldRefreshMs.toFixed(0)} ms`);
    console.log(`  poll with nothing changed:                 ${t.idleRefreshMs.toFixed(0)} ms`);
    console.log(
      `  /api/runs from the index:                  ${t.apiRunsMs.toFixed(1)} ms, ${
        (t.apiRunsBytes / 1024).toFixed(0)
      } KiB`,
    );
    console.log(`  /api/heatmaps (first, all evaluated runs): ${t.heatmapsMs.toFixed(0)} ms`);
    console.log(`  JavaScript heap after listing:             ${t.heapMiB.toFixed(0)} MiB`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  await runTask("deno task bench-serve [flags]", FLAGS, main);
}
