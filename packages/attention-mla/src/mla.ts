import * as tf from '@tensorflow/tfjs';
import { Module, Rng, applyRope, attention, attentionWeights, effectiveLinearWeight, linear, linearLowRankOf, rmsNorm, softmaxScale } from '@r1-ts/tensor-kernels';
import { MlaCache } from './cache';
import type { MlaConfig } from './config';
import { validateMlaConfig } from './config';
import type { PositionOptions } from './positions';
import { resolvePositions, ropeTables } from './positions';

/**
 * Which keys a query may see, beyond causality: key padding and (for DSA) a sparse key set per query.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { MlaMaskOptions } from '@r1-ts/attention-mla';
 * const masks: MlaMaskOptions = { keyMask: tf.tensor2d([[0, 1, 1]]) }; // first key is left padding
 * ```
 */
export interface MlaMaskOptions {
  /** [B, Sk] 1 for real keys, 0 for padding. */
  keyMask?: tf.Tensor;
  /** [B, Sq, k] int32 key indices per query (−1 = unused slot), shared by all heads. */
  indices?: tf.Tensor;
}

/**
 * Options of {@link Mla.forward}: token positions and masks.
 *
 * @example
 * ```ts
 * import type { MlaForwardOptions } from '@r1-ts/attention-mla';
 * const opts: MlaForwardOptions = { startPos: 0 };
 * ```
 */
export interface MlaForwardOptions extends PositionOptions, MlaMaskOptions {}

/**
 * The per-token projections of x (V3 eqs. 1–3, 6–9): what both the expanded and the absorbed paths
 * consume.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Mla } from '@r1-ts/attention-mla';
 * import type { MlaProjection } from '@r1-ts/attention-mla';
 * const mla = new Mla({ hidden_size: 16, num_attention_heads: 2, q_lora_rank: 8, kv_lora_rank: 8,
 *   qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4, rope_theta: 10000, rope_scaling: null,
 *   max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * const p: MlaProjection = mla.project(tf.ones([1, 3, 16])); // p.c: [1, 3, 8]
 * ```
 */
export interface MlaProjection {
  /** q_a_layernorm output [B, S, R] (null when q_lora_rank is null); the DSA indexer reads it. */
  qr: tf.Tensor3D | null;
  /** [B, S, H, dn] */
  qNope: tf.Tensor4D;
  /** [B, S, H, dr], roped (interleaved) */
  qPe: tf.Tensor4D;
  /** normalised latent [B, S, C] (what the cache keeps) */
  c: tf.Tensor3D;
  /** roped shared key [B, S, dr] (what the cache keeps) */
  kPe: tf.Tensor3D;
}

/**
 * Multi-head Latent Attention, one layer (DeepSeek-V3 §2.1.1; golden/README §4.4). Parameters carry the
 * Hugging Face names under `self_attn.`: `q_a_proj`, `q_a_layernorm`, `q_b_proj` (or `q_proj` when
 * `q_lora_rank` is null), `kv_a_proj_with_mqa`, `kv_a_layernorm`, `kv_b_proj`, `o_proj` (`.weight` each).
 *
 * - {@link Mla.forward}: training/prefill path with expanded keys/values, causal, differentiable.
 * - {@link Mla.prefill} / {@link Mla.decode}: caches only (c, k_pe) per token and decodes in latent
 *   space with kv_b_proj absorbed into the query and the output.
 *
 * Every projection goes through tensor-kernels' `linear`, so LoRA adapters attach by these names; the
 * absorbed form applies an adapter on kv_b_proj to the per-head blocks it folds (low-rank for LoRA).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Mla } from '@r1-ts/attention-mla';
 * const mla = new Mla({ hidden_size: 16, num_attention_heads: 2, q_lora_rank: 8, kv_lora_rank: 8,
 *   qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4, rope_theta: 10000, rope_scaling: null,
 *   max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * const y = mla.forward(tf.randomNormal([2, 5, 16])); // [2, 5, 16]
 * ```
 */
export class Mla extends Module {
  readonly config: MlaConfig;
  /** Softmax scale (dn + dr)^−½ · m² (golden §4.3). */
  readonly scale: number;
  /** q_a_proj [R, D], or null when q_lora_rank is null. */
  readonly qAProj: tf.Variable | null;
  /** q_a_layernorm [R], or null. */
  readonly qANorm: tf.Variable | null;
  /** q_b_proj [H·(dn+dr), R] or q_proj [H·(dn+dr), D]. */
  readonly qProj: tf.Variable;
  /** kv_a_proj_with_mqa [C + dr, D]. */
  readonly kvAProj: tf.Variable;
  /** kv_a_layernorm [C]. */
  readonly kvANorm: tf.Variable;
  /** kv_b_proj [H·(dn+dv), C]. */
  readonly kvBProj: tf.Variable;
  /** o_proj [D, H·dv]. */
  readonly oProj: tf.Variable;

  /**
   * @param config - The attention sizes (validated here): `hidden_size` D, heads H, `q_lora_rank`, `kv_lora_rank` C, head widths dn/dr/dv, RoPE and YaRN settings.
   * @param rng - Seeded generator of the projections' initial values. Default `new Rng(0)`.
   * @param initStd - Standard deviation of the normal init of every projection (norm weights start at 1). Default 0.02, DeepSeek-V3's `initializer_range`.
   */
  constructor(config: MlaConfig, rng: Rng = new Rng(0), initStd = 0.02) {
    super(rng);
    validateMlaConfig(config);
    this.config = config;
    this.scale = softmaxScale(config);
    const { hidden_size: D, num_attention_heads: H, q_lora_rank: R, kv_lora_rank: C } = config;
    const { qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv } = config;
    const std = { normal: initStd };
    if (R === null) {
      this.qAProj = this.qANorm = null;
      this.qProj = this.param('q_proj.weight', [H * (dn + dr), D], std);
    } else {
      this.qAProj = this.param('q_a_proj.weight', [R, D], std);
      this.qANorm = this.param('q_a_layernorm.weight', [R], { constant: 1 });
      this.qProj = this.param('q_b_proj.weight', [H * (dn + dr), R], std);
    }
    this.kvAProj = this.param('kv_a_proj_with_mqa.weight', [C + dr, D], std);
    this.kvANorm = this.param('kv_a_layernorm.weight', [C], { constant: 1 });
    this.kvBProj = this.param('kv_b_proj.weight', [H * (dn + dv), C], std);
    this.oProj = this.param('o_proj.weight', [D, H * dv], std);
  }

  /** Query, latent and roped keys of x [B, S, D] at the given positions (golden §4.4 steps 1–2). */
  project(x: tf.Tensor, opts: PositionOptions = {}): MlaProjection {
    const { num_attention_heads: H, qk_nope_head_dim: dn, qk_rope_head_dim: dr } = this.config;
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.config, B, S, opts); // [S|B·S, dr/2]
      const qr = this.compressedQuery(x); // [B, S, R], or null without q_lora_rank
      const q4 = tf.reshape(linear(qr ?? x, this.qProj), [B, S, H, dn + dr]); // [B, S, H, dn+dr]
      // split, not two slices: its gradient is one concat, where slices' are zero pads plus an add.
      const [qNope, qPeRaw] = tf.split(q4, [dn, dr], -1) as tf.Tensor4D[]; // [B, S, H, dn], [B, S, H, dr]
      const qPe = applyRope(qPeRaw, cos, sin, 'interleaved') as tf.Tensor4D; // [B, S, H, dr]
      const { c, kPe } = this.latentKv(x, cos, sin);
      return { qr, qNope, qPe, c, kPe } as unknown as tf.TensorContainer;
    }) as unknown as MlaProjection;
  }

  /** The normed query compression c_q = RMSNorm(W_DQ·x) [B, S, R]; null without q_lora_rank (call inside a tidy). */
  protected compressedQuery(x: tf.Tensor): tf.Tensor3D | null {
    return this.qAProj ? (rmsNorm(linear(x, this.qAProj), this.qANorm!, this.config.rms_norm_eps) as tf.Tensor3D) : null;
  }

  /** The latent c = RMSNorm(W_DKV·x) [B, S, C] and the roped shared key k_pe [B, S, dr] (call inside a tidy). */
  protected latentKv(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): { c: tf.Tensor3D; kPe: tf.Tensor3D } {
    const { kv_lora_rank: C, qk_rope_head_dim: dr, rms_norm_eps: eps } = this.config;
    const [cRaw, kPeRaw] = tf.split(linear(x, this.kvAProj), [C, dr], -1); // [B, S, C], [B, S, dr]
    const c = rmsNorm(cRaw, this.kvANorm, eps) as tf.Tensor3D; // [B, S, C]
    const kPe = applyRope(kPeRaw, cos, sin, 'interleaved') as tf.Tensor3D; // [B, S, dr]
    return { c, kPe };
  }

  /**
   * Expanded-form queries, keys and values for {@link attention} (golden §4.4 step 3): q [B, H, S, dn+dr],
   * k [B, H, Sk, dn+dr] (k_pe shared by the heads), v [B, H, Sk, dv].
   */
  expandedQkv(qNope: tf.Tensor, qPe: tf.Tensor, c: tf.Tensor, kPe: tf.Tensor): { q: tf.Tensor4D; k: tf.Tensor4D; v: tf.Tensor4D } {
    const { num_attention_heads: H, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv } = this.config;
    const [B, Sk] = c.shape as number[];
    return tf.tidy(() => {
      const q = tf.transpose(tf.concat([qNope, qPe], -1), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, S, dn+dr]
      const kv = tf.reshape(linear(c, this.kvBProj), [B, Sk, H, dn + dv]); // [B, Sk, H, dn+dv]
      const [kNope, vBshd] = tf.split(kv, [dn, dv], -1); // [B, Sk, H, dn], [B, Sk, H, dv]
      const kRope = tf.tile(tf.reshape(kPe, [B, Sk, 1, dr]), [1, 1, H, 1]); // [B, Sk, H, dr]
      const k = tf.transpose(tf.concat([kNope, kRope], -1), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, Sk, dn+dr]
      const v = tf.transpose(vBshd, [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, Sk, dv]
      return { q, k, v };
    });
  }

  /** y = concat_h(o_h)·W_oᵀ for o [B, H, S, dv] (head-major concat, golden §4.4 step 5). */
  outputProjection(o: tf.Tensor): tf.Tensor3D {
    const [B, H, S, dv] = o.shape as number[];
    return tf.tidy(() => linear(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, S, H * dv]), this.oProj) as tf.Tensor3D); // [B, S, D]
  }

  /**
   * Expanded causal attention of the projected queries over keys built from latents c [B, Sk, C] and
   * k_pe [B, Sk, dr] (Sk ≥ S; query i sits at key position Sk − S + i). With `returnProbs` also the
   * attention probabilities [B, H, S, Sk] (the DSA indexer's training target).
   */
  attendExpanded(
    p: Pick<MlaProjection, 'qNope' | 'qPe'>, c: tf.Tensor, kPe: tf.Tensor, masks: MlaMaskOptions = {}, returnProbs = false,
  ): { y: tf.Tensor3D; probs?: tf.Tensor4D } {
    return tf.tidy(() => {
      const { q, k, v } = this.expandedQkv(p.qNope, p.qPe, c, kPe);
      const opts = { scale: this.scale, causal: true, keyMask: masks.keyMask, indices: masks.indices };
      if (!returnProbs) return { y: this.outputProjection(attention(q, k, v, opts)) }; // V3 eqs. 10–11
      const probs = attentionWeights(q, k, opts); // [B, H, S, Sk]
      return { y: this.outputProjection(tf.matMul(probs, v)), probs };
    });
  }

  /**
   * Absorbed-form attention in latent space (golden §4.4 "absorbed decode"): per head
   * q_lat = W_UK[h]ᵀ·q_nope, scores (q_lat·c_s + q_pe·k_pe_s)·scale, ctx = Σ p_s·c_s, o_h = W_UV[h]·ctx.
   * Queries [B, T, H, ·] sit at the last T of the Sk cached positions; returns y [B, T, D].
   */
  attendAbsorbed(p: Pick<MlaProjection, 'qNope' | 'qPe'>, c: tf.Tensor, kPe: tf.Tensor, masks: MlaMaskOptions = {}): tf.Tensor3D {
    const { num_attention_heads: H, kv_lora_rank: C } = this.config;
    const [B, T] = p.qNope.shape as number[];
    return tf.tidy(() => {
      const qAbs = this.absorbedQuery(p); // [B, T, H, C+dr]
      const kAbs = tf.concat([c, kPe], -1); // [B, Sk, C+dr]
      const opts = { scale: this.scale, keyMask: masks.keyMask };
      let ctx: tf.Tensor; // [B, T, H, C]
      if (T === 1) {
        // One query token: fold the heads into the query axis so the single latent key set is not tiled.
        const indices = masks.indices ? tf.tile(masks.indices, [1, H, 1]) : undefined; // [B, H, k]
        const o = attention(tf.reshape(qAbs, [B, 1, H, -1]), tf.expandDims(kAbs, 1), tf.expandDims(c, 1), { ...opts, causal: false, indices }); // [B, 1, H, C]
        ctx = tf.reshape(o, [B, 1, H, C]);
      } else {
        const kt = tf.tile(tf.expandDims(kAbs, 1), [1, H, 1, 1]); // [B, H, Sk, C+dr]
        const vt = tf.tile(tf.expandDims(c, 1), [1, H, 1, 1]); // [B, H, Sk, C]
        const o = attention(tf.transpose(qAbs, [0, 2, 1, 3]), kt, vt, { ...opts, causal: true, indices: masks.indices }); // [B, H, T, C]
        ctx = tf.transpose(o, [0, 2, 1, 3]);
      }
      return this.absorbedOutput(ctx);
    });
  }

  /**
   * The absorbed query of golden §4.4: [W_UK[h]ᵀ·q_nope ; q_pe] per head, [B, T, H, C+dr] (call inside a
   * tidy). Subclasses that attend in latent space differently (DSA's gathered form) share it.
   */
  protected absorbedQuery(p: Pick<MlaProjection, 'qNope' | 'qPe'>): tf.Tensor4D {
    const { num_attention_heads: H, kv_lora_rank: C, qk_nope_head_dim: dn, v_head_dim: dv } = this.config;
    const [B, T] = p.qNope.shape as number[];
    const { w: wUK, lowRank } = this.kvBHeads('k'); // [H, dn, C]
    const qn = tf.transpose(tf.reshape(p.qNope, [B * T, H, dn]), [1, 0, 2]) as tf.Tensor3D; // [H, B·T, dn]
    let qLatH = tf.matMul(qn, wUK); // [H, B·T, C]
    if (lowRank) {
      // q·ΔW_UK[h] = scale·(q·B_UK[h])·A: two thin products, no dense ΔW.
      const qb = tf.matMul(qn, lowRank.b); // [H, B·T, r]
      const qba = tf.matMul(tf.reshape(qb, [H * B * T, -1]) as tf.Tensor2D, lowRank.a); // [H·B·T, C]
      qLatH = tf.add(qLatH, tf.mul(tf.reshape(qba, [H, B * T, C]), lowRank.scale));
    }
    const qLat = tf.reshape(tf.transpose(qLatH, [1, 0, 2]), [B, T, H, C]); // [B, T, H, C]
    return tf.concat([qLat, p.qPe], -1) as tf.Tensor4D; // [B, T, H, C+dr]
  }

  /**
   * kv_b_proj's per-head blocks for the absorbed form, W_UK [H, dn, C] (`k`) or W_UV [H, dv, C] (`v`).
   * With a LoRA adapter attached, also its factors' matching blocks B [H, dn|dv, r] and A [r, C], so
   * ΔW = scale·B·A is applied low-rank; any other adapter is folded into W densely (call inside a tidy).
   */
  private kvBHeads(part: 'k' | 'v'): { w: tf.Tensor3D; lowRank?: { b: tf.Tensor3D; a: tf.Tensor2D; scale: number } } {
    const { num_attention_heads: H, kv_lora_rank: C, qk_nope_head_dim: dn, v_head_dim: dv } = this.config;
    const [from, size] = part === 'k' ? [0, dn] : [dn, dv];
    const heads = (m: tf.Tensor, cols: number) => tf.slice(tf.reshape(m, [H, dn + dv, cols]), [0, from, 0], [-1, size, -1]) as tf.Tensor3D;
    const lr = linearLowRankOf(this.kvBProj);
    if (!lr) return { w: heads(effectiveLinearWeight(this.kvBProj), C) };
    return { w: heads(this.kvBProj, C), lowRank: { b: heads(lr.b, lr.b.shape[1]), a: lr.a, scale: lr.scale } };
  }

  /** The latent context [B, T, H, C] back to y [B, T, D]: o_h = W_UV[h]·ctx_h, then o_proj (call inside a tidy). */
  protected absorbedOutput(ctx: tf.Tensor): tf.Tensor3D {
    const { num_attention_heads: H, kv_lora_rank: C, qk_nope_head_dim: dn, v_head_dim: dv } = this.config;
    const [B, T] = ctx.shape as number[];
    const { w: wUV, lowRank } = this.kvBHeads('v'); // [H, dv, C]
    const ctxH = tf.transpose(tf.reshape(ctx, [B * T, H, C]), [1, 0, 2]) as tf.Tensor3D; // [H, B·T, C]
    let oh = tf.matMul(ctxH, wUV, false, true); // [H, B·T, dv]
    if (lowRank) {
      // ctx·ΔW_UV[h]ᵀ = scale·(ctx·Aᵀ)·B_UV[h]ᵀ.
      const ca = tf.reshape(tf.matMul(tf.reshape(ctxH, [H * B * T, C]) as tf.Tensor2D, lowRank.a, false, true), [H, B * T, -1]); // [H, B·T, r]
      oh = tf.add(oh, tf.mul(tf.matMul(ca, lowRank.b, false, true), lowRank.scale)); // [H, B·T, dv]
    }
    const o = tf.reshape(tf.transpose(oh, [1, 0, 2]), [B, T, H * dv]); // [B, T, H·dv]
    return linear(o, this.oProj) as tf.Tensor3D; // [B, T, D]
  }

  /** Training/prefill forward of x [B, S, D] → y [B, S, D]: expanded K/V, causal, differentiable. */
  forward(x: tf.Tensor, opts: MlaForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const p = this.project(x, opts);
      return this.attendExpanded(p, p.c, p.kPe, opts).y;
    });
  }

  /**
   * Causal attention probabilities [B, H, S, S] of the dense expanded path (what the DSA indexer's dense
   * warm-up imitates).
   */
  attentionProbs(x: tf.Tensor, opts: MlaForwardOptions = {}): tf.Tensor4D {
    return tf.tidy(() => {
      const p = this.project(x, opts);
      return this.attendExpanded(p, p.c, p.kPe, opts, true).probs!;
    });
  }

  /**
   * Prefill: the expanded forward of x [B, S, D] that also appends its (c, k_pe) to a cache (a new one
   * by default; a non-empty cache is attended to, and its row lengths give the default positions).
   * `keyMask` [B, S] marks left padding among the new tokens.
   */
  prefill(x: tf.Tensor, opts: Omit<MlaForwardOptions, 'keyMask'> & { keyMask?: tf.Tensor; cache?: MlaCache } = {}): { y: tf.Tensor3D; cache: MlaCache } {
    const cache = opts.cache ?? new MlaCache();
    const y = tf.tidy(() => {
      const p = this.project(x, this.positionsAfter(x, cache, opts));
      cache.append(p.c, p.kPe, opts.keyMask);
      return this.attendExpanded(p, cache.c!, cache.kPe!, { keyMask: cache.keyMask ?? undefined, indices: opts.indices }).y;
    });
    return { y, cache };
  }

  /**
   * Absorbed decode of the next T tokens x [B, T, D] (usually T = 1): appends their (c, k_pe) to the
   * cache and attends in latent space over every cached token. Positions default to each row's next
   * position in the cache. Equals the matching rows of {@link Mla.forward} on the whole sequence.
   */
  decode(x: tf.Tensor, cache: MlaCache, opts: MlaForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const p = this.project(x, this.positionsAfter(x, cache, opts));
      cache.append(p.c, p.kPe);
      return this.attendAbsorbed(p, cache.c!, cache.kPe!, { keyMask: cache.keyMask ?? undefined, indices: opts.indices });
    });
  }

  /**
   * Positions of new tokens x [B, T, ·] after a cache: explicit options win, else each row continues
   * at the cache's next position. Records the next positions in the cache (last position + 1).
   */
  positionsAfter(x: tf.Tensor, cache: MlaCache, opts: PositionOptions): PositionOptions {
    const [B, T] = x.shape as number[];
    let chosen: PositionOptions = opts;
    if (opts.positions === undefined && opts.startPos === undefined && cache.length > 0) {
      const n = cache.nextPositions;
      chosen = n.every((v) => v === n[0]) ? { startPos: n[0] } : { positions: n.map((v) => Array.from({ length: T }, (_, i) => v + i)) };
    }
    const pos = resolvePositions(B, T, chosen);
    cache.nextPositions = Array.from({ length: B }, (_, b) => {
      const row = typeof pos[0] === 'number' ? (pos as number[]) : (pos as number[][])[b];
      return row.length ? row[row.length - 1] + 1 : (cache.nextPositions[b] ?? 0);
    });
    return chosen;
  }
}
