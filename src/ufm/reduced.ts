/**
 * The UFM's global optimum reduced to one scalar (and, for losses that are not
 * shift invariant, the bias level), following the paper's proof of its
 * Theorem 3.1 (Zhou et al. 2022; Zhu et al. 2021 for CE).
 *
 * At a Neural-Collapse point the classifier rows are a scaled simplex ETF,
 * ‖w_k‖ = a, w_kᵀw_j = −a²/(K−1) for k ≠ j, the features are collapsed and
 * dual to them, h_i = t·w_{y_i}, and b = β1. Every sample then sees the same
 * logits up to a permutation,
 *
 *   z = s·(e_y − (1 − e_y)/(K−1)) + β1,   s = t a²  (the logit of the true class above β),
 *
 * and for a fixed s the weight decay λ_W‖W‖²/2 + λ_H‖H‖²/2 = λ_W K a²/2 + λ_H N s²/(2a²)
 * is smallest at a² = s·√(λ_H n/λ_W), where λ_W‖W‖² = λ_H‖H‖² and the
 * penalty equals c·s with c = K√(n λ_W λ_H). So the UFM's optimal value is
 *
 *   min_{s ≥ 0, β} g(s, β),   g(s, β) = L(z(s, β), y) + c·s + λ_b K β²/2           (R)
 *
 * (generalised below to a common offset γ that need not all sit in b),
 * and the optimal norms follow: ‖W‖_F = √(K a²), ‖H‖_F = √N·s/a, ‖b‖ = √K|β|,
 * ‖h_i‖/‖w_k‖ = √(λ_W/(λ_H n)) (the paper's Theorem 3.1).
 *
 * A common logit offset γ (every class alike) can come from the bias or, when
 * d ≥ K, from a feature direction e orthogonal to the ETF (w_k += ωe,
 * h_i += ηe, offset m = ωη, priced c|m| exactly as s). The cheapest split of
 * γ = β + m is φ(γ) = min_β λ_b K β²/2 + c|γ − β|, a Huber function: the
 * bias carries γ while |γ| ≤ c/(λ_b K), the features carry the rest. With
 * d = K − 1 there is no room for e and φ(γ) = λ_b K γ²/2. So (R) reads
 * g(s, γ) = L(z(s) + γ1, y) + c·s + φ(γ).
 *
 * For CE, FL and LS the loss is shift invariant, so γ = 0 and (R) is a 1-D
 * problem, solved here to rounding precision by bracketing on a grid and
 * bisecting on g′(s) (g′ comes from the loss's own gradient, so any
 * registered loss works). LS reduces further to CE plus α·s, because
 * mean_k(−log p_k) = −log p_y + α(K−1)/K·(sK/(K−1)).
 *
 * MSE (our scaling: mean over the K outputs of (z_k − r[k = y])², r = rescale)
 * has an exact closed form, {@linkcode mseClosedForm}; (R) is separable there:
 *
 *   s* = (K−1)/K · max(0, r − cK/2),   β* = 2r / (K(2 + λ_b K))  (while λ_b K β* ≤ c or d = K − 1).
 *
 * Scaling: our mean-over-K MSE is 2/K times the half-sum form ½‖z − e_y‖² of
 * Zhou et al.'s MSE landscape paper (r = 1), so our λ's correspond to that
 * paper's λ_paper = (K/2)·λ. A target scale r is the r = 1 problem with λ_W,
 * λ_H divided by r (λ_b unchanged) and the optimum scaled: W, H by √r, b by r.
 */
import { ufmLayout, type UfmProblem } from "./objective.ts";

/** The optimum predicted by the reduction (R). */
export interface ReducedOptimum {
  /** `closed form (exact)` (MSE) or `1-D reduction (numerical)` (CE, FL, LS, other losses). */
  method: "closed form (exact)" | "1-D reduction (numerical)";
  /** s: true-class logit above the bias level, z_y − β. */
  s: number;
  /** β: the bias level, b = β1 (0 for shift-invariant losses). */
  beta: number;
  /**
   * m: the part of the common logit offset carried by a feature direction
   * orthogonal to the ETF (only when d ≥ K and the bias alone is dearer,
   * λ_b K|β| > c; 0 otherwise and always for shift-invariant losses).
   */
  meanOffset: number;
  /** f at the optimum. */
  objective: number;
  /** Loss part (1/N)Σ L at the optimum. */
  loss: number;
  /** ‖W‖_F. */
  normW: number;
  /** ‖H‖_F. */
  normH: number;
  /** ‖b‖₂. */
  normB: number;
}

/** The logits z(s, β) of a class-0 sample at a Neural-Collapse point, `[K]`. */
function ncLogits(K: number, s: number, beta: number, out: Float64Array): Float64Array {
  out[0] = s + beta;
  for (let k = 1; k < K; k++) out[k] = -s / (K - 1) + beta;
  return out;
}

/** c = K√(n λ_W λ_H): the weight-decay price of one unit of s. */
export function marginPrice(problem: UfmProblem): number {
  return problem.K * Math.sqrt(problem.n * problem.lambdaW * problem.lambdaH);
}

/** How φ splits a common offset γ: the bias part β and the feature part m = γ − β. */
function splitOffset(problem: UfmProblem, gamma: number): { beta: number; m: number } {
  const cap = marginPrice(problem) / (problem.lambdaB * problem.K);
  const beta = problem.d >= problem.K ? Math.max(-cap, Math.min(cap, gamma)) : gamma;
  return { beta, m: gamma - beta };
}

/**
 * g(s, γ) of (R) and its partial derivatives [∂g/∂s, ∂g/∂γ], γ the common
 * logit offset (bias plus, when d ≥ K, the feature part; see the module doc).
 *
 * @example
 * ```ts
 * const [g, gs, gGamma] = reducedObjective(problem, 5, 0);
 * ```
 */
export function reducedObjective(problem: UfmProblem, s: number, gamma: number): [number, number, number] {
  const { K, lambdaB, loss } = problem;
  const z = ncLogits(K, s, gamma, new Float64Array(K));
  const g = new Float64Array(K);
  const L = loss.sample(z, 0, K, 0, g);
  // dz/ds = e_y − (1 − e_y)/(K−1), dz/dγ = 1
  let dS = g[0], dG = g[0];
  for (let k = 1; k < K; k++) {
    dS -= g[k] / (K - 1);
    dG += g[k];
  }
  const c = marginPrice(problem);
  const { beta, m } = splitOffset(problem, gamma);
  // φ(γ) = λ_b K β²/2 + c|m|; φ′(γ) = λ_b K β (continuous at the kink, where λ_b K|β| = c).
  return [L + c * s + 0.5 * lambdaB * K * beta * beta + c * Math.abs(m), dS + c, dG + lambdaB * K * beta];
}

/** Root of a continuous increasing-through-zero function on [lo, hi] with f(lo) < 0 < f(hi), by bisection to rounding. */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** γ minimising g(s, ·), assumed convex in γ (true for MSE; γ = 0 for shift-invariant losses). */
function optimalOffset(problem: UfmProblem, s: number): number {
  if (problem.loss.shiftInvariant) return 0;
  const dB = (b: number): number => reducedObjective(problem, s, b)[2];
  let lo = -1, hi = 1;
  while (dB(lo) > 0) lo *= 2;
  while (dB(hi) < 0) hi *= 2;
  return bisect(dB, lo, hi);
}

/** Completes a ReducedOptimum from (s, γ). */
function optimumAt(problem: UfmProblem, s: number, gamma: number, method: ReducedOptimum["method"]): ReducedOptimum {
  const { K, N, n, lambdaW, lambdaH, loss } = problem;
  const { beta, m } = splitOffset(problem, gamma);
  const z = ncLogits(K, s, gamma, new Float64Array(K));
  const L = loss.sample(z, 0, K, 0, null);
  const rho = Math.sqrt(lambdaH * n / lambdaW); // a² = ρ·s, and ω² = ρ·|m| for the offset direction
  return {
    method,
    s,
    beta,
    meanOffset: m,
    objective: reducedObjective(problem, s, gamma)[0],
    loss: L,
    normW: Math.sqrt(K * rho * (s + Math.abs(m))),
    normH: Math.sqrt(N * (s + Math.abs(m)) / rho),
    normB: Math.sqrt(K) * Math.abs(beta),
  };
}

/**
 * Solves (R) numerically: a 2001-point grid on [0, s_max] brackets the
 * minimiser (s_max = g(0)/c, since every loss here is ≥ 0 and so g(s) ≥ c·s),
 * then bisection on the envelope derivative ∂g/∂s(s, β*(s)) refines it to
 * rounding precision.
 *
 * @example
 * ```ts
 * const opt = reducedOptimum(ufmProblem(10, 32, 50, 5e-4, 5e-4, 5e-4, ufmLoss("cross_entropy")));
 * opt.normW; // ‖W‖_F of every global minimiser
 * ```
 */
export function reducedOptimum(problem: UfmProblem): ReducedOptimum {
  const gTilde = (s: number): number => reducedObjective(problem, s, optimalOffset(problem, s))[0];
  const dTilde = (s: number): number => reducedObjective(problem, s, optimalOffset(problem, s))[1];
  const c = marginPrice(problem);
  const sMax = Math.max(1, (1.01 * gTilde(0)) / c);
  const steps = 2000;
  let best = 0, bestVal = gTilde(0);
  for (let i = 1; i <= steps; i++) {
    const s = (sMax * i) / steps;
    const v = gTilde(s);
    if (v < bestVal) {
      bestVal = v;
      best = i;
    }
  }
  let s = 0;
  if (best > 0 || dTilde(0) < 0) {
    const lo = (sMax * Math.max(0, best - 1)) / steps;
    const hi = (sMax * Math.min(steps, best + 1)) / steps;
    s = dTilde(lo) < 0 && dTilde(hi) > 0 ? bisect(dTilde, lo, hi) : (sMax * best) / steps;
  }
  return optimumAt(problem, s, optimalOffset(problem, s), "1-D reduction (numerical)");
}

/**
 * The exact global optimum of the UFM with our MSE (mean over K outputs,
 * target scale `rescale`), from the separable reduced problem:
 * ∂g/∂s = (2/K)(sK/(K−1) − r) + c and ∂g/∂γ = 2γ − 2r/K for the total offset γ.
 * The bias takes β* = 2r/(K(2 + λ_b K)) as long as λ_b K β* ≤ c; beyond that
 * (possible only when d ≥ K, where W can carry a common direction) the bias
 * stops at c/(λ_b K) and the rest of γ* = r/K − c/2 is carried by W and H.
 *
 * @example
 * ```ts
 * mseClosedForm(ufmProblem(10, 32, 50, 5e-4, 5e-4, 5e-4, ufmLoss("mean_square_error")), 15).s;
 * ```
 */
export function mseClosedForm(problem: UfmProblem, rescale: number): ReducedOptimum {
  const { K, d, lambdaB } = problem;
  const r = rescale;
  const c = marginPrice(problem);
  const s = Math.max(0, ((K - 1) / K) * (r - (c * K) / 2));
  // ∂g/∂γ = 2γ − 2r/K + φ′(γ) = 0: inside the bias-only range φ′ = λ_b K γ; beyond it φ′ = c.
  let gamma = (2 * r) / (K * (2 + lambdaB * K));
  if (d >= K && lambdaB * K * gamma > c) gamma = r / K - c / 2;
  return optimumAt(problem, s, gamma, "closed form (exact)");
}

/**
 * A unit-norm simplex ETF in R^d, `[K, d]` (requires d ≥ K − 1): rows m_k with
 * ‖m_k‖ = 1 and m_kᵀm_j = −1/(K−1). Built from the Helmert basis of the
 * subspace orthogonal to 1, so it uses the first K − 1 coordinates.
 *
 * @example
 * ```ts
 * const M = simplexEtf(3, 2); // an equilateral triangle on the unit circle
 * ```
 */
export function simplexEtf(K: number, d: number): Float64Array {
  const M = new Float64Array(K * d);
  const scale = Math.sqrt(K / (K - 1));
  for (let j = 1; j < K; j++) {
    // Helmert vector j: (1, …, 1, −j, 0, …)/√(j(j+1)) with j ones.
    const norm = Math.sqrt(j * (j + 1));
    for (let k = 0; k < j; k++) M[k * d + (j - 1)] = scale / norm;
    M[j * d + (j - 1)] = (-j * scale) / norm;
  }
  return M;
}

/**
 * The flat UFM point `[K·d + N·d + K]` that realises a reduced optimum:
 * w_k = a·m_k, h_i = (s/a)·m_{y_i}, b = β1 (plus the common direction e_{d}
 * carrying `meanOffset`, when nonzero). Its objective equals `opt.objective`.
 *
 * @example
 * ```ts
 * const x = ncPoint(problem, reducedOptimum(problem));
 * ```
 */
export function ncPoint(problem: UfmProblem, opt: ReducedOptimum): Float64Array {
  const { K, d, N, n, labels, lambdaW, lambdaH } = problem;
  const L = ufmLayout(problem);
  const x = new Float64Array(L.size);
  const M = simplexEtf(K, d);
  const rho = Math.sqrt(lambdaH * n / lambdaW);
  const a = Math.sqrt(rho * opt.s);
  const t = a > 0 ? opt.s / a : 0;
  for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) x[L.w + k * d + j] = a * M[k * d + j];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < d; j++) x[L.h + i * d + j] = t * M[labels[i] * d + j];
  }
  if (opt.meanOffset !== 0) {
    const m = opt.meanOffset;
    const omega = Math.sqrt(rho * Math.abs(m)), eta = Math.sign(m) * Math.sqrt(Math.abs(m) / rho);
    for (let k = 0; k < K; k++) x[L.w + k * d + d - 1] = omega;
    for (let i = 0; i < N; i++) x[L.h + i * d + d - 1] = eta;
  }
  for (let k = 0; k < K; k++) x[L.b + k] = opt.beta;
  return x;
}
