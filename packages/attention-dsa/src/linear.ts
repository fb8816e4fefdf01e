// y = x·Wᵀ over the last axis (nn.Linear without bias), for any leading shape.
import * as tf from '@tensorflow/tfjs';

/** x [..., in] · w [out, in]ᵀ → [..., out]. Internal helper (not exported by the package). */
export const linear = (x: tf.Tensor, w: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const [out, inp] = w.shape;
    const y = tf.matMul(tf.reshape(x, [-1, inp]) as tf.Tensor2D, w as tf.Tensor2D, false, true); // [N, out]
    return tf.reshape(y, [...x.shape.slice(0, -1), out]);
  });
