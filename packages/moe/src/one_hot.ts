import * as tf from '@tensorflow/tfjs';

/**
 * float32 one-hot of int32 indices, [..., n] → [..., n, depth]. Built from `equal` because the wasm
 * backend's OneHot returns zeros when asked for float32 output (tfjs 4.22).
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.equal(tf.expandDims(indices, -1), tf.range(0, depth, 1, 'int32')), 'float32'));
}
