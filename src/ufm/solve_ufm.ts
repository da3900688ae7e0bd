/**
 * `solveUfm`: one UFM instance from a seeded random start to a gradient norm
 * near rounding, with NC metrics along the way and the reduced problem's
 * optimum beside the numerical one. The metrics are the package's
 * `neuralCollapseMetrics` (`src/metrics/`), with H as the features.
 */
import { UserError } from "../errors.ts";
import { type NeuralCollapseMetrics, neuralCollapseMetrics } from "../metrics/mod.ts";
import { Rng } from "../rng.ts";
import { minimizeLbfgs } from "./lbfgs.ts";
import { DEFAULT_LOSS_PARAMS, ufmLoss, type UfmLossParams } from "./losses.ts";
import { ufmLayout, ufmObjective, type UfmProblem, ufmProblem } from "./objective.ts";
import { mseClosedForm, type ReducedOptimum, reducedOptimum } from "./reduced.ts";

/** Settings of one UFM solve. Every field has a default in {@linkcode UFM_DEFAULTS}. */
export interface UfmOptions {
  /** Classes K ≥ 2. */
  K: number;
  /** Feature dimension d ≥ K − 1. */
  d: number;
  /** Samples per class n ≥ 1. */
  n: number;
  /** λ_W > 0. */
  lambdaW: number;
  /** λ_H > 0. */
  lambdaH: number;
  /** λ_b > 0. */
  lambdaB: number;
  /** Loss name (see `ufmLossNames()`). */
  loss: string;
  /** FL γ, LS α, MSE rescale. */
  lossParams: Partial<UfmLossParams>;
  /** Seed of the random start. */
  seed: number;
  /** Iteration cap of L-BFGS. */
  maxIters: number;
  /** Stop when ‖∇f‖₂ ≤ gradTol. */
  gradTol: number;
  /** Standard deviation of the random start's entries (W, H and b all N(0, σ²)). */
  initScale: number;
  /** Start here instead (flat `[K·d + N·d + K]`), e.g. a perturbed optimum. */
  init?: Float64Array;
  /** Which iterations go into `history`: `log` (≈ geometric grid), `all`, or `none` (only first and last). */
  record: "log" | "all" | "none";
}

/**
 * Defaults: K = 10, d = 32, n = 50, λ_W = λ_H = λ_b = 5e-4 (the reference's
 * weight decay, and small enough that the optimum is a non-degenerate ETF for
 * every loss), the reference's loss hyper-parameters.
 */
export const UFM_DEFAULTS: Readonly<UfmOptions> = Object.freeze({
  K: 10,
  d: 32,
  n: 50,
  lambdaW: 5e-4,
  lambdaH: 5e-4,
  lambdaB: 5e-4,
  loss: "cross_entropy",
  lossParams: {},
  seed: 1,
  maxIters: 3000,
  gradTol: 1e-10,
  initScale: 1,
  record: "log",
});

/** One recorded iteration: objective, gradient norm and every NC metric of the iterate. */
export interface UfmHistoryPoint extends NeuralCollapseMetrics {
  iter: number;
  objective: number;
  gradNorm: number;
}

/** What {@linkcode solveUfm} returns. */
export interface UfmResult {
  /** The options used (defaults filled in; `init` left out). */
  options: Omit<UfmOptions, "init">;
  /** Final f. */
  objective: number;
  /** Final ‖∇f‖₂. */
  gradNorm: number;
  iters: number;
  evals: number;
  /** Why L-BFGS stopped: `gradTol`, `maxIters` or `lineSearch` (rounding floor reached). */
  stopReason: string;
  seconds: number;
  /** Final NC metrics of (H, W, b): NC1–NC3, NC4 ‖Wμ_G + b‖, equinorm, equiangularity, CDNV, top-1 … */
  nc: NeuralCollapseMetrics;
  normW: number;
  normH: number;
  normB: number;
  /** mean‖h_i‖ / mean‖w_k‖; Theorem 3.1 predicts √(λ_W/(λ_H n)). */
  featureToClassifierRatio: number;
  /** √(λ_W/(λ_H n)). */
  predictedRatio: number;
  /** The global optimum from the reduction: exact for MSE, 1-D numerical otherwise. */
  reference: ReducedOptimum;
  /** MSE only: the 1-D numerical reduction as well, to cross-check the closed form. */
  referenceNumerical?: ReducedOptimum;
  history: UfmHistoryPoint[];
  /** Final parameters, flat `[K·d + N·d + K]`: W `[K, d]`, then H `[N, d]`, then b `[K]`. */
  x: Float64Array;
}

/**
 * Checks options; throws {@linkcode UserError} naming the task flag.
 *
 * @example
 * ```ts
 * validateUfmOptions({ ...UFM_DEFAULTS, d: 5 }); // throws: --d: must be >= K − 1 = 9, got 5
 * ```
 */
export function validateUfmOptions(o: UfmOptions): void {
  const int = (flag: string, v: number, min: number, why = `>= ${min}`): void => {
    if (!Number.isInteger(v) || v < min) throw new UserError(`--${flag}: must be an integer ${why}, got ${v}`);
  };
  int("K", o.K, 2);
  int("d", o.d, o.K - 1, `>= K - 1 = ${o.K - 1}`);
  int("n", o.n, 1);
  int("iters", o.maxIters, 0);
  for (const [flag, v] of [["lambda-w", o.lambdaW], ["lambda-h", o.lambdaH], ["lambda-b", o.lambdaB]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new UserError(`--${flag}: must be a positive number, got ${v}`);
  }
  if (!(o.gradTol >= 0)) throw new UserError(`--grad-tol: must be >= 0, got ${o.gradTol}`);
  if (!(o.initScale > 0)) throw new UserError(`--init-scale: must be > 0, got ${o.initScale}`);
}

/** Iterations recorded under `log`: 0–10, then a geometric grid with ratio ≈ 1.1. */
function logGrid(max: number): Set<number> {
  const s = new Set<number>();
  for (let i = 0; i <= Math.min(10, max); i++) s.add(i);
  for (let v = 10; v <= max; v *= 1.1) s.add(Math.round(v));
  return s;
}

function norm(x: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/**
 * Minimises the UFM objective (see `objective.ts`) with L-BFGS from a seeded
 * N(0, σ²) start and reports the NC metrics, norms and the reduced optimum.
 *
 * @example
 * ```ts
 * const r = solveUfm({ loss: "focal_loss", K: 4, d: 8, n: 5 });
 * console.log(r.nc.nc2, r.normW, r.reference.normW);
 * ```
 */
export function solveUfm(opts: Partial<UfmOptions> = {}): UfmResult {
  const o: UfmOptions = { ...UFM_DEFAULTS, ...opts, lossParams: { ...UFM_DEFAULTS.lossParams, ...opts.lossParams } };
  validateUfmOptions(o);
  const loss = ufmLoss(o.loss, o.lossParams);
  const problem: UfmProblem = ufmProblem(o.K, o.d, o.n, o.lambdaW, o.lambdaH, o.lambdaB, loss);
  const L = ufmLayout(problem);
  let x0: Float64Array;
  if (o.init) {
    if (o.init.length !== L.size) throw new UserError(`init: expected ${L.size} numbers, got ${o.init.length}`);
    x0 = o.init;
  } else {
    const rng = new Rng(o.seed);
    x0 = new Float64Array(L.size);
    for (let i = 0; i < L.size; i++) x0[i] = o.initScale * rng.normal();
  }

  const scratch = new Float64Array(2 * problem.N * problem.K);
  const grid = o.record === "log" ? logGrid(o.maxIters) : null;
  const history: UfmHistoryPoint[] = [];
  const metricsAt = (x: Float64Array): NeuralCollapseMetrics =>
    neuralCollapseMetrics(x.subarray(L.h, L.b), problem.labels, x.subarray(L.w, L.h), x.subarray(L.b, L.size));
  const t0 = performance.now();
  const res = minimizeLbfgs((x, g) => ufmObjective(problem, x, g, scratch), x0, {
    maxIters: o.maxIters,
    gradTol: o.gradTol,
    onIter: (iter, x, f, gradNorm) => {
      if (o.record === "all" || (grid?.has(iter) ?? false) || iter === 0) {
        history.push({ iter, objective: f, gradNorm, ...metricsAt(x) });
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const x = res.x;
  if (history[history.length - 1].iter !== res.iters) {
    history.push({ iter: res.iters, objective: res.f, gradNorm: res.gradNorm, ...metricsAt(x) });
  }

  // Mean per-row norms for the ‖h‖/‖w‖ ratio of Theorem 3.1.
  let hSum = 0, wSum = 0;
  for (let i = 0; i < problem.N; i++) hSum += norm(x, L.h + i * o.d, L.h + (i + 1) * o.d);
  for (let k = 0; k < o.K; k++) wSum += norm(x, L.w + k * o.d, L.w + (k + 1) * o.d);

  const isMse = o.loss === "mean_square_error";
  const rescale = { ...DEFAULT_LOSS_PARAMS, ...o.lossParams }.rescale;
  const { init: _init, ...echo } = o;
  return {
    options: echo,
    objective: res.f,
    gradNorm: res.gradNorm,
    iters: res.iters,
    evals: res.evals,
    stopReason: res.reason,
    seconds,
    nc: metricsAt(x),
    normW: norm(x, L.w, L.h),
    normH: norm(x, L.h, L.b),
    normB: norm(x, L.b, L.size),
    featureToClassifierRatio: (hSum / problem.N) / (wSum / o.K),
    predictedRatio: Math.sqrt(o.lambdaW / (o.lambdaH * o.n)),
    reference: isMse ? mseClosedForm(problem, rescale) : reducedOptimum(problem),
    // Only MSE has a second reference; the key is absent otherwise (a JSON record keeps no undefined keys).
    ...(isMse ? { referenceNumerical: reducedOptimum(problem) } : {}),
    history,
    x,
  };
}
