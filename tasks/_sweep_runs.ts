/**
 * The runs that the figure tasks (`plot`, `heatmap`, `report`) may draw from
 * a sweep's folder: a run folder whose parent holds a sweep's `manifest.json`
 * is one of its grid points, and one trained with other settings than the
 * grid's (retrained by hand with `--lr 0.05`, say) is left out with a note,
 * as the sweep's own report leaves it out, so that it is never averaged into
 * its cell. Folders named with `--run` are drawn as they are.
 */
import { dirname } from "node:path";
import { UserError } from "../src/errors.ts";
import type { RunRecord } from "../src/plot/mod.ts";
import { differenceMessage, readManifest, sweepRunsOnly } from "../src/sweep/mod.ts";

/**
 * `runs` less the grid points of sweeps whose `config.json` differs from
 * their sweep's grid, each left out with a `note: left out: …` line on
 * stderr. `named` are the folders given with `--run`: kept whatever they hold.
 */
export async function leaveOutOffGridRuns(
  runs: readonly RunRecord[],
  named: readonly string[] = [],
): Promise<RunRecord[]> {
  const byParent = new Map<string, RunRecord[]>();
  for (const r of runs) {
    if (named.includes(r.dir)) continue;
    const parent = dirname(r.dir);
    byParent.set(parent, [...(byParent.get(parent) ?? []), r]);
  }
  const left = new Set<string>();
  for (const [root, records] of byParent) {
    let manifest;
    try {
      manifest = await readManifest(root);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      console.error(`warning: ${e.message}; its runs are drawn without checking them against its grid`);
      continue;
    }
    if (manifest === null) continue;
    // Loaded only for a sweep's folder: the train task's flag parser builds what the sweep trains.
    const { sweepRunSettings } = await import("../src/sweep/run_settings.ts");
    let refused;
    try {
      refused = sweepRunsOnly(records, root, manifest.config, sweepRunSettings(manifest.config)).refused;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      console.error(`warning: ${root}/manifest.json: ${e.message}; its runs are drawn without checking them`);
      continue;
    }
    for (const d of refused) {
      console.error(`note: left out: ${differenceMessage(d)}`);
      left.add(d.dir);
    }
  }
  return runs.filter((r) => !left.has(r.dir));
}
