import * as tf from '@tensorflow/tfjs';
import { SiluMul, asInputs } from '../kernel_names';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * silu(gate) ⊙ up, the elementwise core of SwiGLU (golden/README §4.1). One fused kernel forward
 * and one backward on cpu/wasm when gate and up have the same shape; other broadcastable shapes
 * use tfjs ops.
 *
 * @param gate - float32
 * @param up - float32, same shape as gate (or broadcastable with it)
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { siluMul } from '@r1-ts/tensor-kernels';
 * const y = siluMul(tf.tensor1d([1, -1]), tf.tensor1d([2, 2]));
 * ```
 */
export function siluMul(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  expectTensor('siluMul', 'gate', gate, 'float32');
  expectTensor('siluMul', 'up', up, 'float32');
  if (!tf.util.arraysEqual(gate.shape, up.shape) || !hasFusedKernel(SiluMul)) return siluMulComposite(gate, up);
  return tf.engine().runKernel(SiluMul, asInputs({ gate, up }), {}) as tf.Tensor;
}

/** siluMul from tfjs ops (broadcasting), for other shapes or backends without the fused kernel. */
export function siluMulComposite(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
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
  const D = x.shape[x.rank - 1];
  if (wGate.rank !== 2 || wGate.shape[1] !== D) fail('swiglu', 'wGate', `must have shape [I, ${D}] (D = last axis of x), got [${wGate.shape}]`);
  if (!tf.util.arraysEqual(wUp.shape, wGate.shape)) fail('swiglu', 'wUp', `must have wGate's shape [${wGate.shape}], got [${wUp.shape}]`);
  if (wDown.rank !== 2 || wDown.shape[1] !== wGate.shape[0]) fail('swiglu', 'wDown', `must have shape [out, ${wGate.shape[0]}] (I = rows of wGate), got [${wDown.shape}]`);
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, D]) as tf.Tensor2D; // [N, D]
    const g = tf.matMul(x2, wGate as tf.Tensor2D, false, true); // [N, I]
    const u = tf.matMul(x2, wUp as tf.Tensor2D, false, true); // [N, I]
    const y = tf.matMul(siluMul(g, u) as tf.Tensor2D, wDown as tf.Tensor2D, false, true); // [N, D]
    return tf.reshape(y, [...x.shape.slice(0, -1), wDown.shape[0]]);
  });
}
