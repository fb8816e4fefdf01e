import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@r1-ts/tensor-kernels';
import { generate, leftPad } from './generate';
import type { CausalLM } from './causal_lm';
import type { DeepSeekModel } from './model';
import { openThinkSuffix } from './chat_template';
import type { Tokenizer } from './tokenizer';
import { checkOptionKeys } from './option_keys';

/**
 * A sampled completion, in the shape `@r1-ts/grpo`'s `Policy.generate` returns.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { CharTokenizer, DeepSeekModel, DeepSeekPolicy, presets, type PolicyCompletion } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?']);
 * const policy = new DeepSeekPolicy(new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }), tok);
 * const [c]: PolicyCompletion[] = policy.generate(['1+1?'], { temperature: 1, topP: 1, maxNewTokens: 3, rng: new Rng(0) });
 * console.log(c.completionIds.length === c.logProbs.length); // true
 * ```
 */
export interface PolicyCompletion {
  promptIds: number[];
  completionIds: number[];
  /**
   * The completion's text, preceded by the `<think>` opening the prompt's generation prompt already
   * wrote (R1-Distill's template), so rewards see the whole `<think>…</think>` block.
   */
  text: string;
  logProbs: number[];
  truncated: boolean;
}

/**
 * Prompt + completion rows to score, in the shape of `@r1-ts/grpo`'s `SequenceBatch`; completions
 * are right-padded to `width` columns.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, DeepSeekPolicy, presets, type PolicySequences } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?', '2']);
 * const policy = new DeepSeekPolicy(new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }), tok);
 * const batch: PolicySequences = { promptIds: [tok.encode('1+1?'), tok.encode('1?')], completionIds: [tok.encode('2'), []], width: 2 };
 * console.log(policy.logProbs(batch).shape); // [2, 2]
 * ```
 */
export interface PolicySequences {
  promptIds: ReadonlyArray<readonly number[]>;
  completionIds: ReadonlyArray<readonly number[]>;
  width: number;
}

/**
 * A model (any {@link CausalLM}: DeepSeekModel, DenseModel) with its tokenizer as a policy for RL trainers: it implements
 * `@r1-ts/grpo`'s `Policy` interface structurally (this package does not depend on grpo). Text
 * prompts are rendered as a user turn with the tokenizer's chat template; the MoE expert biases are updated after every
 * optimizer step from the expert loads of the passes since the last one.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { CharTokenizer, DeepSeekModel, DeepSeekPolicy, presets } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?', '2']);
 * const policy = new DeepSeekPolicy(new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }), tok);
 * const [c] = policy.generate(['1+1?'], { temperature: 1, topP: 1, maxNewTokens: 4, rng: new Rng(0) });
 * console.log(c.completionIds.length <= 4);
 * ```
 */
export class DeepSeekPolicy<M extends CausalLM<any> = DeepSeekModel> {
  private frozen = false;
  /** Expert loads of the passes since the last optimizer step (summed per layer at the update). */
  private loads: { layer: number; expertLoad: Int32Array }[] = [];

  /**
   * A GRPO policy over a causal LM: generation, log-probabilities, entropies and training variables.
   *
   * @param model - The causal LM to sample from and train.
   * @param tokenizer - Its tokenizer: encodes prompts and decodes completions.
   * @param options - `chatTemplate`: render text prompts as a user turn with the generation prompt (default true; false feeds them raw); `biasUpdateGamma`: MoE load-balancing bias step after each update (default: the model's, 0.001).
   */
  constructor(
    readonly model: M,
    readonly tokenizer: Tokenizer,
    readonly options: { chatTemplate?: boolean; biasUpdateGamma?: number } = {},
  ) {
    checkOptionKeys(options, 'DeepSeekPolicy');
  }

  /** Token ids of a prompt (text is chat-rendered unless `chatTemplate: false`). */
  encodePrompt(prompt: string | readonly number[]): number[] {
    if (typeof prompt !== 'string') return [...prompt];
    const text = this.options.chatTemplate === false ? prompt : this.tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true });
    return this.tokenizer.encode(text);
  }

  /** Samples one completion per prompt with the latent cache; no tensors are left behind. */
  generate(prompts: readonly (string | readonly number[])[], options: { temperature: number; topP: number; maxNewTokens: number; rng: Rng }): PolicyCompletion[] {
    const ids = prompts.map((p) => this.encodePrompt(p));
    const results = generate(this.model, this.tokenizer, ids, {
      temperature: options.temperature, topP: options.topP, maxNewTokens: options.maxNewTokens, rng: options.rng,
    });
    return results.map((r, i) => ({
      promptIds: ids[i], completionIds: r.tokens, text: openThinkSuffix(this.tokenizer.decode(ids[i])) + r.text, logProbs: r.logProbs, truncated: r.truncated,
    }));
  }

  /**
   * log p(completion tokens | prompt) [N, width], differentiable. Prompts are left-padded so every
   * completion starts at the same column.
   */
  logProbs(batch: PolicySequences, options: { temperature?: number } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { tokens, keyMask, positions, P } = this.layout(batch);
      const { hidden, routing } = this.model.forwardHidden(tokens, { keyMask, positions });
      for (const r of routing) this.loads.push({ layer: r.layer, expertLoad: r.expertLoad });
      const [N, , D] = hidden.shape;
      const h = tf.slice(hidden, [0, P - 1, 0], [N, batch.width, D]); // [N, T, D]: position P−1+t predicts completion token t
      return this.model.tokenLogProbs(h, tf.slice(tokens, [0, P], [N, batch.width]), { temperature: options.temperature ?? 1 }) as tf.Tensor2D;
    });
  }

  /** Per-token entropy [N, width] of the temperature-scaled next-token distribution (no gradient). */
  entropy(batch: PolicySequences, options: { temperature?: number } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { tokens, keyMask, positions, P } = this.layout(batch);
      const { hidden } = this.model.forwardHidden(tokens, { keyMask, positions });
      const [N, , D] = hidden.shape;
      return this.model.tokenEntropy(tf.slice(hidden, [0, P - 1, 0], [N, batch.width, D]), { temperature: options.temperature ?? 1 }) as tf.Tensor2D;
    });
  }

  /** Left-padded prompts followed by right-padded completions of width `batch.width`. */
  private layout(batch: PolicySequences) {
    const pad = this.tokenizer.special.pad;
    const { tokens: promptTokens, keyMask: promptMask, positions: promptPos } = leftPad(batch.promptIds.map((p) => [...p]), pad);
    const P = promptTokens.shape[1];
    const T = batch.width;
    const N = batch.promptIds.length;
    const comp = new Int32Array(N * T).fill(pad);
    batch.completionIds.forEach((c, i) => c.forEach((id, t) => t < T && (comp[i * T + t] = id)));
    const tokens = tf.concat([promptTokens, tf.tensor2d(comp, [N, T], 'int32')], 1); // [N, P+T]
    const keyMask = tf.concat([promptMask, tf.ones([N, T])], 1); // [N, P+T]
    const positions = promptPos.map((row) => {
      const start = row[row.length - 1] + 1;
      return [...row, ...Array.from({ length: T }, (_, t) => start + t)];
    });
    return { tokens, keyMask, positions, P };
  }

  /** The model's trainable variables (none once frozen). */
  trainableVariables(): tf.Variable[] {
    return this.frozen ? [] : this.model.trainableVariables();
  }

  /** An independent copy with the same weights (the reference model). */
  clone(): DeepSeekPolicy<M> {
    return new DeepSeekPolicy(this.model.clone() as M, this.tokenizer, this.options);
  }

  /** No trainable variables from now on. */
  freeze(): void {
    this.frozen = true;
  }

  /** Aux-loss-free balancing from the expert loads seen since the last optimizer step. */
  afterOptimizerStep(): void {
    if (this.frozen) return;
    this.model.updateMoeBiases(this.loads, this.options.biasUpdateGamma);
    this.loads = [];
  }

  /** Frees the model. */
  dispose(): void {
    this.model.dispose();
  }
}
