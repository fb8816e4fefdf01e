// The request body of POST /v1/chat/completions (the OpenAI subset r1 serve honours) and OpenAI's
// error shape. Unknown fields are ignored, as OpenAI-compatible servers do; known fields of the wrong
// type or out of range are rejected with the offending field named in `param`.
import { z } from 'zod';

/**
 * An API error answered as OpenAI does: HTTP status + `{ error: { message, type, param, code } }`.
 *
 * @example
 * ```ts
 * const e = new ApiError(400, 'max_tokens must be >= 1, got -5', { param: 'max_tokens' });
 * console.log(e.body()); // { error: { message: '…', type: 'invalid_request_error', param: 'max_tokens', code: null } }
 * ```
 */
export class ApiError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  readonly type: string;

  constructor(
    readonly status: number,
    message: string,
    options: { param?: string | null; code?: string | null; type?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.type = options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  }

  /** The JSON body. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(textPart)]).nullable(),
});

const schema = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string().min(1)).max(4)]).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  seed: z.number().int().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
});

/** A validated chat-completions request with defaults filled in (all but `max_tokens`). */
export interface ChatRequest {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  temperature: number;
  topP: number;
  /** null: as many as fit in the context window. */
  maxTokens: number | null;
  stop: string[];
  n: number;
  /** null: a random seed per request. */
  seed: number | null;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * The sampling settings a request that names none gets: OpenAI's (1, 1), or the checkpoint's
 * generation_config.json where it sets them (as vLLM does).
 *
 * @example
 * ```ts
 * const d: SamplingDefaults = { temperature: 0.6, topP: 0.95 };
 * ```
 */
export interface SamplingDefaults {
  temperature: number;
  topP: number;
}

/** OpenAI's defaults: temperature 1, top_p 1. */
export const OPENAI_SAMPLING: SamplingDefaults = { temperature: 1, topP: 1 };

/**
 * Validates a parsed JSON body; throws {@link ApiError} 400 naming the first bad field.
 * Defaults follow OpenAI (temperature 1, top_p 1, n 1) unless `defaults` says otherwise.
 *
 * @example
 * ```ts
 * const req = parseChatRequest({ model: 'r1', messages: [{ role: 'user', content: 'What is 2+2?' }] });
 * console.log(req.temperature, req.n); // 1 1
 * ```
 */
export function parseChatRequest(body: unknown, defaults: SamplingDefaults = OPENAI_SAMPLING): ChatRequest {
  const r = validateBody(schema, body);
  return {
    model: r.model,
    messages: r.messages.map((m) => ({
      role: m.role === 'developer' ? 'system' : m.role,
      content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
    })),
    temperature: r.temperature ?? defaults.temperature,
    topP: r.top_p ?? defaults.topP,
    maxTokens: r.max_completion_tokens ?? r.max_tokens ?? null,
    stop: typeof r.stop === 'string' ? [r.stop] : (r.stop ?? []),
    n: r.n ?? 1,
    seed: r.seed ?? null,
    stream: r.stream ?? false,
    includeUsage: r.stream_options?.include_usage ?? false,
  };
}

/**
 * Checks a JSON request body against a zod schema: not an object → 400 `invalid_body`; the first
 * issue → 400 naming its path (`messages[0].role`), the value sent and `invalid_type`/`invalid_value`.
 * Shared by every route of r1 serve.
 */
export function validateBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.output<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'the request body must be a JSON object', { code: 'invalid_body' });
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
    const got = issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey], body);
    throw new ApiError(400, `${param || 'body'}: ${issue.message} (got ${JSON.stringify(got) ?? 'nothing'})`, {
      param: param || null,
      code: issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value',
    });
  }
  return result.data;
}
