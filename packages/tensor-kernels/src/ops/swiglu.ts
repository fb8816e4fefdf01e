import * as tf from '@tensorflow/tfjs';

/**
 * silu(gate) ⊙ up, the elementwise core of SwiGLU.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { siluMul } from '@r1-ts/tensor-kernels';
 * const y = siluMul(tf.tensor1d([1, -1]), tf.tensor1d([2, 2]));
 * ```
 */
export function siluMul(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
}

/**
 * SwiGLU feed-forward: (silu(x·W_gateᵀ) ⊙ (x·W_upᵀ))·W_downᵀ. Weights are `[out, in]` as in
 * Hugging Face checkpoints.
 *
 * @param x - [..., D]
 * @param wGate - [I, D]
 * @param wUp - [I, D]
 * @param wDown - [D, I]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { swiglu } from '@r1-ts/tensor-kernels';
 * const y = swiglu(tf.ones([2, 4]), tf.ones([8, 4]), tf.ones([8, 4]), tf.ones([4, 8])); // [2, 4]
 * ```
 */
export function swiglu(x: tf.Tensor, wGate: tf.Tensor, wUp: tf.Tensor, wDown: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const D = x.shape[x.rank - 1];
    const x2 = tf.reshape(x, [-1, D]) as tf.Tensor2D; // [N, D]
    const g = tf.matMul(x2, wGate as tf.Tensor2D, false, true); // [N, I]
    const u = tf.matMul(x2, wUp as tf.Tensor2D, false, true); // [N, I]
    const y = tf.matMul(siluMul(g, u) as tf.Tensor2D, wDown as tf.Tensor2D, false, true); // [N, D]
    return tf.reshape(y, [...x.shape.slice(0, -1), wDown.shape[0]]);
  });
}
