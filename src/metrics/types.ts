/**
 * The result type of the neural-collapse measurement and the names used in
 * its error messages.
 *
 * @module
 */

/**
 * Every metric of one measurement. K classes, N samples, features h ∈ ℝ^d,
 * classifier W [K, d] with bias b [K]; μ_k the class means, μ_G the global
 * mean. All values are finite numbers.
 */
export interface NeuralCollapseMetrics {
  /** NC1 = tr(Σ_W Σ_B^†)/K, within-class variability relative to between-class (0 at collapse). */
  nc1: number;
  /** NC2 = distance of the centred classifier's normalised Gram W̃W̃ᵀ from the simplex ETF, in [0, 2]. */
  nc2: number;
  /** NC3 = distance of W̃H (H the centred class means) from the simplex ETF (self-duality), in [0, 2]. */
  nc3: number;
  /** The reference's NC4: ‖W μ_G + b‖₂, the classifier's response to the global mean. */
  nc4_bias: number;
  /** Papyan et al.'s NC4: fraction (0–1) of samples where argmax(Wh + b) ≠ argmin_k ‖h − μ_k‖. */
  nc4_ncc: number;
  /** Coefficient of variation std/mean of ‖μ_k − μ_G‖ over classes (0 when equinorm). */
  equinorm_means: number;
  /** Coefficient of variation std/mean of the classifier-row norms ‖w_k‖. */
  equinorm_weights: number;
  /** Standard deviation over pairs k < l of cos∠(μ_k − μ_G, μ_l − μ_G). */
  equiangularity: number;
  /** Mean over pairs k < l of |cos∠(μ_k − μ_G, μ_l − μ_G) + 1/(K−1)| (0 at the maximal angle). */
  max_angle: number;
  /** Class-distance normalised variance: mean over k < l of (σ_k² + σ_l²)/(2‖μ_k − μ_l‖²). */
  cdnv: number;
  /** Top-1 accuracy of the logits Wh + b, in percent (0–100). */
  top1: number;
  /** Top-5 accuracy of the logits Wh + b, in percent; 100 when K ≤ 5. */
  top5: number;
  /** NC1 as Tirer et al.'s trace quotient tr(Σ_W)/tr(Σ_B) (0 when Σ_B = 0, as NC1's pseudo-inverse convention). */
  nc1_trace: number;
  /** NC1 = tr(Σ_W Σ_B^†)/K with Σ_B^† from its top min(K − 1, d) eigenpairs, as Han et al.'s truncated SVD. */
  nc1_svd: number;
  /** Simplex-ETF distance of the centred class means' normalised Gram M̃M̃ᵀ, in [0, 2]. */
  nc2_means: number;
  /** Papyan et al.'s self-duality distance ‖W̃/‖W̃‖_F − M̃/‖M̃‖_F‖_F, in [0, 2]. */
  self_duality: number;
  /**
   * Log-energy uniformity of the normalised centred means u_k: mean over k < l of −log‖u_k − u_l‖;
   * the simplex ETF reaches the minimum −½ log(2K/(K−1)) (when K ≤ d + 1). A zero centred mean has no
   * direction (its pairs add 0); coinciding directions add 26 ln 2 ≈ 18.0 (distances below √ε are unresolved).
   */
  uniformity_log: number;
}

/** The metric that needs out-of-distribution features. */
export interface OutOfDistributionMetrics {
  /**
   * NC5 (Ammar et al. 2024), only with out-of-distribution features: mean over k of
   * |cos∠(μ_k − μ_G, μ_G^OOD − μ_G)| (0 when the OOD mean is orthogonal to every class mean).
   */
  nc5: number;
}

/** What a measurement returns: every metric, and NC5 when out-of-distribution features were given. */
export type MeasuredMetrics = NeuralCollapseMetrics & Partial<OutOfDistributionMetrics>;

/** How error messages name each input: a file path in `deno task measure`, a role otherwise. */
export interface InputNames {
  /** Features [N, d]. */
  features: string;
  /** Labels [N]. */
  labels: string;
  /** Classifier weights W [K, d]. */
  weights: string;
  /** Classifier bias b [K]. */
  bias: string;
}

/** The names used when the caller gives none. */
export const DEFAULT_INPUT_NAMES: InputNames = {
  features: "features",
  labels: "labels",
  weights: "weights",
  bias: "bias",
};
