import * as tf from '@tensorflow/tfjs';

/**
 * log softmax(logits)[target] at every position — the per-token log-probability GRPO differentiates.
 *
 * @param logits - [..., V] float32
 * @param targets - [...] int32
 * @returns [...] float32
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tokenLogProbs } from '@r1-ts/tensor-kernels';
 * const lp = tokenLogProbs(tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32')); // [log 0.5]
 * ```
 */
export function tokenLogProbs(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const V = logits.shape[logits.rank - 1];
    const lsm = tf.logSoftmax(tf.reshape(logits, [-1, V])); // [N, V]
    const oh = tf.oneHot(tf.reshape(targets, [-1]), V); // [N, V]
    return tf.reshape(tf.sum(tf.mul(lsm, oh), -1), targets.shape);
  });
}

/**
 * Mean cross-entropy over the positions where mask = 1: −Σ m·logp[target] / Σ m.
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
  return tf.tidy(() => {
    const lp = tokenLogProbs(logits, targets);
    if (!mask) return tf.neg(tf.mean(lp)) as tf.Scalar;
    return tf.div(tf.neg(tf.sum(tf.mul(lp, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
