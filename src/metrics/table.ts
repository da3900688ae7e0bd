/**
 * The metric table: every metric the package reports, with its label, its
 * definition and source, how many digits tables print, and where it applies.
 * `info.json`'s series (`CHECKPOINT_METRICS`), `deno task measure`'s output, the
 * report's final-metrics table and the dynamics figures all read it; no other
 * module keeps a list of metrics. Data only (no tfjs), so that figures and
 * run folders can use it.
 *
 * @example
 * ```ts
 * metricInfo("nc1").label; // "NC1"
 * METRICS.filter((m) => m.features).map((m) => m.key); // what `measure` prints
 * ```
 *
 * @module
 */

/** One row of the metric table. */
export interface MetricInfo {
  /** The key in `info.json`, in `measure --json`, and of `NeuralCollapseMetrics`. */
  key: string;
  /** Column header and axis label. */
  label: string;
  /** The formula or meaning, in the paper's symbols. */
  definition: string;
  /** Digits after the point in tables (small values switch to exponent notation). */
  digits: number;
  /** Measured from features and a classifier (`deno task measure`, and each checkpoint's training split). */
  features: boolean;
  /** Stored per checkpoint in `info.json` (under `key`, or the split-prefixed keys of an accuracy). */
  checkpoint: boolean;
  /**
   * Measured at every hidden layer by `deno task evaluate --layers` (`info.json`'s `layers`): it needs only the
   * features and labels, no classifier (NC2, NC3, NC4 and the accuracies are the last layer's).
   */
  layer: boolean;
}

/** Every metric, in the order tables and `info.json` list them. */
export const METRICS = [
  {
    key: "nc1",
    label: "NC1",
    definition: "tr(Σ_W Σ_B^†)/K (Papyan et al.)",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: true,
  },
  {
    key: "nc1_trace",
    label: "NC1 trace",
    definition: "tr(Σ_W)/tr(Σ_B) (Tirer et al.)",
    digits: 4,
    features: true,
    checkpoint: false,
    layer: true,
  },
  {
    key: "nc1_svd",
    label: "NC1 SVD",
    definition: "tr(Σ_W Σ_B^†)/K, top-(K−1) SVD of Σ_B (Han et al.)",
    digits: 4,
    features: true,
    checkpoint: false,
    layer: false,
  },
  {
    key: "nc2",
    label: "NC2",
    definition: "simplex-ETF distance of the centred classifier",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: false,
  },
  {
    key: "nc2_means",
    label: "NC2 means",
    definition: "simplex-ETF distance of the centred class means",
    digits: 4,
    features: true,
    checkpoint: false,
    layer: true,
  },
  {
    key: "nc3",
    label: "NC3",
    definition: "self-duality: ETF distance of W̃H",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: false,
  },
  {
    key: "self_duality",
    label: "self-duality",
    definition: "‖W̃/‖W̃‖ − M̃/‖M̃‖‖_F (Papyan et al.)",
    digits: 4,
    features: true,
    checkpoint: false,
    layer: false,
  },
  {
    key: "nc4_bias",
    label: "NC4 ‖Wμ_G+b‖",
    definition: "‖W μ_G + b‖ (reference NC4)",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: false,
  },
  {
    key: "nc4_ncc",
    label: "NC4 NCC mismatch",
    definition: "classifier vs nearest-class-centre mismatch (fraction)",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: false,
  },
  {
    key: "nc5",
    label: "NC5",
    definition: "mean |cos(μ_k − μ_G, μ_OOD − μ_G)| (Ammar et al.), with --ood-features",
    digits: 4,
    features: true,
    checkpoint: false,
    layer: false,
  },
  {
    key: "equinorm_means",
    label: "equinorm μ",
    definition: "std/mean of ‖μ_k − μ_G‖",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: true,
  },
  {
    key: "equinorm_weights",
    label: "equinorm W",
    definition: "std/mean of ‖w_k‖",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: false,
  },
  {
    key: "equiangularity",
    label: "equiangularity",
    definition: "std of pairwise cosines of centred means",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: true,
  },
  {
    key: "max_angle",
    label: "max angle",
    definition: "mean |cos + 1/(K−1)|",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: true,
  },
  {
    key: "uniformity_log",
    label: "log uniformity",
    definition: "mean −log‖u_k − u_l‖ of normalised centred means",
    digits: 4,
    features: true,
    checkpoint: false,
    layer: false,
  },
  {
    key: "cdnv",
    label: "CDNV",
    definition: "class-distance normalised variance",
    digits: 4,
    features: true,
    checkpoint: true,
    layer: true,
  },
  {
    key: "top1",
    label: "top-1 (%)",
    definition: "top-1 accuracy of Wh + b (%)",
    digits: 2,
    features: true,
    checkpoint: false,
    layer: false,
  },
  {
    key: "top5",
    label: "top-5 (%)",
    definition: "top-5 accuracy of Wh + b (%)",
    digits: 2,
    features: true,
    checkpoint: false,
    layer: false,
  },
  {
    key: "train_loss",
    label: "train loss",
    definition: "the run's loss on the training split",
    digits: 4,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "train_top1",
    label: "train top-1 (%)",
    definition: "top-1 accuracy on the training split (%)",
    digits: 2,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "train_top5",
    label: "train top-5 (%)",
    definition: "top-5 accuracy on the training split (%)",
    digits: 2,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "val_loss",
    label: "validation loss",
    definition: "the run's loss on the validation split",
    digits: 4,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "val_top1",
    label: "validation top-1 (%)",
    definition: "top-1 accuracy on the validation split (%)",
    digits: 2,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "val_top5",
    label: "validation top-5 (%)",
    definition: "top-5 accuracy on the validation split (%)",
    digits: 2,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "test_loss",
    label: "test loss",
    definition: "the run's loss on the test split",
    digits: 4,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "test_top1",
    label: "test top-1 (%)",
    definition: "top-1 accuracy on the test split (%)",
    digits: 2,
    features: false,
    checkpoint: true,
    layer: false,
  },
  {
    key: "test_top5",
    label: "test top-5 (%)",
    definition: "top-5 accuracy on the test split (%)",
    digits: 2,
    features: false,
    checkpoint: true,
    layer: false,
  },
] as const satisfies readonly MetricInfo[];

/** The metrics stored per checkpoint in `info.json`, in table order. */
export type CheckpointMetric = Extract<typeof METRICS[number], { checkpoint: true }>["key"];

/** The keys of {@linkcode CheckpointMetric}, in table order. */
export const CHECKPOINT_METRICS = METRICS.filter((m) => m.checkpoint).map((m) => m.key) as CheckpointMetric[];

/** The metrics stored per hidden layer and checkpoint in `info.json`'s `layers` section. */
export type LayerMetric = Extract<typeof METRICS[number], { layer: true }>["key"];

/** The keys of {@linkcode LayerMetric}, in table order. */
export const LAYER_METRICS = METRICS.filter((m) => m.layer).map((m) => m.key) as LayerMetric[];

/** The table row of `key`; throws for a key that is not in the table (a programming error). */
export function metricInfo(key: string): MetricInfo {
  const info = METRICS.find((m) => m.key === key);
  if (!info) throw new Error(`metric '${key}' is not in the metric table (src/metrics/table.ts)`);
  return info;
}
