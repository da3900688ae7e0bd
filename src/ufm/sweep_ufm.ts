/**
 * `sweepUfm`: the UFM solved over a range of one hyper-parameter (FL γ, LS α
 * or a common weight decay λ = λ_W = λ_H = λ_b), keeping per point only the
 * numbers the figures and the JSON record need.
 */
import { UserError } from "../errors.ts";
import type { NeuralCollapseMetrics } from "../metrics/mod.ts";
import { solveUfm, type UfmOptions } from "./solve_ufm.ts";

/** Which hyper-parameter a sweep varies. */
export type SweepParameter = "gamma" | "smoothing" | "lambda";

/** One solved point of a sweep: its NC metrics (NC1–NC3, NC4, equinorm, …) and norms beside the reduction's. */
export interface UfmSweepPoint extends NeuralCollapseMetrics {
  loss: string;
  parameter: SweepParameter;
  value: number;
  objective: number;
  gradNorm: number;
  iters: number;
  normW: number;
  normH: number;
  normB: number;
  /** The reduction's values (exact for MSE, 1-D numerical otherwise). */
  referenceObjective: number;
  referenceNormW: number;
  referenceNormH: number;
  referenceNormB: number;
  referenceMethod: string;
}

/**
 * Solves the UFM for every `loss` × `value`, with `base` for everything else.
 * `gamma` and `smoothing` set the loss parameter; `lambda` sets λ_W = λ_H = λ_b.
 *
 * @example
 * ```ts
 * const pts = sweepUfm({ K: 4, d: 8, n: 5 }, "gamma", [0, 1, 3], ["focal_loss"]);
 * pts.map((p) => p.nc2); // all ≈ 0: the optimum stays a simplex ETF
 * ```
 */
export function sweepUfm(
  base: Partial<UfmOptions>,
  parameter: SweepParameter,
  values: readonly number[],
  losses: readonly string[],
): UfmSweepPoint[] {
  if (values.length === 0) throw new UserError(`sweep over ${parameter}: no values given`);
  const out: UfmSweepPoint[] = [];
  for (const loss of losses) {
    for (const value of values) {
      const opts: Partial<UfmOptions> = { ...base, loss, record: "none" };
      if (parameter === "lambda") Object.assign(opts, { lambdaW: value, lambdaH: value, lambdaB: value });
      else opts.lossParams = { ...base.lossParams, [parameter]: value };
      const r = solveUfm(opts);
      out.push({
        loss,
        parameter,
        value,
        ...r.nc,
        objective: r.objective,
        gradNorm: r.gradNorm,
        iters: r.iters,
        normW: r.normW,
        normH: r.normH,
        normB: r.normB,
        referenceObjective: r.reference.objective,
        referenceNormW: r.reference.normW,
        referenceNormH: r.reference.normH,
        referenceNormB: r.reference.normB,
        referenceMethod: r.reference.method,
      });
    }
  }
  return out;
}
