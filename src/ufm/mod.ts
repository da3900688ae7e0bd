/**
 * The unconstrained feature model (UFM) of the paper's theory, solved
 * numerically in float64 (Zhou et al. 2022, §3; Zhu et al. 2021):
 *
 *   min_{W, H, b} (1/N) Σ_i L(W h_i + b, y_i) + λ_W/2 ‖W‖²_F + λ_H/2 ‖H‖²_F + λ_b/2 ‖b‖²
 *
 * with K balanced classes of n samples, W `[K, d]`, H `[N, d]` (one feature per
 * row), b `[K]`. Theorem 3.1 says every global minimiser for CE, FL, LS (and
 * MSE) is a Neural-Collapse point; this module checks it numerically:
 *
 * - `solveUfm` minimises from a seeded random start with L-BFGS (strong-Wolfe
 *   line search; see `lbfgs.ts` for why not plain gradient descent) and
 *   reports the package's NC metrics (`neuralCollapseMetrics` of
 *   `src/metrics/` on H, W, b), the objective, the gradient norm and the norms;
 * - `reducedOptimum` / `mseClosedForm` give the global optimum from the
 *   paper's reduction to the ETF scale (1-D numerical for CE/FL/LS, exact
 *   closed form for MSE) to compare with;
 * - `sweepUfm` and the `*Figures` functions produce the γ, α and λ sweeps and
 *   line figures (`src/plot/`'s one figure specification), and
 *   `ufmReportSection` turns a whole
 *   `ufm.json` record into a section of the experiment report;
 * - the losses (`ufmLoss`) are float64 value-and-gradient versions of
 *   `src/losses/`.
 *
 * @example
 * ```ts
 * import { solveUfm } from "./src/ufm/mod.ts";
 * const r = solveUfm({ loss: "focal_loss", K: 10, d: 32, n: 50 });
 * console.log(r.nc.nc1, r.nc.nc2, r.nc.nc3);   // ~1e-16, ~1e-8, ~1e-8
 * console.log(r.normW, r.reference.normW);     // L-BFGS vs the 1-D reduction
 * ```
 *
 * @module
 */
export {
  DEFAULT_LOSS_PARAMS,
  type SampleLoss,
  type UfmLoss,
  ufmLoss,
  ufmLossNames,
  type UfmLossParams,
} from "./losses.ts";
export { type UfmLayout, ufmLayout, ufmObjective, type UfmProblem, ufmProblem } from "./objective.ts";
export { type LbfgsOptions, type LbfgsResult, minimizeLbfgs, type ValueAndGradient } from "./lbfgs.ts";
export {
  marginPrice,
  mseClosedForm,
  ncPoint,
  reducedObjective,
  type ReducedOptimum,
  reducedOptimum,
  simplexEtf,
} from "./reduced.ts";
export {
  solveUfm,
  UFM_DEFAULTS,
  type UfmHistoryPoint,
  type UfmOptions,
  type UfmResult,
  validateUfmOptions,
} from "./solve_ufm.ts";
export { type SweepParameter, sweepUfm, type UfmSweepPoint } from "./sweep_ufm.ts";
export { dynamicsUfmFigures, lambdaSweepFigures, parameterSweepFigures } from "./ufm_figures.ts";
export { ufmReportSection } from "./ufm_report_section.ts";
export {
  DEFAULT_SWEEPS,
  ufmExperiment,
  type UfmExperimentConfig,
  type UfmExperimentRecord,
  type UfmRunRecord,
} from "./ufm_experiment.ts";
export { ufmExperimentInWorker } from "./ufm_experiment_in_worker.ts";
