import * as tf from '@tensorflow/tfjs';
import { ConfigError, Module, Rng, linear, linearEntropy, linearTokenLogProbs, rmsNorm } from '@r1-ts/tensor-kernels';
import type { Init, LinearHeadOptions } from '@r1-ts/tensor-kernels';
import type { CausalLM } from '../causal_lm';
import { maskedMeanNll } from '../model';
import type { ForwardResult, HiddenResult, LossOptions, LossResult, SequenceOptions } from '../model';
import { GqaAttention } from './attention';
import { denseParts, parseDenseConfig } from './config';
import type { DenseConfig, DenseParts } from './config';
import { KvCache } from './kv_cache';
import { checkpointedDenseLayer } from '../block_checkpoint';
import { SwiGluMlp } from './mlp';
import { denseRope, denseRopeTables } from './rope';
import type { DenseRope } from './rope';
import type { InitAt } from './init';
import { initDefault, initUnder } from './init';
import { checkOptionKeys } from '../option_keys';

/**
 * One pre-norm decoder layer of the dense families: h ← h + Attn(RMSNorm(h)); h ← h + SwiGLU(RMSNorm(h))
 * (golden/README §7.2).
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { DenseDecoderLayer, denseParts, parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'llama', vocab_size: 8, hidden_size: 16, intermediate_size: 8, num_hidden_layers: 1,
 *   num_attention_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
 * console.log([...new DenseDecoderLayer(c, denseParts(c), new Rng(0)).namedParameters().keys()].length); // 9
 * ```
 */
export class DenseDecoderLayer extends Module {
  readonly inputLayernorm: tf.Variable;
  readonly selfAttn: GqaAttention;
  readonly postAttentionLayernorm: tf.Variable;
  readonly mlp: SwiGluMlp;

  /**
   * One dense decoder layer: RMSNorm → attention → residual, RMSNorm → SwiGLU MLP → residual.
   *
   * @param config - The validated dense config.
   * @param parts - Which biases and norms the family has (from {@link denseParts}).
   * @param rng - Generator of the initial weights.
   * @param at - Init per parameter name. Default: the fallback init.
   */
  constructor(readonly config: DenseConfig, parts: DenseParts, rng: Rng, at: InitAt = initDefault) {
    super(rng);
    const D = config.hidden_size;
    this.inputLayernorm = this.param('input_layernorm.weight', [D], at('input_layernorm.weight', { constant: 1 }, [D]));
    this.selfAttn = this.child('self_attn', new GqaAttention(config, parts, rng, initUnder(at, 'self_attn.')));
    this.postAttentionLayernorm = this.param('post_attention_layernorm.weight', [D], at('post_attention_layernorm.weight', { constant: 1 }, [D]));
    this.mlp = this.child('mlp', new SwiGluMlp(D, config.intermediate_size, parts.mlpBias, rng, initUnder(at, 'mlp.')));
  }

  /** h [B, S, D] → h. */
  forward(h: tf.Tensor, ctx: Parameters<GqaAttention['forward']>[1]): tf.Tensor3D {
    const eps = this.config.rms_norm_eps;
    return tf.tidy(() => {
      const h1 = tf.add(h, this.selfAttn.forward(rmsNorm(h, this.inputLayernorm, eps), ctx)); // [B, S, D]
      return tf.add(h1, this.mlp.forward(rmsNorm(h1, this.postAttentionLayernorm, eps))) as tf.Tensor3D;
    });
  }
}

/**
 * Options of the {@link DenseModel} constructor.
 *
 * @example
 * ```ts
 * import type { DenseModelOptions } from '@r1-ts/model';
 * const forLoading: DenseModelOptions = { init: 'empty' }; // zeros; the loader overwrites every weight
 * ```
 */
export interface DenseModelOptions {
  seed?: number;
  rng?: Rng;
  /** `random` (default): N(0, 0.02) weights; `empty`: zeros, cheap when a checkpoint overwrites them. */
  init?: 'random' | 'empty';
  /**
   * The values of each parameter by its checkpoint name (what a loader supplies): the model is built
   * straight from them, with no placeholder weights allocated first. Overrides `init`.
   */
  weights?: (name: string, shape: number[]) => Float32Array;
  /** Activation checkpointing of every decoder layer (see {@link DenseModel.gradientCheckpointing}). Default false. */
  gradientCheckpointing?: boolean;
}

/**
 * The one decoder of the dense families (Hugging Face `llama`, `qwen2`, `qwen3`): embed → layers →
 * RMSNorm → head (tied to the embeddings when `tie_word_embeddings`). A family is only data here:
 * its config and the parts {@link denseParts} picks from it. Parameter names are the checkpoints'
 * (`model.layers.0.self_attn.q_proj.weight`); every projection goes through `linear`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DenseModel } from '@r1-ts/model';
 * const model = new DenseModel({ model_type: 'qwen3', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2,
 *   num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, max_position_embeddings: 64, rms_norm_eps: 1e-6 }, { seed: 0 });
 * const { logits } = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
 * console.log(logits.shape); // [1, 3, 32]
 * ```
 */
export class DenseModel extends Module implements CausalLM<KvCache> {
  readonly config: DenseConfig;
  readonly parts: DenseParts;
  readonly rope: DenseRope;
  readonly embedTokens: tf.Variable;
  readonly layers: DenseDecoderLayer[];
  readonly norm: tf.Variable;
  /** Null when tied: the head is `embedTokens`. */
  readonly lmHead: tf.Variable | null;
  /**
   * Activation checkpointing (transformers' `gradient_checkpointing`): under a gradient tape each
   * decoder layer is recomputed in backward instead of keeping its intermediates. Same gradients,
   * less memory, one more forward of the layers. Default false.
   */
  gradientCheckpointing: boolean;

  /**
   * A dense decoder (llama / qwen2 / qwen3 family) from its config.
   *
   * @param config - A `config.json` object of a supported dense family (validated with {@link parseDenseConfig}).
   * @param options - `seed` (default 0) or `rng` of the initial weights; `init`: `random` (default) or `empty` (zeros, for loading); `weights`: name and shape → values to use instead; `gradientCheckpointing` (default false).
   */
  constructor(config: unknown, options: DenseModelOptions = {}) {
    super(options.rng ?? new Rng(options.seed ?? 0));
    checkOptionKeys(options, 'DenseModel');
    this.gradientCheckpointing = options.gradientCheckpointing ?? false;
    const c = (this.config = parseDenseConfig(config));
    this.parts = denseParts(c);
    this.rope = denseRope(c);
    const { weights } = options;
    const empty = options.init === 'empty';
    // Every parameter's initial values: the supplied weights, else zeros ('empty', norms stay 1), else the default.
    const at: InitAt = (name, fallback, shape) => (weights ? weights(name, shape ?? []) : empty && 'normal' in fallback ? { constant: 0 } : fallback);
    const D = c.hidden_size;
    const std: Init = { normal: 0.02 };
    const p = (name: string, shape: number[], fallback: Init) => this.param(name, shape, at(name, fallback, shape));
    this.embedTokens = p('model.embed_tokens.weight', [c.vocab_size, D], std);
    this.layers = Array.from({ length: c.num_hidden_layers }, (_, i) =>
      this.child(`model.layers.${i}`, new DenseDecoderLayer(c, this.parts, this.rng, initUnder(at, `model.layers.${i}.`))));
    this.norm = p('model.norm.weight', [D], { constant: 1 });
    this.lmHead = c.tie_word_embeddings ? null : p('lm_head.weight', [c.vocab_size, D], std);
  }

  get modelType(): string {
    return this.config.model_type;
  }

  /** tokens [B, S] int32 → embeddings [B, S, D] (no scaling). */
  embed(tokens: tf.Tensor): tf.Tensor3D {
    return tf.gather(this.embedTokens, tokens) as tf.Tensor3D;
  }

  /** Logits [B, S, V] from hidden states (final norm + head). */
  head(hidden: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => linear(rmsNorm(hidden, this.norm, this.config.rms_norm_eps), this.lmHead ?? this.embedTokens) as tf.Tensor3D);
  }

  /**
   * log softmax(head(hidden) / τ)[target] per position from hidden states [B, S, D] (before the
   * final norm): the final norm, then the head and the log-softmax over chunks of positions
   * (`linearTokenLogProbs`), so the logits [B, S, V] are never whole in memory. Differentiable.
   *
   * @param hidden - Hidden states [B, S, D] before the final norm ({@link DenseModel.forwardHidden}).
   * @param targets - Token ids [B, S] int32 (outside [0, V): 0, no gradient).
   * @param options - `temperature` τ (default 1); `chunkRows` positions per chunk.
   */
  tokenLogProbs(hidden: tf.Tensor, targets: tf.Tensor, options: LinearHeadOptions = {}): tf.Tensor {
    return tf.tidy(() => linearTokenLogProbs(rmsNorm(hidden, this.norm, this.config.rms_norm_eps), this.lmHead ?? this.embedTokens, targets, options));
  }

  /**
   * Entropy of softmax(head(hidden) / τ) per position [B, S], over chunks of positions; not differentiable.
   *
   * @param hidden - Hidden states [B, S, D] before the final norm.
   * @param options - `temperature` τ (default 1); `chunkRows` positions per chunk.
   */
  tokenEntropy(hidden: tf.Tensor, options: LinearHeadOptions = {}): tf.Tensor {
    return tf.tidy(() => linearEntropy(rmsNorm(hidden, this.norm, this.config.rms_norm_eps), this.lmHead ?? this.embedTokens, options));
  }

  /** The model over tokens [B, S]; see {@link DenseModel.forwardEmbeds}. */
  forward(tokens: tf.Tensor, opts: SequenceOptions = {}, cache?: KvCache): ForwardResult {
    return this.forwardEmbeds(this.embed(tokens), opts, cache);
  }

  /** {@link DenseModel.forward} without the head: the hidden states [B, S, D] before the final norm. */
  forwardHidden(tokens: tf.Tensor, opts: SequenceOptions = {}, cache?: KvCache): HiddenResult {
    return { hidden: this.decode(this.embed(tokens), opts, cache), routing: [] };
  }

  /**
   * The model from input embeddings h0 [B, S, D] (transformers' `inputs_embeds`). Positions: explicit
   * `positions`/`startPos`, else each row continues after the cache, else 0 … S−1. With a cache,
   * the first call fills it and later calls attend to everything cached.
   */
  forwardEmbeds(h0: tf.Tensor, opts: SequenceOptions = {}, cache?: KvCache): ForwardResult {
    const h = this.decode(h0, opts, cache);
    return { logits: this.head(h), hidden: h, routing: [] };
  }

  /** The decoder layers over input embeddings h0 [B, S, D] → hidden states before the final norm. */
  private decode(h0: tf.Tensor, opts: SequenceOptions, cache?: KvCache): tf.Tensor3D {
    const [B, S] = h0.shape as number[];
    const positions = this.positionsOf(B, S, opts, cache);
    if (cache) {
      cache.appendMask(opts.keyMask ?? tf.ones([B, S]));
      cache.nextPositions = positions.map((row) => row[S - 1] + 1);
    }
    const keyMask = cache ? cache.keyMask! : opts.keyMask;
    const { cos, sin } = denseRopeTables(this.rope, positions); // [B, S, hd/2]
    let h = h0 as tf.Tensor3D;
    // Intermediates stay alive for the gradient tape; callers run this inside tf.tidy.
    this.layers.forEach((layer, i) => {
      if (this.gradientCheckpointing && !cache) h = checkpointedDenseLayer(layer, h, { cos, sin, keyMask });
      else h = layer.forward(h, { cos, sin, keyMask, cache: cache ? (k, v) => cache.append(i, k, v) : undefined });
    });
    return h;
  }

  private positionsOf(B: number, S: number, opts: SequenceOptions, cache?: KvCache): number[][] {
    let rows: number[][];
    const p = opts.positions;
    if (p !== undefined) rows = p instanceof tf.Tensor ? (p.arraySync() as number[][]) : p;
    else if (opts.startPos !== undefined) rows = Array.from({ length: B }, () => Array.from({ length: S }, (_, t) => opts.startPos! + t));
    else if (cache && cache.length > 0) rows = cache.nextPositions.map((n) => Array.from({ length: S }, (_, t) => n + t));
    else rows = Array.from({ length: B }, () => Array.from({ length: S }, (_, t) => t));
    if (rows.length !== B || rows.some((r) => r.length !== S || r.some((v) => !Number.isInteger(v) || v < 0))) {
      throw new ConfigError(`positions must be [${B}][${S}] non-negative integers (one per token), got ${rows.length} rows`, ['positions']);
    }
    return rows;
  }

  /** An empty KV cache (one k/v slot per layer). */
  newCache(): KvCache {
    return new KvCache(this.layers.length);
  }

  /**
   * Next-token cross-entropy on tokens [B, S] over `lossMask` (default: every position but the
   * last). Dense families have no auxiliary losses. Call inside `tf.tidy`/`tf.variableGrads`.
   */
  loss(tokens: tf.Tensor, opts: LossOptions = {}): LossResult {
    const [B, S] = tokens.shape as number[];
    const { hidden } = this.forwardHidden(tokens, opts);
    const mask = opts.lossMask ? tf.slice(opts.lossMask, [0, 0], [B, S - 1]) : tf.ones([B, S - 1]); // [B, S−1]
    const D = this.config.hidden_size;
    const lp = this.tokenLogProbs(tf.slice(hidden, [0, 0, 0], [B, S - 1, D]), tf.slice(tokens, [0, 1], [B, S - 1])); // [B, S−1]
    const ce = maskedMeanNll(lp, mask);
    return { total: ce, ce, mtp: null, balance: null, indexer: null, routing: [] };
  }

  /** No MoE: nothing to balance. */
  updateMoeBiases(): void {}

  /** An independent copy with the same config and weights. */
  clone(): DenseModel {
    const copy = new DenseModel(this.config, { init: 'empty' });
    copy.loadState(this.namedParameters());
    return copy;
  }
}
