/**
 * The metric keys of a run's `info.json`, in one dependency-free module so
 * that the writer (`evaluate_run.ts`) and the readers (`src/plot/`) agree
 * without the figure code loading TensorFlow.js.
 */

/** Metric keys stored per checkpoint in `info.json`, in this order. */
export const INFO_METRICS = [
  "nc1",
  "nc2",
  "nc3",
  "nc4_bias",
  "nc4_ncc",
  "equinorm_means",
  "equinorm_weights",
  "equiangularity",
  "max_angle",
  "cdnv",
  "train_loss",
  "train_top1",
  "train_top5",
  "val_loss",
  "val_top1",
  "val_top5",
  "test_loss",
  "test_top1",
  "test_top5",
] as const;

/** One metric key of {@linkcode INFO_METRICS}. */
export type InfoMetric = typeof INFO_METRICS[number];
