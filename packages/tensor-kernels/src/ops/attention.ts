import * as tf from '@tensorflow/tfjs';
import { MaskedSoftmax, asAttrs, asInputs } from '../kernel_names';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * Which keys each query may attend to.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { attentionWeights, type AttentionMaskOptions } from '@r1-ts/tensor-kernels';
 * const opts: AttentionMaskOptions = {
 *   scale: 0.5,
 *   causal: false,
 *   keyMask: tf.tensor2d([[0, 1, 1]]), // key 0 is left padding
 * };
 * const p = attentionWeights(tf.ones([1, 1, 3, 4]), tf.ones([1, 1, 3, 4]), opts);
 * console.log(p.arraySync()[0][0][0]); // [0, 0.5, 0.5]
 * ```
 */
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

/** Validates q [B, H, Sq, Dk], k [B, H, Sk, Dk] and the masks; returns [B, H, Sq, Sk]. */
function checkQk(op: string, q: tf.Tensor, k: tf.Tensor, opts: AttentionMaskOptions): number[] {
  expectTensor(op, 'q', q, 'float32');
  expectTensor(op, 'k', k, 'float32');
  if (q.rank !== 4) fail(op, 'q', `must be [B, H, Sq, Dk], got [${q.shape}]`);
  const [B, H, Sq, Dk] = q.shape as number[];
  if (k.rank !== 4 || k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== Dk) {
    fail(op, 'k', `must be [${B}, ${H}, Sk, ${Dk}] (B, H, Dk from q), got [${k.shape}]`);
  }
  const Sk = k.shape[2] as number;
  if (typeof opts?.scale !== 'number' || !Number.isFinite(opts.scale)) fail(op, 'scale', `must be a finite number, got ${String(opts?.scale)}`);
  if (opts.indices) {
    expectTensor(op, 'indices', opts.indices, 'int32');
    const s = opts.indices.shape;
    if (s.length !== 3 || s[0] !== B || s[1] !== Sq) fail(op, 'indices', `must be [${B}, ${Sq}, k] (B, Sq from q), got [${s}]`);
  }
  if (opts.keyMask) {
    if (!(opts.keyMask instanceof tf.Tensor)) fail(op, 'keyMask', 'must be a tf.Tensor');
    if (!tf.util.arraysEqual(opts.keyMask.shape, [B, Sk])) fail(op, 'keyMask', `must be [${B}, ${Sk}] (B from q, Sk from k), got [${opts.keyMask.shape}]`);
  }
  return [B, H, Sq, Sk];
}

/**
 * Masked softmax attention probabilities softmax(q·kᵀ·scale + mask): one matMul plus one fused
 * MaskedSoftmax kernel (forward and backward) on cpu/wasm.
 *
 * @param q - [B, H, Sq, Dk]
 * @param k - [B, H, Sk, Dk]
 * @param opts - `scale` of q·kᵀ; `causal`; `indices` [B, Sq, kSel] of a sparse key set; `keyMask` [B, Sk] (0 = padding).
 * @returns [B, H, Sq, Sk]; rows with no allowed key are all zeros
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { attentionWeights } from '@r1-ts/tensor-kernels';
 * const p = attentionWeights(tf.ones([1, 1, 3, 4]), tf.ones([1, 1, 3, 4]), { scale: 0.5 }); // causal
 * ```
 */
export function attentionWeights(q: tf.Tensor, k: tf.Tensor, opts: AttentionMaskOptions): tf.Tensor4D {
  checkQk('attentionWeights', q, k, opts);
  if (!hasFusedKernel(MaskedSoftmax)) return attentionWeightsComposite(q, k, opts);
  return tf.tidy(() => {
    const scores = tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true); // [B, H, Sq, Sk]
    const inputs = { scores, indices: opts.indices, keyMask: opts.keyMask };
    if (!inputs.indices) delete inputs.indices;
    if (!inputs.keyMask) delete inputs.keyMask;
    // indexSlots: the gradient's (zero) tensor for the indices needs their shape.
    const attrs = { scale: opts.scale, causal: opts.causal ?? true, indexSlots: opts.indices ? opts.indices.shape[2] : 0 };
    return tf.engine().runKernel(MaskedSoftmax, asInputs(inputs), asAttrs(attrs)) as tf.Tensor4D; // [B, H, Sq, Sk]
  });
}

/**
 * Scaled dot-product attention with causal, sparse (index-set) and key-padding masks:
 * softmax(q·kᵀ·scale + mask)·v. On cpu/wasm: matMul, fused MaskedSoftmax, matMul.
 *
 * @param q - [B, H, Sq, Dk]
 * @param k - [B, H, Sk, Dk]
 * @param v - [B, H, Sk, Dv]
 * @param opts - `scale` of q·kᵀ; `causal`; `indices` [B, Sq, kSel] of a sparse key set; `keyMask` [B, Sk] (0 = padding).
 * @returns [B, H, Sq, Dv]
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { attention } from '@r1-ts/tensor-kernels';
 * const o = attention(tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 3, 5]), { scale: 0.5 }); // [1, 2, 3, 5]
 * ```
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionMaskOptions): tf.Tensor4D {
  const [B, H, , Sk] = checkQk('attention', q, k, opts);
  expectTensor('attention', 'v', v, 'float32');
  if (v.rank !== 4 || v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== Sk) {
    fail('attention', 'v', `must be [${B}, ${H}, ${Sk}, Dv] (B, H from q, Sk from k), got [${v.shape}]`);
  }
  return tf.tidy(() => tf.matMul(attentionWeights(q, k, opts), v as tf.Tensor4D) as tf.Tensor4D); // [B, H, Sq, Dv]
}

/**
 * An additive mask [B|1, 1, Sq, Sk] with 0 where allowed and −1e30 where not, for the composite
 * path.
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
  if (opts.keyMask) allowed = tf.mul(allowed, tf.cast(tf.notEqual(tf.reshape(opts.keyMask, [B, 1, Sk]), 0), 'float32'));
  return tf.mul(tf.sub(1, allowed), -1e30).expandDims(1); // [B|1, 1, Sq, Sk]
}

/** attentionWeights from tfjs ops, for backends without the fused kernel. */
export function attentionWeightsComposite(q: tf.Tensor, k: tf.Tensor, opts: AttentionMaskOptions): tf.Tensor4D {
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
