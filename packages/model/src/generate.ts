import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng } from '@r1-ts/tensor-kernels';
import type { CausalLM } from './causal_lm';
import type { SequenceOptions } from './model';
import { resolveSampling, sampleToken } from './sampling';
import type { SamplingOptions } from './sampling';
import type { Tokenizer } from './tokenizer';
import { checkOptionKeys } from './option_keys';

/**
 * One generated token, as the streaming callback sees it.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, generate, presets, type TokenEvent } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['abc']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const stream = (e: TokenEvent) => { console.log(e.row, e.index, JSON.stringify(e.text)); };
 * generate(model, tok, [tok.encode('ab')], { maxNewTokens: 3, onToken: stream });
 * ```
 */
export interface TokenEvent {
  /** Which prompt of the batch. */
  row: number;
  /** The token id and its text. */
  id: number;
  text: string;
  /** log-probability under the temperature-scaled distribution. */
  logProb: number;
  /** 0-based index of this token in the completion. */
  index: number;
}

/**
 * Options of {@link generate}.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, generate, presets, type GenerateOptions } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['<answer>4</answer>']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const options: GenerateOptions = { maxNewTokens: 6, temperature: 0.6, topP: 0.95, seed: 3, stopStrings: ['</answer>'] };
 * const [res] = generate(model, tok, [tok.encode('<answer>')], options);
 * console.log(res.finishReason); // 'stop' or 'length'
 * ```
 */
export interface GenerateOptions extends SamplingOptions {
  /** Maximum completion tokens per prompt. */
  maxNewTokens: number;
  /**
   * Token ids that end a completion (kept in `tokens`). Default: the tokenizer's eos and every
   * `eos_token_id` of the model's config ({@link eosTokenIds}); pass generation_config.json's too.
   */
  stopIds?: number[];
  /** Strings that end a completion; the text is cut before the first one (OpenAI convention). */
  stopStrings?: string[];
  /** Seed of the sampling RNG (ignored when `rng` is given). Default 0. */
  seed?: number;
  /** Sampling RNG; advanced in place, so a trainer can continue its stream. */
  rng?: Rng;
  /** Decode with the model's cache (MLA latents, dense KV; default true); false recomputes the whole prefix per token. */
  useCache?: boolean;
  /** Streaming callback, called per token per row. Return `false` to stop that row. */
  onToken?: (event: TokenEvent) => void | boolean;
  /** Stop every row early (e.g. on client disconnect); checked between tokens. */
  signal?: AbortSignal;
}

/**
 * One completion of {@link generate}.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, generate, presets, type GenerationResult } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['abc']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const [res]: GenerationResult[] = generate(model, tok, [tok.encode('a')], { maxNewTokens: 4, temperature: 0 });
 * console.log(res.tokens.length === res.logProbs.length, res.truncated === (res.finishReason === 'length')); // true true
 * ```
 */
export interface GenerationResult {
  /** Completion token ids (the stop id included when one ended it). */
  tokens: number[];
  /** Decoded completion, cut before a stop string, special tokens dropped. */
  text: string;
  /** Per-token log-probabilities (same length as `tokens`). */
  logProbs: number[];
  /** True when `maxNewTokens` ran out before a stop. */
  truncated: boolean;
  /** Why the completion ended. */
  finishReason: 'stop' | 'length' | 'abort';
}

/**
 * Every id that ends a generation: the tokenizer's eos plus the `eos_token_id` of each source that
 * has one (generation_config.json, config.json: a number or a list, e.g. Llama 3's
 * `[128001, 128008, 128009]`), in that order, without repeats.
 *
 * @param tokenizer - The tokenizer, whose `special.eos` comes first; null when there is none.
 * @param sources - Parsed config objects that may carry `eos_token_id` (a number or a list), e.g. generation_config.json then config.json; null or undefined ones are skipped.
 *
 * @example
 * ```ts
 * import { CharTokenizer, eosTokenIds } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['ab']);
 * console.log(eosTokenIds(tok, { eos_token_id: [7, 9] }, { eos_token_id: 7 })); // [tok.special.eos, 7, 9]
 * ```
 */
export function eosTokenIds(tokenizer: Pick<Tokenizer, 'special'> | null, ...sources: (object | null | undefined)[]): number[] {
  const ids = new Set<number>(tokenizer ? [tokenizer.special.eos] : []);
  for (const s of sources) {
    const v = (s as { eos_token_id?: unknown } | null | undefined)?.eos_token_id;
    for (const id of Array.isArray(v) ? v : [v]) if (Number.isInteger(id) && (id as number) >= 0) ids.add(id as number);
  }
  return [...ids];
}

/**
 * Left-pads prompts into one batch: tokens [B, P], key mask and per-row positions (each row's first
 * real token at position 0).
 *
 * @param prompts - Token ids per row, any lengths (each at least one token).
 * @param padId - Token id written into the padding (masked out by the key mask).
 *
 * @example
 * ```ts
 * import { leftPad } from '@r1-ts/model';
 * const b = leftPad([[5, 6, 7], [8]], 0);
 * console.log(b.tokens.arraySync(), b.positions); // [[5,6,7],[0,0,8]] [[0,1,2],[0,0,0]]
 * ```
 */
export function leftPad(prompts: number[][], padId: number): { tokens: tf.Tensor2D; keyMask: tf.Tensor2D; positions: number[][] } {
  const P = Math.max(...prompts.map((p) => p.length));
  const B = prompts.length;
  const tokens = new Int32Array(B * P).fill(padId);
  const mask = new Float32Array(B * P);
  const positions: number[][] = [];
  prompts.forEach((p, b) => {
    const pad = P - p.length;
    positions.push(Array.from({ length: P }, (_, t) => Math.max(0, t - pad)));
    p.forEach((id, t) => {
      tokens[b * P + pad + t] = id;
      mask[b * P + pad + t] = 1;
    });
  });
  return { tokens: tf.tensor2d(tokens, [B, P], 'int32'), keyMask: tf.tensor2d(mask, [B, P]), positions };
}

/**
 * Samples completions for a batch of prompts (token ids, any lengths) with the MLA latent cache:
 * one prefill of the left-padded batch, then one decode step per token. Seeded; streaming through
 * `onToken`.
 *
 * @param model - Any causal LM of r1-ts (DeepSeek or dense family); run in inference mode.
 * @param tokenizer - Its tokenizer: eos and pad ids, and decoding of `stopStrings`.
 * @param prompts - Prompt token ids per row (e.g. from `renderChat` then `encode`), any lengths; left-padded into one batch.
 * @param options - `maxNewTokens`, sampling (`temperature`, `topP`, `topK`), `stopIds` / `stopStrings`, `seed` or `rng`, `useCache` (default true), `onToken` streaming and an abort `signal`.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, generate, presets, renderChat } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['What is 1+1?']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const prompt = tok.encode(renderChat([{ role: 'user', content: 'What is 1+1?' }]));
 * const [res] = generate(model, tok, [prompt], { maxNewTokens: 8, temperature: 0.6, seed: 1 });
 * console.log(res.tokens.length <= 8, res.truncated);
 * ```
 */
export function generate(model: CausalLM<any>, tokenizer: Tokenizer, prompts: number[][], options: GenerateOptions): GenerationResult[] {
  checkOptionKeys(options, 'generate');
  const sampling = resolveSampling(options);
  const { maxNewTokens, useCache = true } = options;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new ConfigError(`maxNewTokens must be a positive integer, got ${maxNewTokens}`, ['maxNewTokens']);
  }
  if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new ConfigError('every prompt needs at least one token', ['prompts']);
  const longest = Math.max(...prompts.map((p) => p.length));
  if (longest + maxNewTokens > model.config.max_position_embeddings) {
    throw new ConfigError(
      `prompt (${longest}) + maxNewTokens (${maxNewTokens}) exceeds max_position_embeddings (${model.config.max_position_embeddings})`,
      ['maxNewTokens'],
    );
  }
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const stopIds = new Set(options.stopIds ?? eosTokenIds(tokenizer, model.config));
  const B = prompts.length;
  const rows = prompts.map(() => ({ tokens: [] as number[], logProbs: [] as number[], done: null as GenerationResult['finishReason'] | null, cut: -1 }));
  const padded = leftPad(prompts, tokenizer.special.pad);
  const cache = useCache ? model.newCache() : null;
  // Without a cache the whole (growing) sequence is re-run; keep its ids, mask and positions.
  const seq = padded.tokens.arraySync() as number[][];
  const mask = padded.keyMask.arraySync() as number[][];
  const pos = padded.positions.map((r) => [...r]);
  let next: number[] = [];
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      if (options.signal?.aborted) {
        rows.forEach((r) => (r.done ??= 'abort'));
        break;
      }
      const logits = tf.tidy(() => {
        let out;
        if (cache && step > 0) out = model.forwardHidden(tf.tensor2d(next, [B, 1], 'int32'), {}, cache);
        else {
          const opts: SequenceOptions = { keyMask: tf.tensor2d(mask), positions: pos };
          out = model.forwardHidden(tf.tensor2d(seq, undefined, 'int32'), opts, cache ?? undefined);
        }
        return lastPositionLogits(model, out.hidden);
      });
      const values = logits.dataSync() as Float32Array;
      const V = logits.shape[1] as number;
      logits.dispose();
      next = [];
      for (let b = 0; b < B; b++) {
        const r = rows[b];
        if (r.done) {
          next.push(tokenizer.special.pad);
          continue;
        }
        const s = sampleToken(values.subarray(b * V, (b + 1) * V), sampling, rng);
        r.tokens.push(s.id);
        r.logProbs.push(s.logProb);
        next.push(s.id);
        const keep = options.onToken?.({ row: b, id: s.id, text: tokenizer.decode([s.id], { skipSpecial: true }), logProb: s.logProb, index: r.tokens.length - 1 });
        if (stopIds.has(s.id) || keep === false) r.done = 'stop';
        else if (options.stopStrings?.length) {
          const text = tokenizer.decode(r.tokens, { skipSpecial: true });
          const hit = options.stopStrings.map((st) => text.indexOf(st)).filter((i) => i >= 0);
          if (hit.length) {
            r.done = 'stop';
            r.cut = Math.min(...hit);
          }
        }
      }
      if (rows.every((r) => r.done)) break;
      for (let b = 0; b < B; b++) {
        seq[b].push(next[b]);
        mask[b].push(1); // finished rows keep going on padding; their outputs are ignored
        pos[b].push(pos[b][pos[b].length - 1] + 1);
      }
    }
  } finally {
    cache?.dispose();
    padded.tokens.dispose();
    padded.keyMask.dispose();
  }
  return rows.map((r) => {
    let text = tokenizer.decode(r.tokens, { skipSpecial: true });
    if (r.cut >= 0) text = text.slice(0, r.cut);
    const finishReason = r.done ?? 'length';
    return { tokens: r.tokens, text, logProbs: r.logProbs, truncated: finishReason === 'length', finishReason };
  });
}

/**
 * The logits [B, V] of the last position of hidden states [B, S, D] (before the final norm): the
 * head on that position only, so a prefill's logits [B, S, V] are never made.
 *
 * @param model - The causal LM whose head to apply.
 * @param hidden - Hidden states [B, S, D] ({@link CausalLM.forwardHidden}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, lastPositionLogits, presets } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const { hidden } = model.forwardHidden(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
 * console.log(lastPositionLogits(model, hidden).shape); // [1, vocab_size]
 * ```
 */
export function lastPositionLogits(model: CausalLM<any>, hidden: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, S, D] = hidden.shape as number[];
    return tf.reshape(model.head(tf.slice(hidden, [0, S - 1, 0], [B, 1, D])), [B, -1]) as tf.Tensor2D;
  });
}

/**
 * Per-token log-probabilities log p(tokens[t+1] | tokens[≤t]) [B, S−1] — differentiable, the
 * quantity GRPO optimises. `temperature` divides the logits first (as sampling did).
 *
 * @param model - The causal LM (training or inference mode).
 * @param tokens - Token ids [B, S] (int32), prompt and completion together.
 * @param options - `keyMask` [B, S] for left padding, `indexerLoss` for DSA models, and `temperature` that divides the logits (default 1).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, logProbs, presets } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const lp = logProbs(model, tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32')); // [1, 3]
 * ```
 */
export function logProbs(model: CausalLM<any>, tokens: tf.Tensor, options: SequenceOptions & { temperature?: number } = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, S] = tokens.shape as number[];
    const { temperature, ...sequence } = options;
    const { hidden } = model.forwardHidden(tokens, sequence);
    const D = hidden.shape[2];
    const t = temperature !== undefined && temperature > 0 ? temperature : 1;
    return model.tokenLogProbs(tf.slice(hidden, [0, 0, 0], [B, S - 1, D]), tf.slice(tokens, [0, 1], [B, S - 1]), { temperature: t }) as tf.Tensor2D;
  });
}
