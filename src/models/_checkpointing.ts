/**
 * Gradient checkpointing (recomputation) for residual blocks.
 *
 * tfjs keeps every tensor a gradient needs, and every intermediate gradient,
 * alive until the whole backward pass ends (`backpropagateGradients` never
 * frees a node's dy). For a ResNet that is every activation of the network
 * plus as much again in gradients. {@linkcode checkpointed} makes a block one
 * op on the gradient tape that saves only its input; its gradient runs the
 * block forward again under a nested tape and differentiates that, so at most
 * one block's activations are alive at a time (Chen et al. 2016,
 * "Training deep nets with sublinear memory cost"; PyTorch's
 * `torch.utils.checkpoint`).
 */
import { tf } from "../backend/tf.ts";
import { afterTensor } from "../backend/graph/graph_function.ts";

/**
 * Runs `block(x)` so that the gradient tape records it as one op whose
 * inputs are `x` and `params` (the block's trainable variables, so their
 * gradients reach `tf.variableGrads`). The tape saves only `x`. The gradient
 * recomputes `block(x)`, which must therefore give the same result when run
 * twice on the same input and must not have side effects the second time
 * (batch norm: see `ParamStore.recomputing`, passed in as `recompute`).
 *
 * The gradient consumes its dy and the saved input: it disposes both once the
 * block's gradients are computed (in the outermost backward pass). Both
 * belong to the tape, which only this op reads them from, and tfjs would
 * otherwise hold them until the backward pass ends: 1.3 of 3.3 GB at the peak
 * of a WideResNet-50 step.
 *
 * @param block the block's forward pass, `[B, H, W, C] → [B, H', W', C']`.
 * @param x the block's input.
 * @param params every trainable variable `block` reads.
 * @param recompute runs its argument with the block's side effects (queued
 *   running-statistic updates) switched off.
 * @returns `block(x)`.
 *
 * @example
 * ```ts
 * const h = checkpointed((x) => tf.relu(conv2d(x, w, 1, 1)), x, [w], (f) => store.recomputing(f));
 * ```
 */
export function checkpointed<T extends tf.Tensor>(
  block: (x: T) => T,
  x: T,
  params: tf.Variable[],
  recompute: <R>(f: () => R) => R,
): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as T;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([input]);
    return {
      // Runs inside the custom op's kernel scope, where tfjs records nothing
      // on the tape: the block's intermediates are freed as soon as it returns.
      value: block(input),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const savedInput = saved[0] as T;
        // In a traced graph the recomputation must wait for dy, or it would run during the forward pass.
        const grads = afterTensor(
          dy,
          () =>
            tf.tidy(() =>
              recompute(() => vectorJacobianProducts(() => block(savedInput), [savedInput, ...params], dy))
            ),
        );
        // Only at the outermost backward pass is the tape thrown away afterwards.
        if (tf.engine().state.gradientDepth === 0) {
          if (!dy.kept) dy.dispose();
          savedInput.dispose();
        }
        return grads;
      },
    };
  });
  return op(x, ...params) as T;
}

/**
 * dyᵀ·∂f/∂xᵢ for each of `xs`, by a nested gradient tape, from inside a
 * custom gradient. tfjs runs gradient functions with the tape switched off
 * (kernelDepth 0 and gradientDepth 0 once the forward pass ended), so
 * `engine.gradients` can record a fresh tape there; but when it finishes it
 * clears `activeTape`, which the outer backward pass still reads afterwards
 * to free its saved tensors. The outer tape is put back.
 */
function vectorJacobianProducts(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine();
  const outerTape = engine.state.activeTape;
  try {
    const { value, grads } = engine.gradients(f, xs, dy);
    value.dispose();
    return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
  } finally {
    engine.state.activeTape = outerTape;
  }
}
