import type * as tf from '@tensorflow/tfjs';
import type { LinearHeadOptions, LoadableTensor } from '@r1-ts/tensor-kernels';
import type { ForwardResult, HiddenResult, LayerRouting, LossOptions, LossResult, SequenceOptions } from './model';

/**
 * A decode cache of a {@link CausalLM}: filled by the first cached forward (prefill), extended by
 * later ones (decode), freed by `dispose`.
 *
 * @example
 * ```ts
 * import type { DecodeCache } from '@r1-ts/model';
 * const none: DecodeCache = { dispose() {} };
 * ```
 */
export interface DecodeCache {
  dispose(): void;
}

/**
 * What generation, log-probs, the policy and the trainers need of a model: every family
 * (`DeepSeekModel`, `DenseModel`) implements it, so they take any of them.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DenseModel, type CausalLM } from '@r1-ts/model';
 * const model: CausalLM = new DenseModel({ model_type: 'llama', vocab_size: 32, hidden_size: 16, intermediate_size: 32,
 *   num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
 * console.log(model.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32')).logits.shape); // [1, 2, 32]
 * ```
 */
export interface CausalLM<C extends DecodeCache = DecodeCache> {
  /** The Hugging Face config (at least these fields). */
  readonly config: { vocab_size: number; hidden_size: number; max_position_embeddings: number; num_hidden_layers: number };
  /** The `model_type` config.json names (`llama`, `qwen2`, `qwen3`, `deepseek_v3`, ...). */
  readonly modelType: string;
  /** Recompute each decoder layer in backward instead of keeping its activations (memory for time). */
  gradientCheckpointing?: boolean;
  /** Logits [B, S, V] over tokens [B, S]; with a cache: prefill when empty, decode after. */
  forward(tokens: tf.Tensor, opts?: SequenceOptions, cache?: C): ForwardResult;
  /** {@link CausalLM.forward} without the head: hidden states [B, S, D] before the final norm. */
  forwardHidden(tokens: tf.Tensor, opts?: SequenceOptions, cache?: C): HiddenResult;
  /**
   * log softmax(head(hidden) / τ)[target] per position [B, S] from hidden states [B, S, D] (before
   * the final norm), differentiable, without holding the logits [B, S, V] whole (the head runs over
   * chunks of positions; see `linearTokenLogProbs`).
   */
  tokenLogProbs(hidden: tf.Tensor, targets: tf.Tensor, options?: LinearHeadOptions): tf.Tensor;
  /** Entropy of softmax(head(hidden) / τ) per position [B, S], chunked likewise; not differentiable. */
  tokenEntropy(hidden: tf.Tensor, options?: LinearHeadOptions): tf.Tensor;
  /** Training loss (next-token cross-entropy over `lossMask`, plus the family's auxiliary losses). */
  loss(tokens: tf.Tensor, opts?: LossOptions): LossResult;
  /** An empty decode cache. */
  newCache(): C;
  /** tokens [B, S] → embeddings [B, S, D]. */
  embed(tokens: tf.Tensor): tf.Tensor3D;
  /** Hidden states [B, S, D] (before the final norm) → logits [B, S, V]. */
  head(hidden: tf.Tensor): tf.Tensor3D;
  /** Aux-loss-free MoE balancing after an optimizer step (no-op without MoE). */
  updateMoeBiases(routing: Pick<LayerRouting, 'layer' | 'expertLoad'>[], gamma?: number): void;
  /** Every parameter under its Hugging Face name. */
  namedParameters(prefix?: string): Map<string, tf.Variable>;
  trainableVariables(): tf.Variable[];
  parameterCount(): number;
  loadState(state: Map<string, LoadableTensor>, options?: { prefix?: string; strict?: boolean; allowMissing?: (name: string) => boolean }): void;
  /** An independent model with the same config and weights (e.g. GRPO's reference). */
  clone(): CausalLM<C>;
  dispose(): void;
}
