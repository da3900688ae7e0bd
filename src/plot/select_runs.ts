/**
 * The run selection shared by the figure tasks: load from `--runs` folders
 * and `--run` folders, apply the configuration filters, and fail with one line
 * when nothing is left.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { filterRuns, type RunFilter } from "./filter_runs.ts";
import { loadRuns, type RunSources } from "../run/load.ts";
import type { RunRecord } from "./types.ts";

/**
 * Loads the runs of `sources` and keeps those matching `filter`. Throws
 * {@linkcode UserError} when no run is found or none can be read (with
 * `sources.onSkip`, unreadable runs are reported when others are left), or
 * when the filter removes all of them (the message lists the values that
 * exist).
 *
 * @example
 * ```ts
 * const runs = await selectRuns({ roots: ["runs"] }, { width: [2], epochs: [800] });
 * ```
 */
export async function selectRuns(sources: RunSources, filter: RunFilter = {}): Promise<RunRecord[]> {
  // Unreadable runs are reported only when some run is left; otherwise the first is the error.
  const skipped: [string, string][] = [];
  const onSkip = sources.onSkip && ((dir: string, reason: string) => void skipped.push([dir, reason]));
  const all = await loadRuns({ ...sources, onSkip });
  if (all.length === 0 && skipped.length > 0) {
    const more = skipped.length > 1 ? ` (and ${skipped.length - 1} more unreadable run folders)` : "";
    throw new UserError(`${skipped[0][1]}${more}`);
  }
  for (const [dir, reason] of skipped) sources.onSkip!(dir, reason);
  if (all.length === 0) {
    const where = [...(sources.roots ?? []), ...(sources.dirs ?? [])].join(", ") || "(nowhere: give --runs or --run)";
    throw new UserError(`no info.json found under ${where}; run 'deno task evaluate' on the training runs first`);
  }
  const kept = filterRuns(all, filter);
  if (kept.length === 0) {
    const values = (f: (r: RunRecord) => string | number): string =>
      [...new Set(all.map(f))].sort((a, b) =>
        typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))
      ).join(", ");
    throw new UserError(
      `no run matches the filters; found widths ${values((r) => r.info.run.width)}, epochs ${
        values((r) => r.info.run.epochs)
      }, datasets ${values((r) => r.info.run.dataset)}, models ${values((r) => r.info.run.model)}`,
    );
  }
  return kept;
}
