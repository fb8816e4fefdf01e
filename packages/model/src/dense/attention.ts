import * as tf from '@tensorflow/tfjs';
import { Module, applyRope, attention, linear, rmsNorm } from '@r1-ts/tensor-kernels';
import type { Init, Rng } from '@r1-ts/tensor-kernels';
import type { DenseConfig, DenseParts } from './config';
import type { InitAt } from './init';
import { initDefault } from './init';

/**
 * What a layer's attention needs besides x: the rope tables of the tokens, the key mask over every
 * key (cached and new), and the cache slot to append to.
 *
 * @example
 * ```ts
 * import { denseRopeTables, type GqaContext } from '@r1-ts/model';
 * const { cos, sin } = denseRopeTables({ invFreq: new Float64Array([1, 0.01]), attentionFactor: 1 }, [[0, 1]]);
 * const ctx: GqaContext = { cos, sin }; // no padding, no cache
 * ```
 */
export interface GqaContext {
  /** [B, S, hd/2] each, already multiplied by the attention factor. */
  cos: tf.Tensor;
  sin: tf.Tensor;
  /** [B, Sk] over every key this call attends to (1 = real). */
  keyMask?: tf.Tensor;
  /** Appends the new k, v [B, Hkv, S, hd] and returns every cached k, v (decode); absent: no cache. */
  cache?: (k: tf.Tensor4D, v: tf.Tensor4D) => { k: tf.Tensor4D; v: tf.Tensor4D };
}


/**
 * Grouped-query attention of the dense families (golden/README §7.2): q/k/v projections (biases per
 * family), Qwen3's per-head q/k RMSNorm before RoPE, rotate-half RoPE, `repeat_kv`, causal softmax
 * with key padding, o_proj. Every projection goes through `linear` (LoRA's hook).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { GqaAttention, denseParts, denseRope, denseRopeTables, parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'qwen2', vocab_size: 8, hidden_size: 16, intermediate_size: 8, num_hidden_layers: 1,
 *   num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * const attn = new GqaAttention(c, denseParts(c), new Rng(0));
 * const { cos, sin } = denseRopeTables(denseRope(c), [[0, 1, 2]]);
 * console.log(attn.forward(tf.ones([1, 3, 16]), { cos, sin }).shape); // [1, 3, 16]
 * ```
 */
export class GqaAttention extends Module {
  readonly qProj: tf.Variable;
  readonly kProj: tf.Variable;
  readonly vProj: tf.Variable;
  readonly oProj: tf.Variable;
  readonly qBias: tf.Variable | null;
  readonly kBias: tf.Variable | null;
  readonly vBias: tf.Variable | null;
  readonly oBias: tf.Variable | null;
  readonly qNorm: tf.Variable | null;
  readonly kNorm: tf.Variable | null;

  /**
   * Grouped-query self-attention of a dense family (q/k/v/o projections, optional biases and q/k norms).
   *
   * @param config - The validated dense config: heads, kv heads, `head_dim`, hidden size.
   * @param parts - Which biases and norms the family has (from {@link denseParts}).
   * @param rng - Generator of the initial weights.
   * @param at - Init per parameter name (e.g. to load weights or zero a part). Default: the fallback init.
   */
  constructor(readonly config: DenseConfig, parts: DenseParts, rng: Rng, at: InitAt = initDefault) {
    super(rng);
    const init: Init = { normal: 0.02 };
    const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: hd } = config;
    const zero = { constant: 0 };
    const p = (name: string, shape: number[], fallback: Init) => this.param(name, shape, at(name, fallback, shape));
    this.qProj = p('q_proj.weight', [H * hd, D], init);
    this.qBias = parts.qkvBias ? p('q_proj.bias', [H * hd], zero) : null;
    this.kProj = p('k_proj.weight', [Hkv * hd, D], init);
    this.kBias = parts.qkvBias ? p('k_proj.bias', [Hkv * hd], zero) : null;
    this.vProj = p('v_proj.weight', [Hkv * hd, D], init);
    this.vBias = parts.qkvBias ? p('v_proj.bias', [Hkv * hd], zero) : null;
    this.oProj = p('o_proj.weight', [D, H * hd], init);
    this.oBias = parts.oBias ? p('o_proj.bias', [D], zero) : null;
    this.qNorm = parts.qkNorm ? p('q_norm.weight', [hd], { constant: 1 }) : null;
    this.kNorm = parts.qkNorm ? p('k_norm.weight', [hd], { constant: 1 }) : null;
  }

  /** x [B, S, D] → y [B, S, D]. */
  forward(x: tf.Tensor, ctx: GqaContext): tf.Tensor3D {
    const { num_attention_heads: H, num_key_value_heads: Hkv, head_dim: hd, rms_norm_eps: eps } = this.config;
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      let q = tf.reshape(linear(x, this.qProj, this.qBias), [B, S, H, hd]); // [B, S, H, hd]
      let k = tf.reshape(linear(x, this.kProj, this.kBias), [B, S, Hkv, hd]); // [B, S, Hkv, hd]
      const v = tf.reshape(linear(x, this.vProj, this.vBias), [B, S, Hkv, hd]); // [B, S, Hkv, hd]
      if (this.qNorm && this.kNorm) {
        q = rmsNorm(q, this.qNorm, eps); // per head over hd, before RoPE (Qwen3)
        k = rmsNorm(k, this.kNorm, eps);
      }
      q = applyRope(q, ctx.cos, ctx.sin, 'half'); // [B, S, H, hd]
      k = applyRope(k, ctx.cos, ctx.sin, 'half'); // [B, S, Hkv, hd]
      const qh = tf.transpose(q, [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, S, hd]
      let kh = tf.transpose(k, [0, 2, 1, 3]) as tf.Tensor4D; // [B, Hkv, S, hd]
      let vh = tf.transpose(v, [0, 2, 1, 3]) as tf.Tensor4D; // [B, Hkv, S, hd]
      if (ctx.cache) ({ k: kh, v: vh } = ctx.cache(kh, vh)); // [B, Hkv, Sk, hd]
      const o = attention(qh, repeatKv(kh, H / Hkv), repeatKv(vh, H / Hkv), { scale: 1 / Math.sqrt(hd), causal: true, keyMask: ctx.keyMask }); // [B, H, S, hd]
      const oc = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, S, H * hd]); // heads concatenated, head-major
      return linear(oc, this.oProj, this.oBias) as tf.Tensor3D; // [B, S, D]
    });
  }
}

/**
 * transformers' `repeat_kv`: [B, Hkv, T, hd] → [B, Hkv·g, T, hd], query head h reading kv head ⌊h/g⌋.
 *
 * @param x - Keys or values [B, Hkv, T, hd].
 * @param g - Query heads per kv head (H / Hkv).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { repeatKv } from '@r1-ts/model';
 * const k = tf.tensor4d([1, 2], [1, 2, 1, 1]); // two kv heads
 * console.log(repeatKv(k, 2).dataSync()); // [1, 1, 2, 2]
 * ```
 */
export function repeatKv(x: tf.Tensor4D, g: number): tf.Tensor4D {
  if (g === 1) return x;
  const [B, Hkv, T, hd] = x.shape;
  // Rank-4 tile (tfjs has no rank-5 tile gradient): [B·Hkv, 1, T, hd] → [B·Hkv, g, T, hd].
  return tf.reshape(tf.tile(tf.reshape(x, [B * Hkv, 1, T, hd]), [1, g, 1, 1]), [B, Hkv * g, T, hd]); // [B, H, T, hd]
}
