import * as tf from '@tensorflow/tfjs';

/**
 * LayerNorm over the last axis with population variance: w ⊙ (x − μ)/sqrt(σ² + eps) + b.
 *
 * @param x - [..., D]
 * @param weight - [D]
 * @param bias - [D]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { layerNorm } from '@r1-ts/tensor-kernels';
 * const y = layerNorm(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3])); // [1, 3]
 * ```
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps = 1e-6): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xhat, weight), bias); // [..., D]
  });
}
