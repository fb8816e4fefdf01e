import * as tf from '@tensorflow/tfjs';
import { TokenLogProbs, asInputs } from '../kernel_names';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * log softmax(logits)[target] at every position — the per-token log-probability GRPO
 * differentiates. One fused kernel forward (max-subtracted, float64 sums) and one backward
 * (dy·(onehot − softmax)) on cpu/wasm. A target outside [0, V) (e.g. −1 padding) gives 0 and no
 * gradient.
 *
 * @param logits - [..., V] float32
 * @param targets - int32 with as many elements as logits has rows (normally shape [...])
 * @returns float32 with the shape of targets
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tokenLogProbs } from '@r1-ts/tensor-kernels';
 * const lp = tokenLogProbs(tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32')); // [log 0.5]
 * ```
 */
export function tokenLogProbs(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  expectTensor('tokenLogProbs', 'logits', logits, 'float32');
  expectTensor('tokenLogProbs', 'targets', targets, 'int32');
  if (logits.rank < 1) fail('tokenLogProbs', 'logits', 'must have rank ≥ 1 ([..., V]), got a scalar');
  const V = logits.shape[logits.rank - 1];
  if (targets.size * V !== logits.size) {
    fail('tokenLogProbs', 'targets', `must have one entry per row of logits [${logits.shape}] (${logits.size / Math.max(V, 1)}), got shape [${targets.shape}]`);
  }
  if (!hasFusedKernel(TokenLogProbs)) return tokenLogProbsComposite(logits, targets);
  return tf.engine().runKernel(TokenLogProbs, asInputs({ logits, targets }), {}) as tf.Tensor;
}

/** tokenLogProbs from tfjs ops, for backends without the fused kernel. */
export function tokenLogProbsComposite(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const V = logits.shape[logits.rank - 1];
    const lsm = tf.logSoftmax(tf.reshape(logits, [-1, V])); // [N, V]
    const oh = tf.oneHot(tf.reshape(targets, [-1]), V); // [N, V]
    return tf.reshape(tf.sum(tf.mul(lsm, oh), -1), targets.shape);
  });
}

/**
 * Mean cross-entropy over the positions where mask = 1: −Σ m·logp[target] / Σ m (a thin
 * composition of {@link tokenLogProbs} and a masked mean).
 *
 * @param logits - [..., V]
 * @param targets - [...] int32
 * @param mask - [...] 0/1 float32 (omit for all ones)
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { maskedCrossEntropy } from '@r1-ts/tensor-kernels';
 * const loss = maskedCrossEntropy(tf.zeros([1, 2, 4]), tf.tensor2d([[1, 2]], [1, 2], 'int32')); // ln 4
 * ```
 */
export function maskedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask?: tf.Tensor): tf.Scalar {
  if (mask) {
    expectTensor('maskedCrossEntropy', 'mask', mask, 'float32');
    if (mask.size !== targets.size) fail('maskedCrossEntropy', 'mask', `must have the shape of targets [${targets.shape}], got [${mask.shape}]`);
  }
  return tf.tidy(() => {
    const lp = tokenLogProbs(logits, targets);
    if (!mask) return tf.neg(tf.mean(lp)) as tf.Scalar;
    return tf.div(tf.neg(tf.sum(tf.mul(lp, tf.util.arraysEqual(mask.shape, lp.shape) ? mask : tf.reshape(mask, lp.shape)))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
