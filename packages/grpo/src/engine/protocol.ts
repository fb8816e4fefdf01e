// The two wire formats a rollout engine speaks, as request bodies to send and answers to check:
//   openai  POST /v1/completions (vLLM, `r1 serve`): prompt as token ids, logprobs 0, return_tokens_as_token_ids
//   sglang  POST /generate (SGLang, `r1 serve`): input_ids, sampling_params, return_logprob
// An answer is accepted only when it is exactly what was asked: n completions, each with one finite
// logprob ≤ 0 per token id, every id inside the vocabulary, no more tokens than max_tokens.

/**
 * Which API a rollout server speaks: `openai` (vLLM's `/v1/completions`, also `r1 serve`) or
 * `sglang` (SGLang's native `/generate`, also `r1 serve`).
 *
 * @example
 * ```ts
 * import type { EngineApi } from '@r1-ts/grpo';
 * const api: EngineApi = 'sglang';
 * ```
 */
export type EngineApi = 'openai' | 'sglang';

/**
 * One rollout request: n completions of one prompt.
 *
 * @example
 * ```ts
 * import type { EngineRequest } from '@r1-ts/grpo';
 * const r: EngineRequest = { promptIds: [1, 2, 3], n: 8, seed: 42 };
 * ```
 */
export interface EngineRequest {
  /** The prompt's token ids. */
  promptIds: readonly number[];
  /** Completions wanted (G, the group size). */
  n: number;
  /** The request's seed (the same on a retry, so any server draws the same samples from the same weights). */
  seed: number;
}

/**
 * Sampling settings shared by a batch of requests.
 *
 * @example
 * ```ts
 * import type { EngineSampling } from '@r1-ts/grpo';
 * const s: EngineSampling = { temperature: 1, topP: 1, maxTokens: 256 };
 * ```
 */
export interface EngineSampling {
  /** Softmax temperature. */
  temperature: number;
  /** Nucleus sampling mass (1 = off). */
  topP: number;
  /** New tokens per completion at most. */
  maxTokens: number;
}

/**
 * One completion as an engine returned it.
 *
 * @example
 * ```ts
 * import type { EngineSample } from '@r1-ts/grpo';
 * const s: EngineSample = { completionIds: [7, 2], logProbs: [-0.3, -0.1], finishReason: 'stop', weightsVersion: 3, server: 'http://127.0.0.1:8000' };
 * ```
 */
export interface EngineSample {
  /** The sampled token ids. */
  completionIds: number[];
  /** log-prob of each sampled token under the engine's sampling distribution. */
  logProbs: number[];
  /** `length`: stopped at max_tokens. */
  finishReason: 'stop' | 'length';
  /** The weights version the server reports having sampled from; null when it reports none (stock vLLM). */
  weightsVersion: number | null;
  /** The server that answered. */
  server: string;
}

/** A problem with a server's answer. `retry`: another server may do better (5xx, bad body); false for 4xx. */
export class AnswerProblem extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
  }
}

/** The path and JSON body of a request in `api`'s dialect. */
export function requestBody(api: EngineApi, model: string, req: EngineRequest, s: EngineSampling): { path: string; body: unknown } {
  if (api === 'sglang') {
    return {
      path: '/generate',
      body: {
        input_ids: req.promptIds,
        sampling_params: { max_new_tokens: s.maxTokens, temperature: s.temperature, top_p: s.topP, n: req.n, sampling_seed: req.seed },
        return_logprob: true,
        ...(model ? { lora_path: model } : {}),
      },
    };
  }
  return {
    path: '/v1/completions',
    body: {
      model, prompt: req.promptIds, n: req.n, seed: req.seed, max_tokens: s.maxTokens, temperature: s.temperature, top_p: s.topP,
      logprobs: 0, return_tokens_as_token_ids: true,
    },
  };
}

/**
 * Checks an answer and returns its n completions; throws {@link AnswerProblem} saying what is wrong.
 */
export function parseAnswer(
  api: EngineApi, status: number, text: string, versionHeader: string | undefined, req: EngineRequest, s: EngineSampling, vocabSize: number, server: string,
): EngineSample[] {
  if (status !== 200) {
    throw new AnswerProblem(`HTTP ${status}: ${text.slice(0, 300)}`, status >= 500 || status === 429 || status === 408);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AnswerProblem(`answer is not JSON: ${JSON.stringify(text.slice(0, 120))}`, true);
  }
  const headerVersion = versionHeader !== undefined && /^\d+$/.test(versionHeader) ? Number(versionHeader) : null;
  const raw = api === 'sglang' ? fromSglang(json, req.n) : fromOpenAi(json, req.n);
  return raw.map((r, j) => {
    const where = `completion ${j}`;
    if (r.ids.length !== r.logProbs.length) throw new AnswerProblem(`${where}: ${r.logProbs.length} logprobs for ${r.ids.length} tokens`, true);
    if (r.ids.length === 0) throw new AnswerProblem(`${where}: no tokens`, true);
    if (r.ids.length > s.maxTokens) throw new AnswerProblem(`${where}: ${r.ids.length} tokens, more than max_tokens ${s.maxTokens}`, true);
    r.ids.forEach((id, t) => {
      if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new AnswerProblem(`${where}: token ${t} has id ${id}, outside the vocabulary [0, ${vocabSize})`, true);
      const lp = r.logProbs[t];
      if (typeof lp !== 'number' || !Number.isFinite(lp) || lp > 1e-4) throw new AnswerProblem(`${where}: token ${t} has logprob ${lp}, expected a finite number ≤ 0`, true);
    });
    const finish = r.finish === 'length' ? 'length' : r.finish === 'stop' ? 'stop' : null;
    if (!finish) throw new AnswerProblem(`${where}: finish_reason ${JSON.stringify(r.finish)}, expected 'stop' or 'length'`, true);
    return { completionIds: r.ids, logProbs: r.logProbs, finishReason: finish, weightsVersion: r.version ?? headerVersion, server };
  });
}

interface Raw { ids: number[]; logProbs: number[]; finish: unknown; version: number | null }

function fromOpenAi(json: unknown, n: number): Raw[] {
  const j = json as { choices?: unknown; weights_version?: unknown };
  if (!Array.isArray(j?.choices)) throw new AnswerProblem('answer has no `choices` array', true);
  if (j.choices.length !== n) throw new AnswerProblem(`answer has ${j.choices.length} choices, asked for ${n}`, true);
  const version = typeof j.weights_version === 'number' ? j.weights_version : null;
  const byIndex = [...j.choices].sort((a, b) => (a?.index ?? 0) - (b?.index ?? 0));
  return byIndex.map((c, k) => {
    const lp = c?.logprobs;
    if (!lp || !Array.isArray(lp.tokens) || !Array.isArray(lp.token_logprobs)) {
      throw new AnswerProblem(`choice ${k} has no logprobs.tokens / logprobs.token_logprobs (was the request's logprobs dropped?)`, true);
    }
    const ids = Array.isArray(c.token_ids)
      ? c.token_ids
      : lp.tokens.map((t: unknown) => (typeof t === 'string' && /^token_id:-?\d+$/.test(t) ? Number(t.slice(9)) : NaN));
    if (ids.some((x: number) => Number.isNaN(x))) throw new AnswerProblem(`choice ${k}: tokens are not rendered as token_id:<n> (return_tokens_as_token_ids unsupported?)`, true);
    return { ids, logProbs: lp.token_logprobs, finish: c.finish_reason, version };
  });
}

function fromSglang(json: unknown, n: number): Raw[] {
  const list = Array.isArray(json) ? json : [json];
  if (list.length !== n) throw new AnswerProblem(`answer has ${list.length} outputs, asked for ${n}`, true);
  return list.map((o, k) => {
    const meta = o?.meta_info;
    const lps = meta?.output_token_logprobs;
    if (!Array.isArray(lps)) throw new AnswerProblem(`output ${k} has no meta_info.output_token_logprobs`, true);
    const ids = Array.isArray(o.output_ids) ? o.output_ids : lps.map((x: unknown[]) => x?.[1]);
    const v = meta.weight_version;
    return {
      ids,
      logProbs: lps.map((x: unknown[]) => x?.[0] as number),
      finish: meta.finish_reason?.type ?? meta.finish_reason,
      version: typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : null,
    };
  });
}
