/**
 * `deno task power`: how many seeds the claims need. From a pilot grid (run
 * folders, or a pilot CSV written by `--write-pilot`), simulates grids with
 * each seed count and prints, per checkpoint kind, the fraction of grids
 * that PASS each pre-registered contrast, the equivalence test, and all three
 * (`docs/statistics.md`).
 *
 *   deno task power --runs runs/pilot --write-pilot pilot.csv
 *   deno task power --pilot pilot.csv --seeds 5,8,10,12 --grids 400 --preset medium
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { UserError } from "../src/errors.ts";
import { readTextOrFail, writeFileAtomic } from "../src/io.ts";
import { selectRuns } from "../src/plot/mod.ts";
import { claimsOf, defaultClaims, sweepPreset, validateClaims } from "../src/sweep/mod.ts";
import { parsePilotCsv, pilotCsv, pilotFromRuns, powerAnalysis, powerTable } from "../src/sweep/power.ts";

const FLAGS = defineFlags([
  { name: "runs", type: "path", expect: "folder", help: "pilot run folders (scanned for info.json)" },
  { name: "pilot", type: "path", expect: "file", help: "pilot table (CSV written by --write-pilot)" },
  { name: "write-pilot", type: "path", expect: "file", help: "write the pilot table of --runs to this CSV file" },
  { name: "seeds", type: "ints", default: [5, 8, 10, 12], min: 3, help: "seed counts to simulate (comma list)" },
  { name: "grids", type: "int", default: 400, min: 1, help: "simulated grids per seed count" },
  { name: "resamples", type: "int", default: 1000, min: 99, help: "bootstrap draws and permutations per test" },
  {
    name: "preset",
    type: "string",
    help: "take the claims of this sweep preset (default: the corners of the pilot's grid, margin 1)",
  },
  { name: "seed", type: "int", default: 1, min: 0, help: "seed of the simulation" },
]);

/** Estimates each claim's power for the seeds and grids asked, from a pilot's runs or table. */
async function main(v: FlagValues<typeof FLAGS>): Promise<void> {
  if ((v["runs"] === undefined) === (v["pilot"] === undefined)) {
    throw new UserError("give exactly one of --runs DIR and --pilot FILE");
  }
  if (v["write-pilot"] !== undefined && v["runs"] === undefined) {
    throw new UserError("--write-pilot: needs --runs (the pilot table is read from run folders)");
  }
  const rows = v["runs"] !== undefined
    ? pilotFromRuns(
      await selectRuns({ roots: [v["runs"]], onSkip: (dir, why) => console.error(`skipped ${dir}: ${why}`) }),
    )
    : parsePilotCsv(await readTextOrFail(v["pilot"]!, `--pilot ${v["pilot"]}: no such file`), v["pilot"]!);
  if (rows.length === 0) throw new UserError(`--pilot ${v["pilot"]}: no rows`);
  const widths = [...new Set(rows.map((r) => r.width))];
  const epochs = [...new Set(rows.map((r) => r.epochs))];
  const claims = v["preset"] !== undefined ? claimsOf(sweepPreset(v["preset"])) : defaultClaims(widths, epochs);
  validateClaims(claims, widths, epochs);
  if (v["write-pilot"] !== undefined) {
    await writeFileAtomic(v["write-pilot"], pilotCsv(rows));
    console.log(`power: ${rows.length} pilot rows written to ${v["write-pilot"]}`);
  }
  const t0 = performance.now();
  const results = powerAnalysis(rows, claims, {
    seeds: v["seeds"],
    grids: v["grids"],
    resamples: v["resamples"],
    seed: v["seed"],
  });
  console.log(powerTable(results));
  console.log(`power: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (import.meta.main) {
  await runTask("deno task power --runs DIR | --pilot FILE [flags]", FLAGS, main);
}
