import * as tf from '@tensorflow/tfjs';
import { LayerNorm, asAttrs, asInputs } from '../kernel_names';
import { expectEps, expectShape, expectTensor, fail, hasFusedKernel } from './fused';

/**
 * LayerNorm over the last axis with population variance: w ⊙ (x − μ)/sqrt(σ² + eps) + b
 * (golden/README §4.1). One fused kernel forward and one backward on cpu/wasm.
 *
 * @param x - [..., D] float32
 * @param weight - [D] float32
 * @param bias - [D] float32
 * @param eps - added to σ²; default 1e-6
 * @returns [..., D]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { layerNorm } from '@r1-ts/tensor-kernels';
 * const y = layerNorm(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3])); // [1, 3]
 * ```
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps = 1e-6): tf.Tensor {
  expectTensor('layerNorm', 'x', x, 'float32');
  expectTensor('layerNorm', 'weight', weight, 'float32');
  expectTensor('layerNorm', 'bias', bias, 'float32');
  if (x.rank < 1) fail('layerNorm', 'x', 'must have rank ≥ 1, got a scalar');
  const D = x.shape[x.rank - 1];
  expectShape('layerNorm', 'weight', weight, [D], 'the last axis of x');
  expectShape('layerNorm', 'bias', bias, [D], 'the last axis of x');
  expectEps('layerNorm', eps);
  if (!hasFusedKernel(LayerNorm)) return layerNormComposite(x, weight, bias, eps);
  return tf.engine().runKernel(LayerNorm, asInputs({ x, weight, bias }), asAttrs({ eps })) as tf.Tensor;
}

/** layerNorm from tfjs ops, for backends without the fused kernel. */
export function layerNormComposite(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xhat, weight), bias); // [..., D]
  });
}
