import * as tf from '@tensorflow/tfjs';
import { afterOpenThink } from './chat_template';
import type { Tokenizer } from './tokenizer';

/**
 * A supervised example: the user prompt and the assistant's completion (R1 format for reasoning).
 *
 * @example
 * ```ts
 * import { CharTokenizer, encodeExample, type SftExample } from '@r1-ts/model';
 * const ex: SftExample = { prompt: 'What is 2+2?', completion: '<think>2+2=4</think><answer>4</answer>' };
 * const tok = CharTokenizer.fromCorpus([ex.prompt, ex.completion]);
 * console.log(encodeExample(tok, ex).promptLength); // tokens of the rendered prompt
 * ```
 */
export interface SftExample {
  prompt: string;
  completion: string;
}

/**
 * A right-padded token batch with a per-token loss mask over the targets.
 *
 * @example
 * ```ts
 * import { collate, type TokenBatch } from '@r1-ts/model';
 * const batch: TokenBatch = collate([[1, 2, 3, 4], [5, 6]], [2, 1], 0);
 * console.log(batch.lengths, batch.lossMask.arraySync()); // [4, 2] [[0,1,1,0],[1,0,0,0]]
 * ```
 */
export interface TokenBatch {
  /** [B, S] int32 token ids, right-padded with the pad id. */
  tokens: tf.Tensor2D;
  /**
   * [B, S] float32: mask[b, t] = 1 when the prediction of tokens[b, t+1] from position t counts in
   * the loss (a completion token); the last column is always 0.
   */
  lossMask: tf.Tensor2D;
  /** Real (unpadded) length of each row. */
  lengths: number[];
}

/**
 * Token ids of one example: the prompt as a user turn through the tokenizer's chat template with the
 * generation prompt (masked out of the loss), then the completion and eos (trained on). When the
 * generation prompt already opens `<think>` (R1-Distill), the completion's own `<think>` is dropped.
 *
 * @param tokenizer - The model's tokenizer; its chat template renders the prompt.
 * @param example - `prompt` (user text) and the `completion` to train on.
 *
 * @example
 * ```ts
 * import { CharTokenizer, encodeExample } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?', '2']);
 * const { ids, promptLength } = encodeExample(tok, { prompt: '1+1?', completion: '2' });
 * console.log(ids.length - promptLength); // 2 (the '2' and eos)
 * ```
 */
export function encodeExample(tokenizer: Tokenizer, example: SftExample): { ids: number[]; promptLength: number } {
  const promptText = tokenizer.applyChatTemplate([{ role: 'user', content: example.prompt }], { addGenerationPrompt: true });
  const prompt = tokenizer.encode(promptText);
  const completion = tokenizer.encode(afterOpenThink(example.completion, promptText));
  return { ids: [...prompt, ...completion, tokenizer.special.eos], promptLength: prompt.length };
}

/**
 * Pads sequences into a batch. `completionStart[b]` is the index of row b's first trained token:
 * targets before it are masked out (SFT trains on completion tokens only).
 *
 * @param sequences - Token ids of each row, any lengths.
 * @param completionStart - Per row, the index of the first token trained on (the prompt length); targets before it are masked.
 * @param padId - Token id used to right-pad shorter rows (masked out of the loss).
 * @param maxLength - Truncate rows to this many tokens. Default: the longest row.
 *
 * @example
 * ```ts
 * import { collate } from '@r1-ts/model';
 * const batch = collate([[1, 2, 3], [4, 5]], [1, 1], 0);
 * console.log(batch.tokens.arraySync(), batch.lossMask.arraySync()); // [[1,2,3],[4,5,0]] [[1,1,0],[1,0,0]]
 * ```
 */
export function collate(sequences: number[][], completionStart: number[], padId: number, maxLength?: number): TokenBatch {
  const S = Math.min(maxLength ?? Infinity, sequences.reduce((m, s) => Math.max(m, s.length), 0));
  const B = sequences.length;
  const tokens = new Int32Array(B * S).fill(padId);
  const mask = new Float32Array(B * S);
  const lengths: number[] = [];
  sequences.forEach((seq, b) => {
    const n = Math.min(seq.length, S);
    lengths.push(n);
    for (let t = 0; t < n; t++) tokens[b * S + t] = seq[t];
    // Position t predicts token t+1: trained when t+1 is a completion token.
    for (let t = Math.max(0, completionStart[b] - 1); t < n - 1; t++) mask[b * S + t] = 1;
  });
  return { tokens: tf.tensor2d(tokens, [B, S], 'int32'), lossMask: tf.tensor2d(mask, [B, S]), lengths };
}

/**
 * Encodes and collates SFT examples.
 *
 * @param tokenizer - The model's tokenizer (chat template, pad and eos ids).
 * @param examples - Prompt/completion pairs, one row each.
 * @param maxLength - Truncate rows to this many tokens. Default: the longest row.
 *
 * @example
 * ```ts
 * import { CharTokenizer, sftBatch } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?', '2']);
 * const batch = sftBatch(tok, [{ prompt: '1+1?', completion: '2' }]);
 * console.log(batch.tokens.shape); // [1, 9]
 * ```
 */
export function sftBatch(tokenizer: Tokenizer, examples: SftExample[], maxLength?: number): TokenBatch {
  const enc = examples.map((e) => encodeExample(tokenizer, e));
  return collate(enc.map((e) => e.ids), enc.map((e) => e.promptLength), tokenizer.special.pad, maxLength);
}
