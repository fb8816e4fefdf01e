import * as tf from '@tensorflow/tfjs';
import { asAttrs, asInputs } from '../kernel_names';
import { SparseAttention } from '../kernels/sparse_attention';
import { attention } from './attention';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * Options of {@link sparseAttention}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { sparseAttention, type SparseAttentionOptions } from '@r1-ts/tensor-kernels';
 * const opts: SparseAttentionOptions = { scale: 0.5, causal: true, keyMask: tf.tensor2d([[0, 1, 1]]) }; // key 0 is padding
 * const idx = tf.tensor3d([[[0, 1], [0, 1], [1, 2]]], [1, 3, 2], 'int32');
 * const o = sparseAttention(tf.ones([1, 1, 3, 4]), tf.ones([1, 1, 3, 4]), tf.ones([1, 1, 3, 2]), idx, opts);
 * console.log(o.arraySync()[0][0][0]); // [0, 0]: query 0 may see only key 0, which is padding
 * ```
 */
export interface SparseAttentionOptions {
  /** Softmax scale applied to q·k. */
  scale: number;
  /** Query i (of Sq) sits at key position Sk − Sq + i and sees keys ≤ that. Default true. */
  causal?: boolean;
  /** [B, Sk] 1 for real keys, 0 for padding. */
  keyMask?: tf.Tensor;
  /**
   * Axis order of q, k, v and the output: 'bhsd' = [B, H, S, D] (default) or 'bshd' = [B, S, H, D]
   * (the order projections produce: no transposes, better locality when gathering keys).
   */
  layout?: 'bhsd' | 'bshd';
}

/**
 * Top-k sparse attention without the [B, H, Sq, Sk] score matrix (DeepSeek-V3.2 DSA; golden/README
 * §4.6): each query i attends only to the keys indices[b, i, :] (shared by the heads; −1 = unused slot,
 * duplicates count once), further limited by `causal` and `keyMask`. Work and memory are O(Sq·k). Same
 * result as `attention(q, k, v, { indices, ... })`; rows with no allowed key give zeros. k and v may
 * have a single head shared by all query heads (MQA, e.g. MLA's absorbed latent keys); `layout` 'bshd'
 * takes every operand as [B, S, H, D]. One fused kernel forward and one backward on cpu/wasm
 * (gradients for q, k, v); other backends use {@link attention}.
 *
 * @param q - [B, H, Sq, Dk] ('bshd': [B, Sq, H, Dk])
 * @param k - [B, Hk, Sk, Dk] with Hk ∈ {1, H} ('bshd': [B, Sk, Hk, Dk])
 * @param v - [B, Hk, Sk, Dv] ('bshd': [B, Sk, Hk, Dv])
 * @param indices - [B, Sq, kSel] int32
 * @param opts - `scale` of q·kᵀ; `causal`: also drop selected keys after the query's position; `keyMask` [B, Sk] (0 = padding); `layout` of q, k, v: `bhsd` (default) or `bshd`.
 * @returns [B, H, Sq, Dv] ('bshd': [B, Sq, H, Dv])
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { sparseAttention } from '@r1-ts/tensor-kernels';
 * const idx = tf.tensor3d([[[0, -1], [0, 1], [1, 2]]], [1, 3, 2], 'int32');
 * const o = sparseAttention(tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 3, 5]), idx, { scale: 0.5 }); // [1, 2, 3, 5]
 * const mqa = sparseAttention(tf.ones([1, 3, 2, 4]), tf.ones([1, 3, 1, 4]), tf.ones([1, 3, 1, 5]), idx, { scale: 0.5, layout: 'bshd' }); // [1, 3, 2, 5]
 * ```
 */
export function sparseAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, indices: tf.Tensor, opts: SparseAttentionOptions): tf.Tensor4D {
  const op = 'sparseAttention';
  const layout = opts?.layout ?? 'bhsd';
  if (layout !== 'bhsd' && layout !== 'bshd') fail(op, 'layout', `must be 'bhsd' or 'bshd', got ${String(layout)}`);
  const bshd = layout === 'bshd';
  const order = bshd ? '[B, S, H, D]' : '[B, H, S, D]';
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    expectTensor(op, name, t, 'float32');
    if (t.rank !== 4) fail(op, name, `must be rank 4 (${order}), got [${t.shape}]`);
  }
  // (B, H, S, D) of each operand whatever the layout.
  const dims = (t: tf.Tensor) => (bshd ? [t.shape[0], t.shape[2], t.shape[1], t.shape[3]] : t.shape) as number[];
  const [B, H, Sq, Dk] = dims(q);
  const [kB, Hk, Sk, kD] = dims(k);
  const want = (Hx: number | string, S: number | string, D: number | string) => (bshd ? `[${B}, ${S}, ${Hx}, ${D}]` : `[${B}, ${Hx}, ${S}, ${D}]`);
  if (kB !== B || (Hk !== H && Hk !== 1) || kD !== Dk) fail(op, 'k', `must be ${want(`${H} or 1`, 'Sk', Dk)} (B, H, Dk from q), got [${k.shape}]`);
  const [vB, vH, vS] = dims(v);
  if (vB !== B || vH !== Hk || vS !== Sk) fail(op, 'v', `must be ${want(Hk, Sk, 'Dv')} (B from q, heads and Sk from k), got [${v.shape}]`);
  expectTensor(op, 'indices', indices, 'int32');
  if (indices.rank !== 3 || indices.shape[0] !== B || indices.shape[1] !== Sq) fail(op, 'indices', `must be [${B}, ${Sq}, k] (B, Sq from q), got [${indices.shape}]`);
  if (typeof opts?.scale !== 'number' || !Number.isFinite(opts.scale)) fail(op, 'scale', `must be a finite number, got ${String(opts?.scale)}`);
  if (opts.keyMask) {
    if (!(opts.keyMask instanceof tf.Tensor)) fail(op, 'keyMask', 'must be a tf.Tensor');
    if (!tf.util.arraysEqual(opts.keyMask.shape, [B, Sk])) fail(op, 'keyMask', `must be [${B}, ${Sk}] (B from q, Sk from k), got [${opts.keyMask.shape}]`);
  }
  const causal = opts.causal ?? true;
  if (!hasFusedKernel(SparseAttention)) {
    return tf.tidy(() => {
      // Composite: [B, H, S, D] with per-head keys for attention(), back to the caller's layout.
      const toBhsd = (t: tf.Tensor) => (bshd ? tf.transpose(t, [0, 2, 1, 3]) : t);
      const heads = (t: tf.Tensor) => (Hk === H ? t : tf.tile(t, [1, H, 1, 1]));
      const o = attention(toBhsd(q), heads(toBhsd(k)), heads(toBhsd(v)), { scale: opts.scale, causal, indices, keyMask: opts.keyMask });
      return (bshd ? tf.transpose(o, [0, 2, 1, 3]) : o) as tf.Tensor4D;
    });
  }
  return tf.tidy(() => {
    const inputs: Record<string, tf.Tensor> = { q, k, v, indices };
    if (opts.keyMask) inputs.keyMask = opts.keyMask.dtype === 'float32' ? opts.keyMask : tf.cast(opts.keyMask, 'float32');
    const [o] = tf.engine().runKernel(SparseAttention, asInputs(inputs), asAttrs({ scale: opts.scale, causal, layout })) as tf.Tensor[];
    return o as tf.Tensor4D; // [B, H, Sq, Dv] or [B, Sq, H, Dv]; p (the second output) is disposed with the tidy
  });
}
