// A distillation teacher behind any OpenAI-compatible chat-completions endpoint (DeepSeek's API, vLLM,
// SGLang, `r1 serve`): bounded concurrency, retries with exponential backoff on 429 / 5xx / timeouts /
// dropped connections, reasoning read from `reasoning_content` or `<think>` tags and returned in R1's
// `<think>…</think><answer>…</answer>` format so the rule rewards apply, and per-request persistence.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { ConfigError, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import type { Rng } from '@r1-ts/tensor-kernels';
import type { Teacher } from './teacher';

/**
 * Options of {@link OpenAICompatibleTeacher}.
 *
 * @example
 * ```ts
 * // no-run: needs an OpenAI-compatible server
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { OpenAICompatibleTeacher, type OpenAITeacherOptions } from '@r1-ts/distill';
 * const options: OpenAITeacherOptions = {
 *   baseURL: 'https://api.deepseek.com', model: 'deepseek-reasoner', apiKey: process.env.DEEPSEEK_API_KEY,
 *   concurrency: 4, maxRetries: 6, timeoutMs: 300_000,
 *   cachePath: join(mkdtempSync(join(tmpdir(), 'teacher-')), 'requests.jsonl'),
 * };
 * const teacher = new OpenAICompatibleTeacher(options);
 * ```
 */
export interface OpenAITeacherOptions {
  /** The API root, e.g. `https://api.deepseek.com` or `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** Model id sent with every request. */
  model: string;
  /** Bearer key (default: `OPENAI_API_KEY`, or a placeholder for local servers). */
  apiKey?: string;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /** Retries per request after the first try (429, 5xx, timeouts, connection errors). Default 4. */
  maxRetries?: number;
  /** Per-try timeout in ms. Default 120000. */
  timeoutMs?: number;
  /** First backoff in ms, doubled per retry (a `retry-after` header wins). Default 500. */
  backoffMs?: number;
  /**
   * JSONL file of finished requests. Each response is appended as it arrives; a later call with the
   * same batch of prompts and settings (e.g. a rerun of an interrupted `sampleFromTeacher`) reuses it
   * instead of asking again.
   */
  cachePath?: string;
  /** Aborts every pending and future request (generate rejects). */
  signal?: AbortSignal;
  /** A system message sent before each prompt. */
  systemPrompt?: string;
  /** Base of the per-request seeds (which are derived from each request's identity). Default 0. */
  seed?: number;
}

interface CachedResponse {
  key: string;
  text: string;
  truncated: boolean;
}

// Record<keyof …> makes this a compile error when OpenAITeacherOptions gains or loses a key.
const OPENAI_TEACHER_KEYS = Object.keys({
  baseURL: true, model: true, apiKey: true, concurrency: true, maxRetries: true, timeoutMs: true,
  backoffMs: true, cachePath: true, signal: true, systemPrompt: true, seed: true,
} satisfies Record<keyof OpenAITeacherOptions, true>);

/**
 * A {@link Teacher} that samples from an OpenAI-compatible server with the `openai` client.
 *
 * Persistence composes with `sampleFromTeacher`'s `jsonlPath`: sampleFromTeacher skips samples it has
 * written, and within the batch it was writing when interrupted, this teacher's `cachePath` skips the
 * requests that had already come back. Requests are keyed by (model, settings, the batch's prompts,
 * position in the batch), so a reused answer is always the same sample, never a duplicate. Each request
 * carries a `seed` derived from that key: servers that honour seeds (`r1 serve`, vLLM) then give the
 * same completion on a rerun. (The `rng` of {@link Teacher.generate} is not drawn from, so resuming
 * does not depend on how much was sampled before.)
 *
 * @example
 * ```ts
 * // no-run: needs an OpenAI-compatible server
 * import { OpenAICompatibleTeacher, sampleFromTeacher } from '@r1-ts/distill';
 * const teacher = new OpenAICompatibleTeacher({ baseURL: 'http://127.0.0.1:8000/v1', model: 'r1-ts', cachePath: 'runs/t/requests.jsonl' });
 * const prompts = [{ id: 'a', prompt: 'What is 12+34?', answer: '46', task: 'arithmetic', difficulty: 2 }];
 * const res = await sampleFromTeacher(teacher, prompts, { k: 4, jsonlPath: 'runs/t/samples.jsonl' });
 * console.log(res.counts);
 * ```
 */
export class OpenAICompatibleTeacher implements Teacher {
  readonly client: OpenAI;
  private readonly cache = new Map<string, CachedResponse>();
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Requests sent (tries included) and answers reused from `cachePath`. */
  readonly counts = { requests: 0, retries: 0, cached: 0 };

  /**
   * Checks the options (unknown keys and non-positive limits are a ConfigError); no request is sent until {@link OpenAICompatibleTeacher.generate}.
   *
   * @param options - The endpoint (`baseURL`, `model`, `apiKey`), the client's limits (`concurrency`, `maxRetries`, `timeoutMs`, `backoffMs`), `cachePath`, `signal`, `systemPrompt` and `seed`; see {@link OpenAITeacherOptions}.
   */
  constructor(readonly options: OpenAITeacherOptions) {
    rejectUnknownKeys(options ?? {}, OPENAI_TEACHER_KEYS, 'OpenAICompatibleTeacher options', { baseUrl: 'baseURL', url: 'baseURL', api_key: 'apiKey', timeout: 'timeoutMs', system: 'systemPrompt' });
    for (const field of ['concurrency', 'maxRetries', 'timeoutMs', 'backoffMs'] as const) {
      const v = options[field];
      const min = field === 'concurrency' || field === 'timeoutMs' ? 1 : 0;
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
        throw new ConfigError(`OpenAICompatibleTeacher: ${field} must be an integer >= ${min}, got ${JSON.stringify(v)}`, [field]);
      }
    }
    if (!options.baseURL || !options.model) throw new ConfigError('OpenAICompatibleTeacher: baseURL and model are required', ['baseURL', 'model']);
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed',
      maxRetries: 0, // retried here, with our backoff and counters
      timeout: options.timeoutMs ?? 120_000,
    });
    if (options.cachePath && existsSync(options.cachePath)) {
      for (const line of readFileSync(options.cachePath, 'utf8').split('\n')) {
        try {
          const r = JSON.parse(line) as CachedResponse;
          if (typeof r.key === 'string' && typeof r.text === 'string') this.cache.set(r.key, r);
        } catch {
          // an empty line, or one cut by a crash mid-write: asked again
        }
      }
    }
  }

  /** Completes every prompt (one chat request each); resolves in prompt order. */
  async generate(
    prompts: readonly string[],
    options: { temperature: number; topP: number; maxNewTokens: number; rng?: Rng },
  ): Promise<{ text: string; truncated: boolean }[]> {
    const batch = hash(JSON.stringify(prompts));
    return Promise.all(
      prompts.map(async (prompt, i) => {
        const key = hash(JSON.stringify([this.options.model, options.temperature, options.topP, options.maxNewTokens, this.options.seed ?? 0, batch, i]));
        const hit = this.cache.get(key);
        if (hit) {
          this.counts.cached++;
          return { text: hit.text, truncated: hit.truncated };
        }
        const out = await this.limited(() => this.request(prompt, options, parseInt(key.slice(0, 8), 16) & 0x7fffffff));
        const record: CachedResponse = { key, ...out };
        this.cache.set(key, record);
        if (this.options.cachePath) {
          mkdirSync(dirname(this.options.cachePath), { recursive: true });
          appendFileSync(this.options.cachePath, `${JSON.stringify(record)}\n`);
        }
        return out;
      }),
    );
  }

  /** One chat completion with retries. */
  private async request(prompt: string, options: { temperature: number; topP: number; maxNewTokens: number }, seed: number): Promise<{ text: string; truncated: boolean }> {
    const maxRetries = this.options.maxRetries ?? 4;
    const messages: { role: 'system' | 'user'; content: string }[] = [];
    if (this.options.systemPrompt) messages.push({ role: 'system', content: this.options.systemPrompt });
    messages.push({ role: 'user', content: prompt });
    for (let attempt = 0; ; attempt++) {
      this.options.signal?.throwIfAborted();
      this.counts.requests++;
      try {
        const res = await this.client.chat.completions.create(
          { model: this.options.model, messages, temperature: options.temperature, top_p: options.topP, max_tokens: options.maxNewTokens, seed },
          { signal: this.options.signal },
        );
        const choice = res.choices[0];
        const message = choice?.message as { content?: string | null; reasoning_content?: string | null } | undefined;
        return { text: toR1Text(message?.reasoning_content ?? null, message?.content ?? ''), truncated: choice?.finish_reason === 'length' };
      } catch (e) {
        if (!retryable(e) || attempt >= maxRetries || this.options.signal?.aborted) throw e;
        this.counts.retries++;
        await sleep(backoff(e, attempt, this.options.backoffMs ?? 500), this.options.signal);
      }
    }
  }

  /** Runs `fn` when fewer than `concurrency` requests are in flight. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    const limit = this.options.concurrency ?? 8;
    if (this.active >= limit) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/**
 * R1's completion format from an API answer: the reasoning (from `reasoning_content`, else from
 * `<think>…</think>` in the content) in `<think>` tags, then the answer in `<answer>` tags (kept as is
 * when the content already has them). Without any reasoning the content is returned unchanged.
 *
 * @param reasoning - `reasoning_content` of the API answer (DeepSeek's convention), or null/undefined.
 * @param content - The answer's `content`, possibly with `<think>…</think>` inside.
 * @example
 * ```ts
 * import { toR1Text } from '@r1-ts/distill';
 * toR1Text('7+5=12', '12'); // '<think>7+5=12</think><answer>12</answer>'
 * toR1Text(null, '<think>7+5=12</think>The sum is 12.'); // '<think>7+5=12</think><answer>The sum is 12.</answer>'
 * ```
 */
export function toR1Text(reasoning: string | null | undefined, content: string): string {
  let think = reasoning ?? null;
  let answer = content;
  if (think === null) {
    const m = /^\s*<think>([\s\S]*?)(?:<\/think>|$)([\s\S]*)$/.exec(content);
    if (!m) return content;
    think = m[1];
    answer = m[2];
  }
  answer = answer.trim();
  const wrapped = answer === '' || /<answer>[\s\S]*<\/answer>/.test(answer) ? answer : `<answer>${answer}</answer>`;
  return `<think>${think}</think>${wrapped}`;
}

function retryable(e: unknown): boolean {
  if (e instanceof APIUserAbortError) return false;
  if (e instanceof APIConnectionError) return true; // includes APIConnectionTimeoutError
  if (e instanceof APIError) return e.status === 408 || e.status === 409 || e.status === 429 || (e.status ?? 0) >= 500;
  return false;
}

function backoff(e: unknown, attempt: number, base: number): number {
  const after = e instanceof APIError ? Number(e.headers?.get?.('retry-after')) : NaN;
  if (Number.isFinite(after) && after >= 0) return Math.min(after * 1000, 60_000);
  return base * 2 ** attempt * (0.75 + 0.5 * Math.random()); // jitter spreads simultaneous retries
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
