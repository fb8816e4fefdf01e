import * as tf from '@tensorflow/tfjs';
import { Module, Rng, linearEntropy, linearTokenLogProbs, rmsNorm } from '@r1-ts/tensor-kernels';
import type { LinearHeadOptions } from '@r1-ts/tensor-kernels';
import { Mla, MlaCache } from '@r1-ts/attention-mla';
import type { PositionOptions } from '@r1-ts/attention-mla';
import { DsaCache, SparseMla } from '@r1-ts/attention-dsa';
import { DenseMlp, ExpertLoadTracker, MoE, sequenceBalanceLoss } from '@r1-ts/moe';
import type { MoeOutput } from '@r1-ts/moe';
import { parseConfig, usesDsa } from './config';
import type { DeepSeekConfig, DeepSeekConfigInput } from './config';
import type { CausalLM } from './causal_lm';
import { checkpointedBlock } from './block_checkpoint';
import type { CheckpointedBlockOutput } from './block_checkpoint';
import { checkOptionKeys } from './option_keys';

/**
 * Where the tokens of a call sit and which keys are padding.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type SequenceOptions } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * // Row 0 is left-padded by one token: its real tokens sit at positions 0, 1.
 * const opts: SequenceOptions = { keyMask: tf.tensor2d([[0, 1, 1], [1, 1, 1]]), positions: [[0, 0, 1], [0, 1, 2]] };
 * const { logits } = model.forward(tf.tensor2d([[0, 5, 6], [4, 5, 6]], [2, 3], 'int32'), opts);
 * console.log(logits.shape); // [2, 3, 64]
 * ```
 */
export interface SequenceOptions extends PositionOptions {
  /** [B, S] 1 for real tokens, 0 for (left) padding. */
  keyMask?: tf.Tensor;
  /**
   * DSA training (V3.2-Exp §2.1): `'dense'` runs dense attention and adds each indexer's KL to the
   * dense attention (warm-up); `'sparse'` runs top-k attention and adds the indexer's KL over its
   * selection (sparse stage). Indexer inputs are detached either way. Ignored without DSA.
   */
  indexerLoss?: 'dense' | 'sparse';
}

/**
 * Routing of one MoE layer during a forward pass.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type LayerRouting } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const routing: LayerRouting[] = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')).routing;
 * for (const r of routing) console.log(r.layer, Array.from(r.expertLoad)); // tokens per expert
 * ```
 */
export interface LayerRouting {
  /** Layer index (num_hidden_layers for the MTP module). */
  layer: number;
  /** Expert loads c_i of this pass (V3 §2.1.2). */
  expertLoad: Int32Array;
  /** Selected experts [B, S, K] (int32; disposed with the pass's tidy). */
  topkIdx: tf.Tensor3D;
  /** Unbiased scores [B, S, E] (differentiable), input of the sequence balance loss. */
  scores: tf.Tensor3D;
}

/**
 * What {@link DeepSeekModel.forward} returns.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type ForwardResult } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const out: ForwardResult = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
 * console.log(out.logits.shape, out.hidden.shape, out.routing.length); // [1, 3, 64] [1, 3, 64] 2
 * ```
 */
export interface ForwardResult extends HiddenResult {
  /** [B, S, V] */
  logits: tf.Tensor3D;
}

/**
 * What {@link DeepSeekModel.forwardHidden} returns: the decoder's output without the head, for
 * code that applies the head itself ({@link DeepSeekModel.tokenLogProbs} over chunks, or the last
 * position only).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type HiddenResult } from '@r1-ts/model';
 * const out: HiddenResult = new DeepSeekModel(presets.tiny).forwardHidden(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
 * console.log(out.hidden.shape); // [1, 3, hidden_size]
 * ```
 */
export interface HiddenResult {
  /** Last hidden state before the final norm [B, S, D] (the MTP module's input). */
  hidden: tf.Tensor3D;
  /** One entry per MoE layer. */
  routing: LayerRouting[];
  /** Sum of the DSA indexer losses, when `indexerLoss` was requested. */
  indexerLoss?: tf.Scalar;
}

/**
 * −Σ m·lp / max(Σ m, 1): the masked mean negative log-likelihood of per-token log-probs lp [B, T]
 * (what `maskedCrossEntropy` computes from logits).
 *
 * @param lp - Per-token log-probabilities [B, T].
 * @param mask - 0/1 weights [B, T].
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { maskedMeanNll } from '@r1-ts/model';
 * maskedMeanNll(tf.tensor2d([[-1, -3]]), tf.tensor2d([[1, 0]])).print(); // 1
 * ```
 */
export function maskedMeanNll(lp: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.neg(tf.sum(tf.mul(lp, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar);
}

/**
 * Per-layer decode caches of a generation (from {@link DeepSeekModel.newCache}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type ModelCache } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const cache: ModelCache = model.newCache();
 * model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), {}, cache); // prefill
 * const { logits } = model.forward(tf.tensor2d([[4]], [1, 1], 'int32'), {}, cache); // decode: position 3
 * console.log(logits.shape); // [1, 1, 64]
 * cache.dispose();
 * ```
 */
export interface ModelCache {
  layers: MlaCache[];
  dispose(): void;
}

/**
 * One decoder layer (V3 §2.1): h ← h + Attn(RMSNorm(h)); h ← h + FFN(RMSNorm(h)), where Attn is MLA
 * (or DSA when the config has `index_topk`) and FFN is a dense SwiGLU for the first
 * `first_k_dense_replace` layers and DeepSeekMoE after.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { Block, parseConfig, presets } from '@r1-ts/model';
 * const block = new Block(parseConfig(presets.tiny), 1, new Rng(0));
 * const { h } = block.forward(tf.randomNormal([1, 4, 64]));
 * console.log(h.shape); // [1, 4, 64]
 * ```
 */
export class Block extends Module {
  readonly inputLayernorm: tf.Variable;
  readonly postAttentionLayernorm: tf.Variable;
  readonly selfAttn: Mla;
  readonly mlp: DenseMlp | MoE;

  /**
   * One decoder layer: RMSNorm → attention → residual, RMSNorm → MLP or MoE → residual.
   *
   * @param config - The validated model config.
   * @param layerIndex - 0-based layer number; decides the parameter names (`model.layers.<i>.…`).
   * @param rng - Generator of the layer's initial weights.
   * @param dense - True for a dense SwiGLU MLP, false for the MoE. Default: the first `first_k_dense_replace` layers are dense.
   */
  constructor(readonly config: DeepSeekConfig, readonly layerIndex: number, rng: Rng, dense = layerIndex < config.first_k_dense_replace) {
    super(rng);
    const D = config.hidden_size;
    const std = 0.02;
    this.inputLayernorm = this.param('input_layernorm.weight', [D], { constant: 1 });
    this.selfAttn = this.child('self_attn', usesDsa(config) ? new SparseMla(config as never, rng, std) : new Mla(config, rng, std));
    this.postAttentionLayernorm = this.param('post_attention_layernorm.weight', [D], { constant: 1 });
    this.mlp = this.child('mlp', dense ? new DenseMlp({ hidden_size: D, intermediate_size: config.intermediate_size }, rng) : new MoE(config, rng));
  }

  /** h [B, S, D] → h; with a cache, attention appends to it (prefill when empty, decode after). */
  forward(h: tf.Tensor, opts: SequenceOptions = {}, cache?: MlaCache): { h: tf.Tensor3D; moe: MoeOutput | null; indexerLoss?: tf.Scalar } {
    const eps = this.config.rms_norm_eps;
    const x = rmsNorm(h, this.inputLayernorm, eps); // [B, S, D]
    let a: tf.Tensor3D;
    let indexerLoss: tf.Scalar | undefined;
    const attn = this.selfAttn;
    if (!cache && opts.indexerLoss && attn instanceof SparseMla) {
      if (opts.indexerLoss === 'dense') {
        a = Mla.prototype.forward.call(attn, x, opts); // the dense model the warm-up imitates
        indexerLoss = attn.indexerLossDense(x, opts);
      } else {
        const r = attn.forwardTrain(x, opts);
        a = r.y;
        indexerLoss = r.indexerLoss;
      }
    } else if (!cache) a = this.selfAttn.forward(x, opts);
    else if (cache.length === 0) a = this.selfAttn.prefill(x, { ...opts, cache }).y;
    else a = this.selfAttn.decode(x, cache, opts);
    const h1 = tf.add(h, a); // [B, S, D]
    const m = rmsNorm(h1, this.postAttentionLayernorm, eps);
    if (this.mlp instanceof MoE) {
      const out = this.mlp.forwardWithRouting(m as tf.Tensor3D);
      return { h: tf.add(h1, out.y) as tf.Tensor3D, moe: out, indexerLoss };
    }
    return { h: tf.add(h1, this.mlp.forward(m)) as tf.Tensor3D, moe: null, indexerLoss };
  }
}

/**
 * The multi-token-prediction module (V3 §2.2): from the main model's hidden state at t and the
 * embedding of token t+1, predicts token t+2 through eh_proj, one decoder layer (with an MoE FFN)
 * and the shared head. Parameter names follow the checkpoint: `model.layers.{N}.enorm` etc.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { MtpModule, parseConfig, presets } from '@r1-ts/model';
 * const mtp = new MtpModule(parseConfig(presets.tiny), new Rng(0));
 * console.log(mtp.namedParameters().has('eh_proj.weight')); // true
 * ```
 */
export class MtpModule extends Block {
  readonly enorm: tf.Variable;
  readonly hnorm: tf.Variable;
  readonly ehProj: tf.Variable;
  readonly sharedHeadNorm: tf.Variable;
  readonly sharedHead: tf.Variable;

  /**
   * The multi-token-prediction module (layer `num_hidden_layers`), which predicts the token after next.
   *
   * @param config - The validated model config.
   * @param rng - Generator of the module's initial weights.
   */
  constructor(config: DeepSeekConfig, rng: Rng) {
    super(config, config.num_hidden_layers, rng, false);
    const D = config.hidden_size;
    this.enorm = this.param('enorm.weight', [D], { constant: 1 });
    this.hnorm = this.param('hnorm.weight', [D], { constant: 1 });
    this.ehProj = this.param('eh_proj.weight', [D, 2 * D], { normal: 0.02 });
    this.sharedHeadNorm = this.param('shared_head.norm.weight', [D], { constant: 1 });
    this.sharedHead = this.param('shared_head.head.weight', [config.vocab_size, D], { normal: 0.02 });
  }

  /**
   * Logits [B, S−2, V] predicting tokens[t+2] from hidden[t] (before the final norm) and
   * embed(tokens[t+1]), t = 0 … S−3.
   */
  predict(hidden: tf.Tensor3D, nextEmbeds: tf.Tensor3D): { logits: tf.Tensor3D; moe: MoeOutput | null } {
    const { h, moe } = this.forward(this.blockInput(hidden, nextEmbeds));
    const normed = rmsNorm(h, this.sharedHeadNorm, this.config.rms_norm_eps);
    const [B, S, D] = h.shape;
    const logits = tf.reshape(tf.matMul(tf.reshape(normed, [-1, D]), this.sharedHead, false, true), [B, S, -1]);
    return { logits: logits as tf.Tensor3D, moe };
  }

  /**
   * log-probs [B, S−2] of tokens[t+2] (`targets`) from hidden[t] and embed(tokens[t+1]): {@link
   * MtpModule.predict} with its head over chunks of positions (the logits are never whole).
   *
   * @param hidden - The main model's hidden states [B, S, D] before its final norm.
   * @param nextEmbeds - Embeddings of the tokens [B, S, D] (position t+1 is read for t).
   * @param targets - Token ids [B, S−2] int32: tokens[t+2].
   * @param options - `gradientCheckpointing`: recompute the module's block in backward (default false).
   */
  predictLogProbs(hidden: tf.Tensor3D, nextEmbeds: tf.Tensor3D, targets: tf.Tensor, options: { gradientCheckpointing?: boolean } = {}): { logProbs: tf.Tensor; moe: CheckpointedBlockOutput['moe'] } {
    const h0 = this.blockInput(hidden, nextEmbeds);
    const { h, moe } = options.gradientCheckpointing ? checkpointedBlock(this, h0, {}) : this.forward(h0);
    const normed = rmsNorm(h, this.sharedHeadNorm, this.config.rms_norm_eps);
    return { logProbs: linearTokenLogProbs(normed, this.sharedHead, targets), moe };
  }

  /** The block's input [B, S−2, D]: eh_proj of [RMSNorm(embed(t+1)); RMSNorm(hidden(t))]. */
  private blockInput(hidden: tf.Tensor3D, nextEmbeds: tf.Tensor3D): tf.Tensor3D {
    const eps = this.config.rms_norm_eps;
    const [B, S, D] = hidden.shape;
    const e = rmsNorm(tf.slice(nextEmbeds, [0, 1, 0], [B, S - 2, D]), this.enorm, eps); // [B, S−2, D] embed(t+1)
    const h = rmsNorm(tf.slice(hidden, [0, 0, 0], [B, S - 2, D]), this.hnorm, eps); // [B, S−2, D]
    const u = tf.concat([e, h], -1); // [B, S−2, 2D], embedding first (V3 eq. 21)
    return tf.reshape(tf.matMul(tf.reshape(u, [-1, 2 * D]), this.ehProj, false, true), [B, S - 2, D]) as tf.Tensor3D;
  }
}

/**
 * Options of {@link DeepSeekModel.loss}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type LossOptions } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * // SFT: learn only the completion, the last two tokens (mask[t] = 1: predicting token t+1 counts).
 * const opts: LossOptions = { lossMask: tf.tensor2d([[0, 0, 1, 1, 0]]), mtpLambda: 0.1 };
 * const { total } = model.loss(tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32'), opts);
 * console.log(total.dataSync()[0] > 0); // true
 * ```
 */
export interface LossOptions extends SequenceOptions {
  /**
   * [B, S] float: mask[b, t] = 1 when predicting tokens[b, t+1] counts (SFT: completion tokens only).
   * Default: every position but the last.
   */
  lossMask?: tf.Tensor;
  /** MTP loss weight λ (V3 §2.2.2: 0.3, later 0.1). Default 0.3; ignored without an MTP module. */
  mtpLambda?: number;
  /** Sequence-wise balance loss weight α (V3 eq. 17). Default `config.aux_loss_alpha`. */
  balanceAlpha?: number;
}

/**
 * The loss and its parts (plain numbers are read after the pass; `total` is differentiable).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets, type LossResult } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const parts: LossResult = model.loss(tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32'));
 * console.log(parts.ce.dataSync()[0], parts.mtp?.dataSync()[0], parts.balance?.dataSync()[0]);
 * ```
 */
export interface LossResult {
  total: tf.Scalar;
  ce: tf.Scalar;
  mtp: tf.Scalar | null;
  balance: tf.Scalar | null;
  /** Sum of the DSA indexer KLs (when `indexerLoss` was requested). */
  indexer: tf.Scalar | null;
  routing: LayerRouting[];
}

/**
 * The DeepSeek-V3 decoder (optionally with V3.2's sparse attention): embed → blocks → RMSNorm →
 * untied head, plus the MTP module when `num_nextn_predict_layers` is 1. Parameter names are the
 * Hugging Face checkpoint names (`model.layers.1.self_attn.kv_b_proj.weight`, `lm_head.weight`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, presets } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const { logits } = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
 * console.log(logits.shape); // [1, 3, 64]
 * ```
 */
export class DeepSeekModel extends Module implements CausalLM<ModelCache> {
  readonly config: DeepSeekConfig;
  readonly embedTokens: tf.Variable;
  readonly layers: Block[];
  readonly norm: tf.Variable;
  readonly lmHead: tf.Variable;
  readonly mtp: MtpModule | null;
  /**
   * Activation checkpointing (transformers' `gradient_checkpointing`): under a gradient tape each
   * decoder layer is recomputed in backward instead of keeping its intermediates. Same gradients,
   * less memory, one more forward of the layers. Default false.
   */
  gradientCheckpointing: boolean;

  /**
   * Builds the model with freshly initialised weights.
   *
   * @param config - The model config (validated with {@link parseConfig}): sizes, MoE, MLA/DSA attention and MTP depth.
   * @param options - `seed` of the initial weights (default 0) or an explicit `rng`; `gradientCheckpointing` recomputes each layer in backward (default false). Unknown keys are a ConfigError.
   */
  constructor(config: DeepSeekConfigInput, options: { seed?: number; rng?: Rng; gradientCheckpointing?: boolean } = {}) {
    super(options.rng ?? new Rng(options.seed ?? 0));
    checkOptionKeys(options, 'DeepSeekModel');
    this.gradientCheckpointing = options.gradientCheckpointing ?? false;
    const c = (this.config = parseConfig(config));
    const D = c.hidden_size;
    this.embedTokens = this.param('model.embed_tokens.weight', [c.vocab_size, D], { normal: 0.02 });
    this.layers = Array.from({ length: c.num_hidden_layers }, (_, i) => this.child(`model.layers.${i}`, new Block(c, i, this.rng)));
    this.mtp = c.num_nextn_predict_layers ? this.child(`model.layers.${c.num_hidden_layers}`, new MtpModule(c, this.rng)) : null;
    this.norm = this.param('model.norm.weight', [D], { constant: 1 });
    this.lmHead = this.param('lm_head.weight', [c.vocab_size, D], { normal: 0.02 });
  }

  /** The config's `model_type`; without one, `deepseek_v32` when the config selects DSA, else `deepseek_v3`. */
  get modelType(): string {
    const t = (this.config as Record<string, unknown>).model_type;
    return typeof t === 'string' ? t : usesDsa(this.config) ? 'deepseek_v32' : 'deepseek_v3';
  }

  /** An independent copy with the same config and weights. */
  clone(): DeepSeekModel {
    const copy = new DeepSeekModel(this.config, { seed: 0 });
    copy.loadState(this.namedParameters());
    return copy;
  }

  /** tokens [B, S] int32 → embeddings [B, S, D] (no scaling). */
  embed(tokens: tf.Tensor): tf.Tensor3D {
    return tf.gather(this.embedTokens, tokens) as tf.Tensor3D;
  }

  /** Logits [B, S, V] from hidden states (final norm + head). */
  head(hidden: tf.Tensor): tf.Tensor3D {
    const [B, S, D] = hidden.shape as number[];
    const n = rmsNorm(hidden, this.norm, this.config.rms_norm_eps);
    return tf.reshape(tf.matMul(tf.reshape(n, [B * S, D]) as tf.Tensor2D, this.lmHead, false, true), [B, S, -1]) as tf.Tensor3D;
  }

  /**
   * log softmax(head(hidden) / τ)[target] per position from hidden states [B, S, D] (before the
   * final norm): the final norm, then the head and the log-softmax over chunks of positions
   * (`linearTokenLogProbs`), so the logits [B, S, V] are never whole in memory. Differentiable.
   *
   * @param hidden - Hidden states [B, S, D] before the final norm ({@link DeepSeekModel.forwardHidden}).
   * @param targets - Token ids [B, S] int32 (outside [0, V): 0, no gradient).
   * @param options - `temperature` τ (default 1); `chunkRows` positions per chunk.
   */
  tokenLogProbs(hidden: tf.Tensor, targets: tf.Tensor, options: LinearHeadOptions = {}): tf.Tensor {
    return tf.tidy(() => linearTokenLogProbs(rmsNorm(hidden, this.norm, this.config.rms_norm_eps), this.lmHead, targets, options));
  }

  /**
   * Entropy of softmax(head(hidden) / τ) per position [B, S], over chunks of positions; not differentiable.
   *
   * @param hidden - Hidden states [B, S, D] before the final norm.
   * @param options - `temperature` τ (default 1); `chunkRows` positions per chunk.
   */
  tokenEntropy(hidden: tf.Tensor, options: LinearHeadOptions = {}): tf.Tensor {
    return tf.tidy(() => linearEntropy(rmsNorm(hidden, this.norm, this.config.rms_norm_eps), this.lmHead, options));
  }

  /**
   * The main model over tokens [B, S]. With a cache, attention runs incrementally: the first call
   * fills it (prefill) and later calls decode the new tokens.
   */
  forward(tokens: tf.Tensor, opts: SequenceOptions = {}, cache?: ModelCache): ForwardResult {
    const out = this.forwardHidden(tokens, opts, cache);
    return { logits: this.head(out.hidden), ...out };
  }

  /** {@link DeepSeekModel.forward} without the head: the hidden states [B, S, D] before the final norm. */
  forwardHidden(tokens: tf.Tensor, opts: SequenceOptions = {}, cache?: ModelCache): HiddenResult {
    let h = this.embed(tokens); // [B, S, D]
    const routing: LayerRouting[] = [];
    const indexer: tf.Scalar[] = [];
    this.layers.forEach((block, i) => {
      const out = this.gradientCheckpointing && !cache ? checkpointedBlock(block, h, opts) : block.forward(h, opts, cache?.layers[i]);
      h = out.h;
      if (out.moe) routing.push({ layer: i, expertLoad: out.moe.expertLoad, topkIdx: out.moe.topkIdx, scores: out.moe.scores });
      if (out.indexerLoss) indexer.push(out.indexerLoss);
    });
    const indexerLoss = indexer.length ? (tf.addN(indexer) as tf.Scalar) : undefined;
    return { hidden: h, routing, indexerLoss };
  }

  /** An empty cache for {@link DeepSeekModel.forward} (one latent cache per layer; DSA adds the indexer keys). */
  newCache(): ModelCache {
    const layers = this.layers.map((b) => (b.selfAttn instanceof SparseMla ? new DsaCache() : new MlaCache()));
    return { layers, dispose: () => layers.forEach((c) => c.dispose()) };
  }

  /**
   * Training loss on tokens [B, S]: next-token cross-entropy over `lossMask`, + λ·MTP loss (token
   * t+2 from position t, masked likewise), + α·sequence balance loss of every MoE layer.
   * Call inside `tf.tidy`/`tf.variableGrads`.
   */
  loss(tokens: tf.Tensor, opts: LossOptions = {}): LossResult {
    const [B, S] = tokens.shape as number[];
    const { hidden, routing, indexerLoss } = this.forwardHidden(tokens, opts);
    const D = this.config.hidden_size;
    const mask = opts.lossMask ? tf.slice(opts.lossMask, [0, 0], [B, S - 1]) : tf.ones([B, S - 1]); // [B, S−1]
    const targets = tf.slice(tokens, [0, 1], [B, S - 1]); // [B, S−1]
    const ce = maskedMeanNll(this.tokenLogProbs(tf.slice(hidden, [0, 0, 0], [B, S - 1, D]), targets), mask);
    let total: tf.Scalar = ce;
    let mtp: tf.Scalar | null = null;
    if (this.mtp && S >= 3) {
      const out = this.mtp.predictLogProbs(hidden, this.embed(tokens), tf.slice(tokens, [0, 2], [B, S - 2]), { gradientCheckpointing: this.gradientCheckpointing });
      if (out.moe) routing.push({ layer: this.config.num_hidden_layers, expertLoad: out.moe.expertLoad, topkIdx: out.moe.topkIdx, scores: out.moe.scores });
      // Position t of the MTP logits predicts token t+2; it counts when the main mask at t+1 does.
      const mtpMask = opts.lossMask ? tf.slice(opts.lossMask, [0, 1], [B, S - 2]) : tf.ones([B, S - 2]);
      mtp = maskedMeanNll(out.logProbs, mtpMask);
      total = tf.add(total, tf.mul(mtp, opts.mtpLambda ?? 0.3));
    }
    const alpha = opts.balanceAlpha ?? this.config.aux_loss_alpha;
    let balance: tf.Scalar | null = null;
    if (alpha > 0 && routing.length) {
      balance = tf.addN(routing.map((r) => sequenceBalanceLoss(r.scores, r.topkIdx, alpha))) as tf.Scalar;
      total = tf.add(total, balance);
    }
    if (indexerLoss) total = tf.add(total, indexerLoss);
    return { total, ce, mtp, balance, routing, indexer: indexerLoss ?? null };
  }

  /** Aux-loss-free balancing after an optimizer step: every MoE layer's bias from its loads. */
  updateMoeBiases(routing: { layer: number; expertLoad: ArrayLike<number> }[], gamma?: number): void {
    const blocks = [...this.layers, ...(this.mtp ? [this.mtp] : [])];
    const perLayer = new Map<number, ExpertLoadTracker>();
    for (const r of routing) {
      const tracker = perLayer.get(r.layer) ?? new ExpertLoadTracker(r.expertLoad.length);
      tracker.add(r.expertLoad);
      perLayer.set(r.layer, tracker);
    }
    for (const [layer, tracker] of perLayer) {
      const mlp = blocks[layer].mlp;
      if (mlp instanceof MoE && mlp.gate.eScoreCorrectionBias) mlp.updateBias(tracker.loads, gamma);
    }
  }
}
