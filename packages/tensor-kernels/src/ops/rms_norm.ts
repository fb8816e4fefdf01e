import * as tf from '@tensorflow/tfjs';

/**
 * RMSNorm over the last axis: w ⊙ x / sqrt(mean(x²) + eps).
 *
 * @param x - [..., D]
 * @param weight - [D]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { rmsNorm } from '@r1-ts/tensor-kernels';
 * const y = rmsNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.ones([4])); // [1, 4]
 * ```
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps = 1e-6): tf.Tensor {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true); // [..., 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight); // [..., D]
  });
}
