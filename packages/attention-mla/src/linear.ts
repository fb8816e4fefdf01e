import * as tf from '@tensorflow/tfjs';

/** y = x·Wᵀ over the last axis, W [out, in] as in checkpoints (internal helper). */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [out, inp] = w.shape;
    const lead = x.shape.slice(0, -1);
    const y = tf.matMul(tf.reshape(x, [-1, inp]) as tf.Tensor2D, w as tf.Tensor2D, false, true); // [N, out]
    return tf.reshape(y, [...lead, out]);
  });
}
