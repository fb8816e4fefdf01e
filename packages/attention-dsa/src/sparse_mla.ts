import * as tf from '@tensorflow/tfjs';
import { Rng, applyRope, effectiveLinearWeight, hasFusedKernel, indexerTopK, linear, sparseAttention } from '@r1-ts/tensor-kernels';
import { Mla, ropeTables } from '@r1-ts/attention-mla';
import type { MlaForwardOptions, MlaMaskOptions, MlaProjection, PositionOptions } from '@r1-ts/attention-mla';
import { DsaCache } from './cache';
import type { DsaConfig } from './config';
import { validateDsaConfig } from './config';
import { Indexer } from './indexer';
import { indexerKl, stopGradient } from './kl';
import { causalAllowed, selectTopK, selectionMask } from './select';

/**
 * Options of {@link SparseMla}'s passes: positions and key padding (the sparse key sets come from the
 * indexer).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { DsaForwardOptions } from '@r1-ts/attention-dsa';
 * const opts: DsaForwardOptions = { keyMask: tf.tensor2d([[0, 1, 1]]), positions: [[0, 0, 1]] };
 * ```
 */
export interface DsaForwardOptions extends PositionOptions {
  /** [B, S] 1 for real tokens, 0 for (left) padding. */
  keyMask?: tf.Tensor;
}

/**
 * Everything one sparse pass computes.
 *
 * @example
 * ```ts
 * import type { DsaForwardResult } from '@r1-ts/attention-dsa';
 * const show = (r: DsaForwardResult) => console.log(r.y.shape, r.indices.shape);
 * ```
 */
export interface DsaForwardResult {
  /** [B, S, D] sparse attention output. */
  y: tf.Tensor3D;
  /** [B, S, S] index scores I, −inf where s > t or s is padding. */
  indexScores: tf.Tensor3D;
  /** [B, S, index_topk] int32 selected keys, ascending, −1 padded. */
  indices: tf.Tensor3D;
}

/**
 * Indexer loss of one training pass: the output and the indexer's KL (gradients: indexer only).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { SparseMla, type DsaTrainResult } from '@r1-ts/attention-dsa';
 * const dsa = new SparseMla({ hidden_size: 16, num_attention_heads: 2, q_lora_rank: 8, kv_lora_rank: 8,
 *   qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4, rope_theta: 10000, rope_scaling: null,
 *   max_position_embeddings: 64, rms_norm_eps: 1e-6, index_n_heads: 2, index_head_dim: 8, index_topk: 4 });
 * const { y, indexerLoss }: DsaTrainResult = dsa.forwardTrain(tf.randomNormal([1, 10, 16]));
 * console.log(y.shape, indexerLoss.dataSync()[0] >= 0); // [1, 10, 16] true
 * ```
 */
export interface DsaTrainResult {
  /** [B, S, D] sparse attention output (gradients reach MLA parameters and x, not the indexer). */
  y: tf.Tensor3D;
  /** Scalar indexer KL; its gradients reach only the indexer parameters. */
  indexerLoss: tf.Scalar;
}

/**
 * DeepSeek Sparse Attention (V3.2-Exp; golden/README §4.6): an {@link Mla} whose queries attend only to the
 * top-k keys a lightning {@link Indexer} selects (one set per query, shared by all heads). Parameters: the
 * MLA names plus `indexer.wq_b.weight`, `indexer.wk.weight`, `indexer.k_norm.weight`,
 * `indexer.k_norm.bias`, `indexer.weights_proj.weight`. The indexer gets no gradient from y; it learns
 * from {@link SparseMla.indexerLossDense} (warm-up) or {@link SparseMla.forwardTrain} (sparse stage).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { SparseMla } from '@r1-ts/attention-dsa';
 * const dsa = new SparseMla({ hidden_size: 16, num_attention_heads: 2, q_lora_rank: 8, kv_lora_rank: 8,
 *   qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4, rope_theta: 10000, rope_scaling: null,
 *   max_position_embeddings: 64, rms_norm_eps: 1e-6, index_n_heads: 2, index_head_dim: 8, index_topk: 4 });
 * const y = dsa.forward(tf.randomNormal([1, 10, 16])); // [1, 10, 16]
 * ```
 */
export class SparseMla extends Mla {
  override readonly config: DsaConfig;
  readonly indexer: Indexer;

  /**
   * Builds the MLA projections and the lightning indexer from a checked DSA config.
   *
   * @param config - The DSA config (checked by {@link validateDsaConfig}): the MLA fields plus the indexer's `index_*` sizes.
   * @param rng - Source of the initial weights, shared by the attention and its indexer. Default `new Rng(0)`.
   * @param initStd - Standard deviation of the normal initialisation of the projections. Default 0.02.
   */
  constructor(config: DsaConfig, rng: Rng = new Rng(0), initStd = 0.02) {
    validateDsaConfig(config);
    super(config, rng, initStd);
    this.config = config;
    this.indexer = this.child('indexer', new Indexer(config, rng, initStd));
  }

  /**
   * Expanded attention; with top-k `indices` (and no probabilities asked for) it gathers each query's
   * k selected keys instead of masking an [B, H, S, Sk] score matrix: O(S·k) work and memory
   * ({@link sparseAttention}), same result as the masked dense path. Queries, keys and values stay in
   * the projections' [B, S, H, ·] order (no transposes; one selected key's heads sit together).
   */
  override attendExpanded(
    p: Pick<MlaProjection, 'qNope' | 'qPe'>, c: tf.Tensor, kPe: tf.Tensor, masks: MlaMaskOptions = {}, returnProbs = false,
  ): { y: tf.Tensor3D; probs?: tf.Tensor4D } {
    if (!masks.indices || returnProbs) return super.attendExpanded(p, c, kPe, masks, returnProbs);
    const { num_attention_heads: H, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv } = this.config;
    const [B, Sk] = c.shape as number[];
    const S = p.qNope.shape[1] as number;
    return tf.tidy(() => {
      const q = tf.concat([p.qNope, p.qPe], -1); // [B, S, H, dn+dr]
      const kv = tf.reshape(linear(c, this.kvBProj), [B, Sk, H, dn + dv]); // [B, Sk, H, dn+dv] (V3 eqs. 2, 5)
      const kNope = tf.slice(kv, [0, 0, 0, 0], [-1, -1, -1, dn]); // [B, Sk, H, dn]
      const k = tf.concat([kNope, tf.tile(tf.reshape(kPe, [B, Sk, 1, dr]), [1, 1, H, 1])], -1); // [B, Sk, H, dn+dr] (eq. 4: k_pe shared)
      const v = tf.slice(kv, [0, 0, 0, dn], [-1, -1, -1, dv]); // [B, Sk, H, dv]
      const o = sparseAttention(q, k, v, masks.indices!, { scale: this.scale, causal: true, keyMask: masks.keyMask, layout: 'bshd' }); // [B, S, H, dv]
      return { y: linear(tf.reshape(o, [B, S, H * dv]), this.oProj) as tf.Tensor3D }; // V3 eqs. 10–11 over the selected keys
    });
  }

  /**
   * Absorbed attention in latent space (golden §4.4 "absorbed decode"); with top-k `indices` it gathers
   * each query's k selected latent entries (c, k_pe), shared by the heads (MQA), instead of masking the
   * whole cache: O(T·k·H·(C+dr)) work, nothing tiled per head.
   */
  override attendAbsorbed(p: Pick<MlaProjection, 'qNope' | 'qPe'>, c: tf.Tensor, kPe: tf.Tensor, masks: MlaMaskOptions = {}): tf.Tensor3D {
    if (!masks.indices) return super.attendAbsorbed(p, c, kPe, masks);
    return tf.tidy(() => {
      const q = this.absorbedQuery(p); // [B, T, H, C+dr]
      const k = tf.expandDims(tf.concat([c, kPe], -1), 2); // [B, Sk, 1, C+dr]: one key head shared by all heads
      const ctx = sparseAttention(q, k, tf.expandDims(c, 2), masks.indices!, { scale: this.scale, causal: true, keyMask: masks.keyMask, layout: 'bshd' }); // [B, T, H, C]
      return this.absorbedOutput(ctx);
    });
  }

  /** Index scores of new tokens (queries) against keys kI [B, Sk, Di], masked, with their top-k sets. */
  private select(p: MlaProjection, x: tf.Tensor, kI: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, keyMask?: tf.Tensor | null) {
    const [B, Sq] = x.shape as number[];
    const Sk = kI.shape[1] as number;
    const { q, w } = this.indexer.queries(stopGradient(p.qr!), stopGradient(x), cos, sin);
    const scores = this.indexer.scores(q, w, kI); // [B, Sq, Sk]
    const allowed = causalAllowed(B, Sq, Sk, keyMask); // [B, Sq, Sk]
    const indices = selectTopK(scores, allowed, this.config.index_topk); // [B, Sq, k]
    return { scores, allowed, indices };
  }

  /** The sparse pass with its index scores and selections (golden §4.6 steps 1–6). */
  forwardDetailed(x: tf.Tensor, opts: DsaForwardOptions = {}): DsaForwardResult {
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.config, B, S, opts);
      const p = this.project(x, opts);
      const kI = this.indexer.keys(stopGradient(x), cos, sin); // [B, S, Di]
      const { scores, allowed, indices } = this.select(p, x, kI, cos, sin, opts.keyMask);
      const y = this.attendExpanded(p, p.c, p.kPe, { keyMask: opts.keyMask, indices }).y; // [B, S, D]
      const indexScores = tf.where(tf.greater(allowed, 0), scores, tf.fill(scores.shape, -Infinity)) as tf.Tensor3D;
      return { y, indexScores, indices };
    });
  }

  /**
   * Sequence length from which {@link SparseMla.forward} runs the latent (MQA) form, DeepSeek-V3.2's
   * form for DSA: every query's k selected latent entries are read once and shared by all heads, where
   * the expanded form gathers per-head keys and values (H times the memory traffic). Measured on 2
   * cores (`small`, 8 heads, top-64), latent/expanded time: forward 0.94 at B8·S256, 1.00 at B2·S512,
   * 0.98 at 1024, 0.86 at 4096; forward + backward 1.04, 1.10, 0.92, 0.85. Default 1024; `Infinity`
   * keeps the expanded form, 0 always takes the latent one.
   */
  latentFrom = 1024;

  /**
   * The latent (MQA) form's weights, products of the parameters (so gradients reach them): queries
   * W_q' [H·(C+dr), R] whose head h rows are W_UK[h]ᵀ·W_q,nope[h] then W_q,pe[h] (golden §4.4's
   * absorbed query in one product), and the output W_o' [D, H·C] = Σ_h W_o[:, h]·W_UV[h].
   */
  latentWeights(): { wq: tf.Tensor2D; wo: tf.Tensor2D } {
    const { num_attention_heads: H, kv_lora_rank: C, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv, hidden_size: D } = this.config;
    return tf.tidy(() => {
      const R = this.qProj.shape[1] as number;
      // Effective weights (W + ΔW with a LoRA adapter attached): the folded products bypass `linear`.
      const [wqNope, wqPe] = tf.split(tf.reshape(effectiveLinearWeight(this.qProj), [H, dn + dr, R]), [dn, dr], 1) as tf.Tensor3D[]; // [H, dn, R], [H, dr, R]
      const [wUK, wUV] = tf.split(tf.reshape(effectiveLinearWeight(this.kvBProj), [H, dn + dv, C]), [dn, dv], 1) as tf.Tensor3D[]; // [H, dn, C], [H, dv, C]
      const wqLat = tf.matMul(wUK, wqNope, true, false); // [H, C, R]
      const wq = tf.reshape(tf.concat([wqLat, wqPe], 1), [H * (C + dr), R]) as tf.Tensor2D;
      const wOh = tf.transpose(tf.reshape(effectiveLinearWeight(this.oProj), [D, H, dv]), [1, 0, 2]) as tf.Tensor3D; // [H, D, dv]
      const wo = tf.reshape(tf.transpose(tf.matMul(wOh, wUV), [1, 0, 2]), [D, H * C]) as tf.Tensor2D; // [D, H·C]
      return { wq, wo };
    });
  }

  /**
   * The sparse forward in latent space (MQA: one key head, the latent entries [c; k_pe], shared by all
   * heads), with the absorbed weights folded into the query and output products: no per-head keys or
   * values are ever formed. Same function as the expanded form (float32 reassociation apart).
   */
  forwardLatent(x: tf.Tensor, opts: MlaForwardOptions = {}): tf.Tensor3D {
    const { num_attention_heads: H, kv_lora_rank: C, qk_rope_head_dim: dr } = this.config;
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.config, B, S, opts);
      const { wq, wo } = this.latentWeights();
      const qr = this.compressedQuery(x); // [B, S, R]
      const q4 = tf.reshape(linear(qr ?? x, wq), [B, S, H, C + dr]);
      const [qLat, qPeRaw] = tf.split(q4, [C, dr], -1); // [B, S, H, C], [B, S, H, dr]
      const q = tf.concat([qLat, applyRope(qPeRaw, cos, sin, 'interleaved')], -1); // [B, S, H, C+dr]
      const { c, kPe } = this.latentKv(x, cos, sin); // [B, S, C], [B, S, dr]
      const indices = this.fusedTopK(qr ?? x, x, cos, sin, opts.keyMask); // [B, S, k]
      const k = tf.expandDims(tf.concat([c, kPe], -1), 2); // [B, S, 1, C+dr]
      const ctx = sparseAttention(q, k, tf.expandDims(c, 2), indices, { scale: this.scale, causal: true, keyMask: opts.keyMask, layout: 'bshd' }); // [B, S, H, C]
      return linear(tf.reshape(ctx, [B, S, H * C]), wo) as tf.Tensor3D;
    });
  }

  /**
   * Training/prefill forward x [B, S, D] → y [B, S, D] with top-k sparse attention: the latent form
   * ({@link SparseMla.forwardLatent}) from {@link SparseMla.latentFrom} tokens on, the expanded form
   * below.
   */
  override forward(x: tf.Tensor, opts: MlaForwardOptions = {}): tf.Tensor3D {
    if (!hasFusedKernel('R1IndexerTopK')) return tf.tidy(() => this.forwardDetailed(x, opts).y);
    const [B, S] = x.shape as number[];
    if (S >= this.latentFrom) return this.forwardLatent(x, opts);
    return tf.tidy(() => {
      // Same selection as forwardDetailed, without the [B, S, S] index-score matrix: O(S²) cheap
      // multiply-adds in one fused kernel, O(S·k) memory; then gathered O(S·k) attention.
      const { cos, sin } = ropeTables(this.config, B, S, opts);
      const p = this.project(x, opts);
      const indices = this.fusedTopK(p.qr!, x, cos, sin, opts.keyMask); // [B, S, k]
      return this.attendExpanded(p, p.c, p.kPe, { keyMask: opts.keyMask, indices }).y;
    });
  }

  /**
   * Each query's top-k keys [B, S, k] from the indexer on (detached) x and query compression qr, through
   * the fused kernel: O(S²) cheap multiply-adds, O(S·k) memory, no [B, S, S] score matrix.
   */
  private fusedTopK(qr: tf.Tensor, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, keyMask?: tf.Tensor): tf.Tensor3D {
    const xs = stopGradient(x);
    const kI = this.indexer.keys(xs, cos, sin); // [B, S, Di]
    const { q, w } = this.indexer.queries(stopGradient(qr), xs, cos, sin); // [B, S, Hi, Di], [B, S, Hi]
    const scale = this.config.index_head_dim ** -0.5;
    return indexerTopK(q, w, kI, this.config.index_topk, { scale, keyMask }); // [B, S, k]
  }

  /**
   * Sparse-stage training pass: y plus the indexer KL whose target is the head mean of the sparse
   * attention probabilities producing y, over the selected set (golden `indexer_kl_sparse_attn`).
   * Indexer inputs and the target are detached: the indexer learns only from the KL, the model only
   * from whatever loss uses y.
   */
  forwardTrain(x: tf.Tensor, opts: DsaForwardOptions = {}): DsaTrainResult {
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.config, B, S, opts);
      const p = this.project(x, opts);
      const kI = this.indexer.keys(stopGradient(x), cos, sin);
      const { scores, indices } = this.select(p, x, kI, cos, sin, opts.keyMask);
      const { y, probs } = this.attendExpanded(p, p.c, p.kPe, { keyMask: opts.keyMask, indices }, true);
      const target = stopGradient(tf.mean(probs!, 1)); // [B, S, S] head mean
      const indexerLoss = indexerKl(scores, target, selectionMask(indices, S)); // V3.2-Exp eq. 5
      return { y, indexerLoss };
    });
  }

  /** Sparse-stage indexer loss alone ({@link SparseMla.forwardTrain} without y). */
  indexerLossSparse(x: tf.Tensor, opts: DsaForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => this.forwardTrain(x, opts).indexerLoss);
  }

  /**
   * Dense warm-up indexer loss (V3.2-Exp eq. 3): KL between the dense causal attention summed over heads
   * and L1-normalised (the head mean) and softmax(I) over the causal keys; mean over all B·S rows.
   * Gradients reach only the indexer parameters.
   */
  indexerLossDense(x: tf.Tensor, opts: DsaForwardOptions = {}): tf.Scalar {
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.config, B, S, opts);
      const p = this.project(x, opts);
      const probs = this.attendExpanded(p, p.c, p.kPe, { keyMask: opts.keyMask }, true).probs!; // [B, H, S, S]
      const target = stopGradient(tf.mean(probs, 1)); // [B, S, S]
      const xs = stopGradient(x);
      const { q, w } = this.indexer.queries(stopGradient(p.qr!), xs, cos, sin);
      const scores = this.indexer.scores(q, w, this.indexer.keys(xs, cos, sin)); // [B, S, S]
      return indexerKl(scores, target, causalAllowed(B, S, S, opts.keyMask));
    });
  }

  /**
   * Sparse prefill: the sparse forward of x [B, S, D] that also fills a {@link DsaCache} (MLA latents and
   * indexer keys). A non-empty cache is attended to and gives the default positions.
   */
  override prefill(x: tf.Tensor, opts: DsaForwardOptions & { cache?: DsaCache } = {}): { y: tf.Tensor3D; cache: DsaCache } {
    const cache = opts.cache ?? new DsaCache();
    const y = tf.tidy(() => this.step(x, cache, opts, false));
    return { y, cache };
  }

  /**
   * Sparse absorbed decode of the next T tokens x [B, T, D]: appends to the cache, scores every cached
   * key with the indexer, keeps the top-k and attends in latent space. Equals the matching rows of
   * {@link SparseMla.forward} on the whole sequence.
   */
  override decode(x: tf.Tensor, cache: DsaCache, opts: DsaForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.step(x, cache, opts, true));
  }

  private step(x: tf.Tensor, cache: DsaCache, opts: DsaForwardOptions, absorbed: boolean): tf.Tensor3D {
    const [B, T] = x.shape as number[];
    const pos = this.positionsAfter(x, cache, opts);
    const { cos, sin } = ropeTables(this.config, B, T, pos);
    const p = this.project(x, pos);
    cache.append(p.c, p.kPe, opts.keyMask);
    cache.appendIndexKeys(this.indexer.keys(stopGradient(x), cos, sin));
    const keyMask = cache.keyMask ?? undefined;
    const { indices } = this.select(p, x, cache.indexKeys!, cos, sin, keyMask);
    const masks = { keyMask, indices };
    return absorbed ? this.attendAbsorbed(p, cache.c!, cache.kPe!, masks) : this.attendExpanded(p, cache.c!, cache.kPe!, masks).y;
  }
}
