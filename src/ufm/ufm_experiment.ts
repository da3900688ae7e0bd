/**
 * `ufmExperiment`: everything `deno task ufm` reports, as one call: each loss
 * solved from a seeded random start, the FL-γ, LS-α and λ sweeps, and the
 * figure specifications. A plain JSON-ready record comes back (no parameter
 * vectors, which are large and reproducible from the seed).
 */
import type { LineFigure } from "../plot/types.ts";
import { dynamicsUfmFigures, lambdaSweepFigures, parameterSweepFigures } from "./ufm_figures.ts";
import { solveUfm, type UfmOptions, type UfmResult } from "./solve_ufm.ts";
import { sweepUfm, type UfmSweepPoint } from "./sweep_ufm.ts";

/** Configuration of {@linkcode ufmExperiment}. */
export interface UfmExperimentConfig {
  /** Options shared by every solve (loss set per run). */
  base: Partial<UfmOptions>;
  /** Losses to solve and to sweep over λ. */
  losses: string[];
  /** FL γ values to sweep (empty: no sweep). */
  gammas: number[];
  /** LS α values to sweep (empty: no sweep). */
  smoothings: number[];
  /** Common λ values to sweep (empty: no sweep). */
  lambdas: number[];
}

/** Sweep values used by default: the FL γ range of the paper's Figure 4, LS α up to 0.5, λ over two decades. */
export const DEFAULT_SWEEPS: Readonly<Pick<UfmExperimentConfig, "gammas" | "smoothings" | "lambdas">> = Object
  .freeze({
    gammas: [0, 1, 2, 3, 4, 5],
    smoothings: [0, 0.05, 0.1, 0.2, 0.3, 0.5],
    lambdas: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
  });

/** One loss's solve as stored in `ufm.json`: {@linkcode UfmResult} without the parameter vector. */
export type UfmRunRecord = Omit<UfmResult, "x">;

/** What {@linkcode ufmExperiment} returns. */
export interface UfmExperimentRecord {
  runs: UfmRunRecord[];
  sweeps: { gamma: UfmSweepPoint[]; smoothing: UfmSweepPoint[]; lambda: UfmSweepPoint[] };
  figures: LineFigure[];
  seconds: number;
}

/**
 * Runs the solves and sweeps of `config`; `onRun` sees each loss's result as
 * it finishes (for progress output in tasks).
 *
 * @example
 * ```ts
 * const rec = ufmExperiment({ base: { K: 4, d: 8, n: 5 }, losses: ["cross_entropy"], gammas: [], smoothings: [], lambdas: [] });
 * rec.runs[0].nc.nc2; // ≈ 0
 * ```
 */
export function ufmExperiment(
  config: UfmExperimentConfig,
  onRun?: (r: UfmResult) => void,
): UfmExperimentRecord {
  const t0 = performance.now();
  const results: UfmResult[] = [];
  for (const loss of config.losses) {
    const r = solveUfm({ ...config.base, loss });
    onRun?.(r);
    results.push(r);
  }
  const gamma = config.gammas.length ? sweepUfm(config.base, "gamma", config.gammas, ["focal_loss"]) : [];
  const smoothing = config.smoothings.length
    ? sweepUfm(config.base, "smoothing", config.smoothings, ["label_smoothing"])
    : [];
  const lambda = config.lambdas.length ? sweepUfm(config.base, "lambda", config.lambdas, config.losses) : [];
  const figures = [
    ...dynamicsUfmFigures(results),
    ...parameterSweepFigures(gamma, "FL γ"),
    ...parameterSweepFigures(smoothing, "LS α"),
    ...(lambda.length ? lambdaSweepFigures(lambda) : []),
  ];
  const runs = results.map(({ x: _x, ...rest }) => rest);
  return { runs, sweeps: { gamma, smoothing, lambda }, figures, seconds: (performance.now() - t0) / 1000 };
}
