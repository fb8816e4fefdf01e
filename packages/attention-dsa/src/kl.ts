import * as tf from '@tensorflow/tfjs';

/**
 * Identity in the forward pass, zero gradient in the backward pass: the indexer's inputs and KL targets
 * are constants for its loss (V3.2-Exp §2.1).
 *
 * @param x - Any tensor; returned as a copy through which no gradient flows.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stopGradient } from '@r1-ts/attention-dsa';
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stopGradient(x), x)))(tf.ones([2])); // [1, 1], not [2, 2]
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor;
    return { value: a.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x) as T;
}

/**
 * Indexer KL loss (V3.2-Exp eqs. 3, 5; golden §4.6): mean over all B·Sq rows of KL(p_t ‖ q_t), where
 * q_t = softmax of the index scores over the allowed keys and p_t = the target restricted to the allowed
 * keys and L1-renormalised. KL(p‖q) = Σ p·ln(p/q) over the support of p; rows with no target mass count
 * as 0. Differentiable in `scores` only; pass detached targets.
 *
 * @param scores - [B, Sq, Sk] index scores I
 * @param target - [B, Sq, Sk] non-negative target mass (e.g. attention probabilities averaged over heads)
 * @param allowed - [B, Sq, Sk] 1 for keys in the support (causal set, or the selected top-k set)
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { causalAllowed, indexerKl } from '@r1-ts/attention-dsa';
 * const I = tf.tensor3d([[[0, 0], [1, 0]]]);
 * const kl = indexerKl(I, tf.tensor3d([[[1, 0], [0.5, 0.5]]]), causalAllowed(1, 2, 2)); // scalar ≥ 0
 * ```
 */
export function indexerKl(scores: tf.Tensor, target: tf.Tensor, allowed: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const ok = tf.greater(allowed, 0); // [B, Sq, Sk]
    const logq = tf.logSoftmax(tf.where(ok, scores, tf.fill(scores.shape, -1e30)), -1); // [B, Sq, Sk]
    const pm = tf.mul(target, tf.cast(ok, 'float32'));
    const p = tf.div(pm, tf.maximum(tf.sum(pm, -1, true), 1e-30)); // [B, Sq, Sk], rows sum to 1 (or 0)
    const logp = tf.log(tf.maximum(p, 1e-30));
    const rows = tf.sum(tf.mul(p, tf.sub(logp, logq)), -1); // [B, Sq]
    return tf.mean(rows) as tf.Scalar;
  });
}
