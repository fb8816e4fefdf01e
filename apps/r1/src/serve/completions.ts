// Token-level generation endpoints for rollout clients (GRPO trainers):
//   POST /v1/completions  vLLM's OpenAI completions: `prompt` as text or token ids, `logprobs: 0`,
//                         `return_tokens_as_token_ids` (tokens rendered `token_id:<n>`), `return_token_ids`
//   POST /generate        SGLang's native API: `input_ids`, `sampling_params`, `return_logprob`
// Every answer names the weights version it was sampled from (`weights_version`, and the
// `x-weights-version` header), so a trainer can tell stale rollouts from fresh ones.
import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { Tokenizer } from '@r1-ts/model';
import { choiceSeed } from './engine';
import type { Engine, SequenceResult } from './engine';
import { ApiError, OPENAI_SAMPLING, validateBody } from './schema';
import type { SamplingDefaults } from './schema';

const ids = z.array(z.number().int().min(0)).min(1);

const completionsSchema = z.object({
  model: z.string().min(1),
  prompt: z.union([z.string().min(1), ids, z.array(z.string().min(1)).min(1), z.array(ids).min(1)]),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.number().int().min(1).max(64).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string().min(1)).max(4)]).nullish(),
  // Only the sampled token's logprob is computed: top-k alternatives would need a sort per step.
  logprobs: z.literal(0).nullish(),
  return_tokens_as_token_ids: z.boolean().nullish(),
  return_token_ids: z.boolean().nullish(),
  stream: z.literal(false).nullish(),
  echo: z.literal(false).nullish(),
});

const generateSchema = z.object({
  text: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  input_ids: z.union([ids, z.array(ids).min(1)]).optional(),
  sampling_params: z.object({
    max_new_tokens: z.number().int().min(1).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    n: z.number().int().min(1).max(64).nullish(),
    sampling_seed: z.number().int().nullish(),
    stop: z.union([z.string(), z.array(z.string().min(1)).max(4)]).nullish(),
  }).nullish(),
  return_logprob: z.boolean().nullish(),
  lora_path: z.string().nullish(),
  stream: z.literal(false).nullish(),
});

/** What a token-level request asks the engine for, after validation. */
export interface TokenRequest {
  /** The `model` (vLLM) or `lora_path` (SGLang) it names; null = whatever is served. */
  model: string | null;
  prompts: number[][];
  /** Whether each prompt was a single (non-batched) input: SGLang answers an object, not a list. */
  single: boolean;
  maxTokens: number | null;
  temperature: number;
  topP: number;
  n: number;
  seed: number;
  stop: string[];
}

/** Runs every (prompt, choice) of a request; rejects with ApiError 400 when one does not fit the context. */
export async function runTokenRequest(engine: Engine, r: TokenRequest, signal: AbortSignal): Promise<SequenceResult[][]> {
  const limit = engine.model.config.max_position_embeddings;
  const vocab = engine.model.config.vocab_size;
  r.prompts.forEach((p, i) => {
    const bad = p.find((t) => t >= vocab);
    if (bad !== undefined) throw new ApiError(400, `prompt ${i}: token id ${bad} is outside the vocabulary (size ${vocab})`, { param: 'prompt', code: 'invalid_token_id' });
    const want = p.length + (r.maxTokens ?? 1);
    if (want > limit) {
      throw new ApiError(400, `This model's maximum context length is ${limit} tokens. However, you requested ${want} tokens (${p.length} in the prompt, ${r.maxTokens ?? 1} in the completion).`, {
        param: 'prompt', code: 'context_length_exceeded',
      });
    }
  });
  return Promise.all(r.prompts.map((prompt, i) => Promise.all(Array.from({ length: r.n }, (_, j) => engine.submit({
    prompt,
    maxTokens: r.maxTokens ?? limit - prompt.length,
    seed: choiceSeed(r.seed, i * r.n + j),
    stop: r.stop,
    signal,
    sampling: { temperature: r.temperature, topP: r.topP },
  })))));
}

/**
 * Validates a `/v1/completions` body (vLLM's dialect). Text prompts are tokenized as they are (no chat
 * template). `max_tokens` defaults to 16 as in OpenAI's API.
 *
 * @example
 * ```ts
 * import { CharTokenizer } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['ab']);
 * const r = parseCompletionsRequest({ model: 'r1-ts', prompt: [3, 4], logprobs: 0, n: 2 }, tok);
 * console.log(r.prompts, r.n, r.maxTokens); // [[3, 4]] 2 16
 * ```
 */
export function parseCompletionsRequest(body: unknown, tokenizer: Tokenizer, defaults: SamplingDefaults = OPENAI_SAMPLING): TokenRequest & { tokenIds: boolean; returnTokenIds: boolean; logprobs: boolean } {
  const b = validateBody(completionsSchema, body);
  const stop = typeof b.stop === 'string' ? [b.stop] : (b.stop ?? []);
  return {
    model: b.model,
    ...toPrompts(b.prompt, tokenizer),
    maxTokens: b.max_tokens ?? 16,
    temperature: b.temperature ?? defaults.temperature,
    topP: b.top_p ?? defaults.topP,
    n: b.n ?? 1,
    seed: b.seed ?? randomInt(0, 2 ** 31 - 1),
    stop,
    tokenIds: b.return_tokens_as_token_ids ?? false,
    returnTokenIds: b.return_token_ids ?? false,
    logprobs: b.logprobs === 0,
  };
}

/**
 * Validates a SGLang `/generate` body: `input_ids` or `text`, `sampling_params` (max_new_tokens
 * default 128 as in SGLang), `return_logprob`, `lora_path` (the adapter name to sample from).
 *
 * @example
 * ```ts
 * import { CharTokenizer } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['ab']);
 * const r = parseGenerateRequest({ input_ids: [3, 4], sampling_params: { max_new_tokens: 8 }, return_logprob: true }, tok);
 * console.log(r.single, r.maxTokens, r.logprobs); // true 8 true
 * ```
 */
export function parseGenerateRequest(body: unknown, tokenizer: Tokenizer, defaults: SamplingDefaults = OPENAI_SAMPLING): TokenRequest & { logprobs: boolean } {
  const b = validateBody(generateSchema, body);
  if ((b.text === undefined) === (b.input_ids === undefined)) {
    throw new ApiError(400, 'give exactly one of `text` and `input_ids`', { param: 'input_ids', code: 'invalid_value' });
  }
  const s = b.sampling_params ?? {};
  const stop = typeof s.stop === 'string' ? [s.stop] : (s.stop ?? []);
  return {
    model: b.lora_path ?? null,
    ...toPrompts((b.input_ids ?? b.text)!, tokenizer),
    maxTokens: s.max_new_tokens ?? 128,
    temperature: s.temperature ?? defaults.temperature,
    topP: s.top_p ?? defaults.topP,
    n: s.n ?? 1,
    seed: s.sampling_seed ?? randomInt(0, 2 ** 31 - 1),
    stop,
    logprobs: b.return_logprob ?? false,
  };
}

/** vLLM's `/v1/completions` response body for finished sequences (choice index = prompt · n + j). */
export function completionsResponse(
  r: ReturnType<typeof parseCompletionsRequest>, results: SequenceResult[][], modelName: string, weightsVersion: number, tokenizer: Tokenizer,
): unknown {
  const choices = results.flatMap((row, i) => row.map((s, j) => {
    const tokens = s.tokens.map((t) => (r.tokenIds ? `token_id:${t}` : tokenizer.decode([t])));
    return {
      index: i * r.n + j,
      text: s.text,
      logprobs: r.logprobs
        ? { text_offset: tokens.map(() => 0), token_logprobs: s.logProbs, tokens, top_logprobs: tokens.map((t, k) => ({ [t]: s.logProbs[k] })) }
        : null,
      finish_reason: s.finishReason,
      stop_reason: null,
      ...(r.returnTokenIds ? { prompt_token_ids: r.prompts[i], token_ids: s.tokens } : {}),
    };
  }));
  const completionTokens = choices.length ? results.flat().reduce((a, s) => a + s.tokens.length, 0) : 0;
  const promptTokens = r.prompts.reduce((a, p) => a + p.length, 0);
  return {
    id: `cmpl-${randomBytes(12).toString('hex')}`,
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    weights_version: weightsVersion,
  };
}

/** SGLang's `/generate` response: one object per (prompt, choice), a bare object for a single prompt with n = 1. */
export function generateResponse(r: ReturnType<typeof parseGenerateRequest>, results: SequenceResult[][], eos: number | ReadonlySet<number>, weightsVersion: number): unknown {
  const isEos = (id: number | undefined) => id !== undefined && (typeof eos === 'number' ? id === eos : eos.has(id));
  const out = results.flatMap((row, i) => row.map((s) => ({
    text: s.text,
    output_ids: s.tokens,
    meta_info: {
      id: randomBytes(12).toString('hex'),
      finish_reason: s.finishReason === 'length'
        ? { type: 'length', length: s.tokens.length }
        : { type: 'stop', matched: isEos(s.tokens.at(-1)) ? s.tokens.at(-1) : null },
      prompt_tokens: r.prompts[i].length,
      completion_tokens: s.tokens.length,
      ...(r.logprobs ? { output_token_logprobs: s.tokens.map((t, k) => [s.logProbs[k], t, null]) } : {}),
      weight_version: String(weightsVersion),
    },
  })));
  return r.single && r.n === 1 ? out[0] : out;
}

function toPrompts(p: string | number[] | string[] | number[][], tokenizer: Tokenizer): { prompts: number[][]; single: boolean } {
  const encode = (text: string) => {
    try {
      return tokenizer.encode(text);
    } catch (e) {
      throw new ApiError(400, `prompt: ${(e as Error).message}`, { param: 'prompt', code: 'unsupported_text' });
    }
  };
  if (typeof p === 'string') return { prompts: [encode(p)], single: true };
  if (p.length > 0 && typeof p[0] === 'number') return { prompts: [p as number[]], single: true };
  return { prompts: (p as (string | number[])[]).map((x) => (typeof x === 'string' ? encode(x) : x)), single: false };
}
