import * as tf from '@tensorflow/tfjs';

/** Which keys each query may attend to. */
export interface AttentionMaskOptions {
  /** Softmax scale applied to q·k. */
  scale: number;
  /**
   * Causal masking: query i (of Sq) sits at key position Sk − Sq + i and sees keys ≤ that.
   * Default true.
   */
  causal?: boolean;
  /**
   * Sparse attention: [B, Sq, k] int32 key indices per query, shared by all heads, −1 = unused
   * slot. Combined with `causal`.
   */
  indices?: tf.Tensor;
  /** [B, Sk] 1 for real keys, 0 for padding. */
  keyMask?: tf.Tensor;
}

/**
 * An additive mask [B|1, 1, Sq, Sk] with 0 where allowed and −1e30 where not (internal helper
 * shared by the composite attention ops).
 */
function additiveMask(B: number, Sq: number, Sk: number, opts: AttentionMaskOptions): tf.Tensor | null {
  const causal = opts.causal ?? true;
  if (!causal && !opts.indices && !opts.keyMask) return null;
  let allowed: tf.Tensor = tf.ones([1, Sq, Sk]);
  if (causal) {
    const qpos = tf.add(tf.range(0, Sq, 1, 'int32'), Sk - Sq).reshape([Sq, 1]);
    const kpos = tf.range(0, Sk, 1, 'int32').reshape([1, Sk]);
    allowed = tf.mul(allowed, tf.cast(tf.lessEqual(kpos, qpos), 'float32').expandDims(0)); // [1, Sq, Sk]
  }
  if (opts.indices) {
    const k = opts.indices.shape[2] as number;
    // One-hot of each selected index (−1 gives an all-zero row), summed over the k slots.
    const oh = tf.oneHot(tf.reshape(opts.indices, [-1]), Sk).reshape([B, Sq, k, Sk]);
    allowed = tf.mul(allowed, tf.minimum(tf.sum(oh, 2), 1)); // [B, Sq, Sk]
  }
  if (opts.keyMask) allowed = tf.mul(allowed, tf.reshape(opts.keyMask, [B, 1, Sk]));
  return tf.mul(tf.sub(1, allowed), -1e30).expandDims(1); // [B|1, 1, Sq, Sk]
}

/**
 * Masked softmax attention probabilities softmax(q·kᵀ·scale + mask).
 *
 * @param q - [B, H, Sq, Dk]
 * @param k - [B, H, Sk, Dk]
 * @returns [B, H, Sq, Sk]; rows with no allowed key are all zeros
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { attentionWeights } from '@r1-ts/tensor-kernels';
 * const p = attentionWeights(tf.ones([1, 1, 3, 4]), tf.ones([1, 1, 3, 4]), { scale: 0.5 }); // causal
 * ```
 */
export function attentionWeights(q: tf.Tensor, k: tf.Tensor, opts: AttentionMaskOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, , Sq] = q.shape as number[];
    const Sk = k.shape[2] as number;
    let scores = tf.mul(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), opts.scale); // [B, H, Sq, Sk]
    const mask = additiveMask(B, Sq, Sk, opts);
    if (mask) scores = tf.add(scores, mask);
    let p = tf.softmax(scores, -1);
    if (mask) p = tf.mul(p, tf.cast(tf.greater(mask, -1), 'float32')); // fully masked rows → 0
    return p as tf.Tensor4D;
  });
}

/**
 * Scaled dot-product attention with causal, sparse (index-set) and key-padding masks:
 * softmax(q·kᵀ·scale + mask)·v.
 *
 * @param q - [B, H, Sq, Dk]
 * @param k - [B, H, Sk, Dk]
 * @param v - [B, H, Sk, Dv]
 * @returns [B, H, Sq, Dv]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { attention } from '@r1-ts/tensor-kernels';
 * const o = attention(tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 3, 5]), { scale: 0.5 }); // [1, 2, 3, 5]
 * ```
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionMaskOptions): tf.Tensor4D {
  return tf.tidy(() => tf.matMul(attentionWeights(q, k, opts), v as tf.Tensor4D) as tf.Tensor4D);
}
