import * as tf from '@tensorflow/tfjs';
import { RmsNorm, asAttrs, asInputs } from '../kernel_names';
import { expectEps, expectShape, expectTensor, fail, hasFusedKernel } from './fused';

/**
 * RMSNorm over the last axis: w ⊙ x / sqrt(mean(x²) + eps) (golden/README §4.1). One fused kernel
 * forward and one backward on cpu/wasm.
 *
 * @param x - [..., D] float32
 * @param weight - [D] float32
 * @param eps - added to mean(x²); default 1e-6
 * @returns [..., D]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { rmsNorm } from '@r1-ts/tensor-kernels';
 * const y = rmsNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.ones([4])); // [1, 4]
 * ```
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps = 1e-6): tf.Tensor {
  expectTensor('rmsNorm', 'x', x, 'float32');
  expectTensor('rmsNorm', 'weight', weight, 'float32');
  if (x.rank < 1) fail('rmsNorm', 'x', 'must have rank ≥ 1, got a scalar');
  expectShape('rmsNorm', 'weight', weight, [x.shape[x.rank - 1]], 'the last axis of x');
  expectEps('rmsNorm', eps);
  if (!hasFusedKernel(RmsNorm)) return rmsNormComposite(x, weight, eps);
  return tf.engine().runKernel(RmsNorm, asInputs({ x, weight }), asAttrs({ eps })) as tf.Tensor;
}

/** rmsNorm from tfjs ops, for backends without the fused kernel (5 kernels). */
export function rmsNormComposite(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true); // [..., 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight); // [..., D]
  });
}
