/**
 * Power analysis of the claims (`claims.ts`) from a pilot grid: how often a
 * grid with n seeds would PASS each pre-registered contrast and the
 * equivalence test, if the truth were what the pilot shows.
 *
 * The pilot is a table of one row per run ({@linkcode PilotRow}, written and
 * read as CSV with {@linkcode PILOT_COLUMNS}). The simulator treats the
 * pilot's per-cell, per-loss means as the true accuracies and draws each
 * simulated seed as those means plus a random combination of the pilot's
 * residual vectors: with m pilot seeds and residuals r_j (every claim cell
 * and loss of pilot seed j, less the means), a simulated seed is
 * μ + Σ_j z_j r_j / √(m − 1), z_j ~ N(0, 1). Its covariance is the pilot's
 * sample covariance across seeds, over all cells and losses jointly, so the
 * correlation between the losses of one seed (and between cells of one seed)
 * is kept; it is Gaussian with rank m − 1.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { Rng } from "../rng.ts";
import { LOSS_NAMES, type LossName } from "../losses/names.ts";
import type { RunRecord } from "../plot/types.ts";
import { DEFAULT_STATISTICS_SEED, gapPoints, noiseCorrectedGap } from "../gap_statistics.ts";
import {
  CHECKPOINT_KINDS,
  CHECKPOINT_LABELS,
  type CheckpointKind,
  type ClaimTables,
  decideClaims,
  runValues,
} from "./claims.ts";
import { type ClaimsConfig, type GridCell, inGrid, parseLossName } from "./grid.ts";

/** One pilot run: its cell, loss and seed, and what the claims read of it (accuracies in percent). */
export interface PilotRow {
  width: number;
  epochs: number;
  loss: LossName;
  seed: number;
  test_top1_best: number | null;
  test_top1_last: number | null;
  train_top1_last: number | null;
  nc1_ratio: number | null;
}

/** The pilot CSV's header, in order. */
export const PILOT_COLUMNS = [
  "width",
  "epochs",
  "loss",
  "seed",
  "test_top1_best",
  "test_top1_last",
  "train_top1_last",
  "nc1_ratio",
] as const;

/** The pilot rows of evaluated runs, sorted by width, epochs, loss, seed. */
export function pilotFromRuns(runs: readonly RunRecord[]): PilotRow[] {
  const rows = runs.map((r) => {
    const v = runValues(r);
    const { width, epochs, loss, seed } = r.info.run;
    return {
      width,
      epochs,
      loss: loss as LossName,
      seed,
      test_top1_best: v.best,
      test_top1_last: v.last,
      train_top1_last: v.train,
      nc1_ratio: v.nc1Ratio,
    };
  });
  return rows.sort((a, b) =>
    a.width - b.width || a.epochs - b.epochs || LOSS_NAMES.indexOf(a.loss) - LOSS_NAMES.indexOf(b.loss) ||
    a.seed - b.seed
  );
}

/** The rows as CSV (header {@linkcode PILOT_COLUMNS}; an empty field for a missing value). */
export function pilotCsv(rows: readonly PilotRow[]): string {
  const lines = [PILOT_COLUMNS.join(",")];
  for (const r of rows) lines.push(PILOT_COLUMNS.map((c) => (r[c] === null ? "" : String(r[c]))).join(","));
  return lines.join("\n") + "\n";
}

/**
 * Parses a pilot CSV; throws {@linkcode UserError} naming `file` and the line
 * for a wrong header, a wrong field count, an unknown loss, or a value that
 * is not a number.
 */
export function parsePilotCsv(text: string, file: string): PilotRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0 || lines[0].trim() !== PILOT_COLUMNS.join(",")) {
    throw new UserError(`${file}: line 1 must be the header ${PILOT_COLUMNS.join(",")}`);
  }
  return lines.slice(1).map((line, i) => {
    const where = `${file}: line ${i + 2}`;
    const f = line.split(",").map((x) => x.trim());
    if (f.length !== PILOT_COLUMNS.length) {
      throw new UserError(`${where}: ${f.length} fields, expected ${PILOT_COLUMNS.length}`);
    }
    const number = (k: number, optional: boolean): number | null => {
      if (f[k] === "" && optional) return null;
      const v = Number(f[k]);
      if (f[k] === "" || !Number.isFinite(v)) {
        throw new UserError(`${where}: ${PILOT_COLUMNS[k]} '${f[k]}' is not a number`);
      }
      return v;
    };
    const loss = parseLossName(f[2], `${where}: loss`);
    return {
      width: number(0, false)!,
      epochs: number(1, false)!,
      loss,
      seed: number(3, false)!,
      test_top1_best: number(4, true),
      test_top1_last: number(5, true),
      train_top1_last: number(6, true),
      nc1_ratio: number(7, true),
    };
  });
}

const KIND_COLUMN = { best: "test_top1_best", last: "test_top1_last" } as const;

/** The pilot as the simulator's truth for one checkpoint kind: means and residuals of the claim cells. */
export interface PilotModel {
  /** The distinct claim cells, in the order of `mean` and `residuals`. */
  cells: GridCell[];
  /** `[cells][L]` mean accuracy, losses in {@linkcode LOSS_NAMES} order. */
  mean: number[][];
  /** `[m][cells][L]`: each pilot seed's accuracies less the means. */
  residuals: number[][][];
  /** The pilot seeds used (complete in every claim cell). */
  seeds: number[];
}

const cellKeyOf = (c: GridCell): string => `${c.width}|${c.epochs}`;

/** The distinct cells the claims read. */
function claimCells(claims: ClaimsConfig): GridCell[] {
  const all = [
    claims.widthContrast.from,
    claims.widthContrast.to,
    claims.lengthContrast.from,
    claims.lengthContrast.to,
    claims.equivalence.cell,
  ];
  return [...new Map(all.map((c) => [cellKeyOf(c), c])).values()];
}

/**
 * The pilot model of `rows` for `kind`: per claim cell and loss, the mean
 * over the pilot seeds that hold every claim cell and loss, and each seed's
 * residuals. Throws {@linkcode UserError} when a claim cell is not in the
 * pilot or fewer than two seeds are complete.
 */
export function pilotModel(rows: readonly PilotRow[], claims: ClaimsConfig, kind: CheckpointKind): PilotModel {
  const widths = [...new Set(rows.map((r) => r.width))];
  const epochs = [...new Set(rows.map((r) => r.epochs))];
  const cells = claimCells(claims);
  for (const c of cells) {
    if (!inGrid(c, widths, epochs)) {
      throw new UserError(`pilot: no runs at width ${c.width}, ${c.epochs} epochs, a cell of the claims`);
    }
  }
  const value = new Map<string, number>();
  for (const r of rows) {
    const v = r[KIND_COLUMN[kind]];
    const k = `${r.width}|${r.epochs}|${r.loss}|${r.seed}`;
    if (v !== null && !value.has(k)) value.set(k, v);
  }
  const at = (c: GridCell, l: LossName, s: number): number | undefined => value.get(`${c.width}|${c.epochs}|${l}|${s}`);
  const seeds = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b)
    .filter((s) => cells.every((c) => LOSS_NAMES.every((l) => at(c, l, s) !== undefined)));
  if (seeds.length < 2) {
    throw new UserError(
      `pilot: ${seeds.length} seed(s) have ${KIND_COLUMN[kind]} for every loss in every claim cell; ` +
        `the noise needs at least 2`,
    );
  }
  const mean = cells.map((c) => LOSS_NAMES.map((l) => seeds.reduce((t, s) => t + at(c, l, s)!, 0) / seeds.length));
  const residuals = seeds.map((s) => cells.map((c, i) => LOSS_NAMES.map((l, j) => at(c, l, s)! - mean[i][j])));
  return { cells, mean, residuals, seeds };
}

/**
 * One simulated grid of the claim cells with `n` seeds: per cell, a table
 * `[L][n]` (see the module doc for the draw).
 */
export function simulateCells(model: PilotModel, n: number, rng: Rng): Map<string, number[][]> {
  const m = model.residuals.length;
  const scale = 1 / Math.sqrt(m - 1);
  const tables = model.cells.map(() => LOSS_NAMES.map(() => new Array<number>(n)));
  const z = new Float64Array(m);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < m; j++) z[j] = rng.normal() * scale;
    model.cells.forEach((_, c) => {
      for (let l = 0; l < LOSS_NAMES.length; l++) {
        let v = model.mean[c][l];
        for (let j = 0; j < m; j++) v += z[j] * model.residuals[j][c][l];
        tables[c][l][s] = v;
      }
    });
  }
  return new Map(model.cells.map((c, i) => [cellKeyOf(c), tables[i]]));
}

/** The claim tables of a simulated grid. */
function tablesOf(cells: Map<string, number[][]>, claims: ClaimsConfig): ClaimTables {
  const t = (c: GridCell) => cells.get(cellKeyOf(c))!;
  return {
    width: { a: t(claims.widthContrast.from), b: t(claims.widthContrast.to) },
    length: { a: t(claims.lengthContrast.from), b: t(claims.lengthContrast.to) },
    equivalence: t(claims.equivalence.cell),
  };
}

/** Settings of {@linkcode powerAnalysis}. */
export interface PowerOptions {
  /** Seed counts to simulate (default 5, 8, 10, 12). */
  seeds?: number[];
  /** Simulated grids per seed count (default 400). */
  grids?: number;
  /** Bootstrap draws and permutations per test (default 1000). */
  resamples?: number;
  /** Seed of the simulation (default {@linkcode DEFAULT_STATISTICS_SEED}). */
  seed?: number;
}

/** The power at one seed count: the fraction of simulated grids that PASS each claim. */
export interface PowerRow {
  n: number;
  width: number;
  length: number;
  equivalence: number;
  /** All three claims PASS. */
  all: number;
  grids: number;
}

/** The power of one checkpoint kind, with the pilot's effects. */
export interface PowerResult {
  kind: CheckpointKind;
  pilotSeeds: number[];
  /** √max(0, Ĝ) of each claim cell in the pilot, and the largest seed-to-seed s.d. of a difference from CE. */
  effects: { cell: GridCell; gapPoints: number; sd: number }[];
  rows: PowerRow[];
}

/**
 * Power of the claims for each seed count in `options.seeds`, for both
 * checkpoint kinds, simulated from the pilot `rows` (kinds whose accuracies
 * the pilot lacks are left out).
 *
 * @example
 * ```ts
 * const results = powerAnalysis(parsePilotCsv(text, "pilot.csv"), defaultClaims([8, 64], [20, 200]));
 * ```
 */
export function powerAnalysis(
  rows: readonly PilotRow[],
  claims: ClaimsConfig,
  options: PowerOptions = {},
): PowerResult[] {
  const ns = options.seeds ?? [5, 8, 10, 12];
  const grids = options.grids ?? 400;
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? DEFAULT_STATISTICS_SEED;
  const out: PowerResult[] = [];
  for (const kind of CHECKPOINT_KINDS) {
    if (!rows.some((r) => r[KIND_COLUMN[kind]] !== null)) continue;
    const model = pilotModel(rows, claims, kind);
    const effects = model.cells.map((cell, c) => {
      const table = LOSS_NAMES.map((_, l) => model.residuals.map((r) => model.mean[c][l] + r[c][l]));
      const sd = Math.max(
        ...LOSS_NAMES.slice(1).map((_, k) =>
          Math.sqrt(
            model.residuals.reduce((t, r) => t + (r[c][k + 1] - r[c][0]) ** 2, 0) / (model.residuals.length - 1),
          )
        ),
      );
      return { cell, gapPoints: gapPoints(noiseCorrectedGap(table) ?? 0), sd };
    });
    const powerRows = ns.map((n) => {
      const rng = new Rng(seed + n);
      let width = 0;
      let length = 0;
      let equivalence = 0;
      let all = 0;
      for (let g = 0; g < grids; g++) {
        const d = decideClaims(tablesOf(simulateCells(model, n, rng), claims), claims, { resamples, seed });
        const w = d.width?.decision === "PASS";
        const l = d.length?.decision === "PASS";
        const e = d.equivalence.decision === "PASS";
        width += +w;
        length += +l;
        equivalence += +e;
        all += +(w && l && e);
      }
      return {
        n,
        width: width / grids,
        length: length / grids,
        equivalence: equivalence / grids,
        all: all / grids,
        grids,
      };
    });
    out.push({ kind, pilotSeeds: model.seeds, effects, rows: powerRows });
  }
  return out;
}

/** The results as plain-text tables, one per checkpoint kind, with the Monte Carlo standard error. */
export function powerTable(results: readonly PowerResult[]): string {
  const blocks: string[] = [];
  for (const r of results) {
    const grids = r.rows[0]?.grids ?? 0;
    const lines = [
      `${CHECKPOINT_LABELS[r.kind]} (pilot seeds ${r.pilotSeeds.join(", ")}; ${grids} simulated grids per row, ` +
      `Monte Carlo s.e. ≤ ${(0.5 / Math.sqrt(Math.max(1, grids))).toFixed(3)})`,
      ...r.effects.map((e) =>
        `  pilot width ${e.cell.width}, ${e.cell.epochs} epochs: √Ĝ ${e.gapPoints.toFixed(2)} points, ` +
        `largest s.d. of a difference from CE ${e.sd.toFixed(2)}`
      ),
    ];
    const header = ["seeds", "width contrast", "length contrast", "TOST", "all three"];
    const body = r.rows.map((
      p,
    ) => [String(p.n), ...[p.width, p.length, p.equivalence, p.all].map((v) => v.toFixed(3))]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    for (const row of [header, ...body]) lines.push("  " + row.map((c, i) => c.padStart(widths[i])).join("  "));
    blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n");
}
