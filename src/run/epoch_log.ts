/**
 * The training log of a run folder, `log.jsonl`: one JSON object per line,
 * one line per epoch, appended by training and read by the figures and the
 * dashboard.
 *
 * @module
 */

/** One line of `log.jsonl`: the epoch's learning rate, training and validation loss and accuracies, the best validation top-1 so far and the epoch's seconds. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  lr: number;
  train_loss: number;
  train_top1: number;
  train_top5: number;
  val_loss: number;
  val_top1: number;
  val_top5: number;
  best_val_top1: number;
  seconds: number;
}
