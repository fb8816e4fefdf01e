// `r1 serve`: an OpenAI-compatible HTTP server (node:http) over an {@link Engine}.
//   POST /v1/chat/completions   messages, temperature, top_p, max_tokens, stop, n, seed, stream (SSE)
//   GET  /v1/models             the one served model
//   GET  /health                liveness + scheduler counters (503 while draining)
//   POST /v1/completions, /generate                     token-level rollouts with logprobs (completions.ts)
//   POST /update_weights_from_disk, /v1/load_lora_adapter  weight sync from a trainer (admin.ts)
import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openThinkSuffix } from '@r1-ts/model';
import type { CausalLM, Tokenizer } from '@r1-ts/model';
import type { LoraModel } from '@r1-ts/lora';
import { ServedWeights } from './admin';
import { boundedWriter } from './bounded_write';
import { completionsResponse, generateResponse, parseCompletionsRequest, parseGenerateRequest, runTokenRequest } from './completions';
import { Engine, choiceSeed } from './engine';
import type { EngineOptions, EngineStats, SequenceResult } from './engine';
import { ReasoningSplitter, splitReasoning } from './reasoning';
import { ApiError, OPENAI_SAMPLING, parseChatRequest } from './schema';
import type { ChatRequest, SamplingDefaults } from './schema';

/** Options of {@link startServer}. */
export interface ServeOptions extends EngineOptions {
  /** Any family (`DenseModel` for llama/qwen2/qwen3, `DeepSeekModel`). */
  model: CausalLM;
  tokenizer: Tokenizer;
  /** Temperature / top_p of requests that set none (generation_config.json's). Default OpenAI's 1 / 1. */
  samplingDefaults?: SamplingDefaults;
  /**
   * An adapter merged into the served weights at start (`r1 serve --adapter`): part of the model
   * served as `modelName`, unmerged when a weight update (adapter or disk) replaces the weights.
   */
  adapter?: LoraModel;
  /** The id clients pass as `model` (and /v1/models lists). Default 'r1-ts'. */
  modelName?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Largest request body in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Most bytes a stream may hold unsent for a client that stops reading (beyond the socket's own
   * buffers). Writes never wait on a client, so the engine loop is never blocked by one; a client
   * this far behind is disconnected and its batch rows freed. Default 4 MiB.
   */
  maxBufferedBytes?: number;
}

/** A running server. */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:8000` (no trailing slash; the OpenAI base URL is `${url}/v1`). */
  url: string;
  port: number;
  engine: Engine;
  /** The served weights' version and adapter (bumped by /update_weights_from_disk and /v1/load_lora_adapter). */
  weights: ServedWeights;
  server: Server;
  /**
   * Requests accepted on /v1/chat/completions (after validation), rejected ones, and streams dropped
   * because their client fell more than `maxBufferedBytes` behind.
   */
  stats(): EngineStats & { requests: number; rejected: number; slowDisconnects: number };
  /** Stops accepting requests, lets in-flight ones finish, then closes. */
  drain(): Promise<void>;
}

/**
 * Starts the OpenAI-compatible server.
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from '@r1-ts/model';
 * const { model, tokenizer } = loadCheckpoint('runs/demo/final');
 * const srv = await startServer({ model, tokenizer: tokenizer!, port: 0 });
 * console.log(`${srv.url}/v1`); // give this to any OpenAI client
 * await srv.drain();
 * ```
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { model, tokenizer } = options;
  const modelName = options.modelName ?? 'r1-ts';
  const engine = new Engine(model, tokenizer, options);
  const weights = new ServedWeights(engine, modelName, options.adapter ?? null);
  const defaults = options.samplingDefaults ?? OPENAI_SAMPLING;
  const created = Math.floor(Date.now() / 1000);
  const counters = { requests: 0, rejected: 0, slowDisconnects: 0 };
  let draining = false;
  const inflight = new Set<Promise<void>>();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/health') {
        return sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', model: modelName, ...engine.stats() });
      }
      if (req.method === 'GET' && (path === '/v1/models' || path === `/v1/models/${modelName}`)) {
        const cards = weights.modelIds().map((id) => ({ id, object: 'model', created, owned_by: 'r1-ts', parent: id === modelName ? null : modelName, weights_version: weights.version }));
        return sendJson(res, 200, path === '/v1/models' ? { object: 'list', data: cards } : cards[0]);
      }
      if (req.method === 'GET' && path === '/get_weight_version') return sendJson(res, 200, { weight_version: String(weights.version) });
      const admin = { '/update_weights_from_disk': weights.updateFromDisk, '/v1/load_lora_adapter': weights.loadLora }[path];
      const tokens = path === '/v1/completions' || path === '/generate';
      if (admin || tokens) {
        if (req.method !== 'POST') throw new ApiError(405, `${req.method} is not allowed on ${path}; use POST`, { code: 'method_not_allowed' });
        if (draining) throw new ApiError(503, 'the server is shutting down', { code: 'shutting_down' });
        const body = await readJson(req, options.maxBodyBytes ?? 1 << 20);
        if (admin) return sendJson(res, 200, await admin.call(weights, body));
        counters.requests++;
        const abort = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        if (path === '/generate') {
          const r = parseGenerateRequest(body, tokenizer, defaults);
          const [version, results] = await weights.admit(r.model, (v) => [v, runTokenRequest(engine, r, abort.signal)] as const);
          return sendJson(res, 200, generateResponse(r, await results, engine.stopIds, version), { 'x-weights-version': String(version) });
        }
        const r = parseCompletionsRequest(body, tokenizer, defaults);
        const [version, pending] = await weights.admit(r.model, (v) => [v, runTokenRequest(engine, r, abort.signal)] as const);
        const results = await pending;
        if (abort.signal.aborted) return;
        return sendJson(res, 200, completionsResponse(r, results, r.model ?? modelName, version, tokenizer), { 'x-weights-version': String(version) });
      }
      if (path === '/v1/chat/completions') {
        if (req.method !== 'POST') throw new ApiError(405, `${req.method} is not allowed on ${path}; use POST`, { code: 'method_not_allowed' });
        if (draining) throw new ApiError(503, 'the server is shutting down', { code: 'shutting_down' });
        const body = await readJson(req, options.maxBodyBytes ?? 1 << 20);
        const chat = parseChatRequest(body, defaults);
        if (chat.model !== modelName) {
          throw new ApiError(404, `The model \`${chat.model}\` does not exist; this server serves \`${modelName}\``, { param: 'model', code: 'model_not_found' });
        }
        counters.requests++;
        await weights.ready(); // an update in progress: wait for it rather than mix versions
        return await complete(chat, res);
      }
      throw new ApiError(404, `no route for ${req.method} ${path}`, { code: 'not_found' });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, (e as Error).message ?? String(e));
      if (err.status < 500) counters.rejected++;
      if (!res.headersSent) sendJson(res, err.status, err.body());
      else res.end();
    }
  };

  /** Runs the n sequences of a request, answering in one JSON body or as server-sent events. */
  const complete = async (chat: ChatRequest, res: ServerResponse) => {
    const { prompt, inReasoning } = encodePrompt(tokenizer, chat);
    const limit = model.config.max_position_embeddings;
    const room = limit - prompt.length;
    const maxTokens = chat.maxTokens ?? room;
    if (room < 1 || maxTokens > room) {
      throw new ApiError(400, `This model's maximum context length is ${limit} tokens. However, you requested ${prompt.length + maxTokens} tokens (${prompt.length} in the messages, ${maxTokens} in the completion).`, {
        param: 'messages', code: 'context_length_exceeded',
      });
    }
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(); // the client went away: free its batch rows
    });
    const seed = chat.seed ?? randomInt(0, 2 ** 31 - 1);
    const base = { id, created: now, model: modelName, system_fingerprint: 'r1-ts' };
    // Never waits for the client; one too far behind is dropped ('close' → abort → its rows leave the batch).
    const write = boundedWriter(res, options.maxBufferedBytes ?? 4 << 20, () => counters.slowDisconnects++);
    const chunk = (choices: unknown[], usage: unknown = undefined) =>
      write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...(chat.includeUsage ? { usage: usage ?? null } : {}) })}\n\n`);
    if (chat.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      for (let i = 0; i < chat.n; i++) chunk([{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    }
    const results = await Promise.all(
      Array.from({ length: chat.n }, (_, i): Promise<SequenceResult> => {
        const splitter = new ReasoningSplitter({ inReasoning });
        const send = (d: { reasoning?: string; content?: string }) => {
          if (d.reasoning) chunk([{ index: i, delta: { reasoning_content: d.reasoning }, logprobs: null, finish_reason: null }]);
          if (d.content) chunk([{ index: i, delta: { content: d.content }, logprobs: null, finish_reason: null }]);
        };
        return engine
          .submit({
            prompt, maxTokens, seed: choiceSeed(seed, i), stop: chat.stop, signal: abort.signal,
            sampling: { temperature: chat.temperature, topP: chat.topP },
            onText: chat.stream ? (delta) => send(splitter.push(delta)) : undefined,
          })
          .then((r) => {
            if (chat.stream && r.finishReason !== 'abort') {
              send(splitter.end());
              chunk([{ index: i, delta: {}, logprobs: null, finish_reason: r.finishReason }]);
            }
            return r;
          });
      }),
    );
    if (abort.signal.aborted) return;
    const completionTokens = results.reduce((a, r) => a + r.tokens.length, 0);
    const usage = { prompt_tokens: prompt.length, completion_tokens: completionTokens, total_tokens: prompt.length + completionTokens };
    if (chat.stream) {
      if (chat.includeUsage) chunk([], usage);
      res.end('data: [DONE]\n\n');
      return;
    }
    sendJson(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: results.map((r, index) => {
        const { reasoning, content } = splitReasoning(r.text, { inReasoning });
        return { index, message: { role: 'assistant', content, reasoning_content: reasoning }, logprobs: null, finish_reason: r.finishReason };
      }),
      usage,
    });
  };

  const server = createServer((req, res) => {
    const p = handler(req, res).finally(() => inflight.delete(p));
    inflight.add(p);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    engine,
    weights,
    server,
    stats: () => ({ ...engine.stats(), ...counters }),
    drain: async () => {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.all([...inflight]);
      await engine.idle();
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * Renders the messages with the tokenizer's chat template (generation prompt on) and tokenizes;
 * `inReasoning` when that prompt already opened `<think>`. A template that refuses the messages or
 * characters outside the vocabulary → 400.
 */
function encodePrompt(tokenizer: Tokenizer, chat: ChatRequest): { prompt: number[]; inReasoning: boolean } {
  try {
    const text = tokenizer.applyChatTemplate(chat.messages, { addGenerationPrompt: true });
    return { prompt: tokenizer.encode(text), inReasoning: openThinkSuffix(text) !== '' };
  } catch (e) {
    throw new ApiError(400, `messages: ${(e as Error).message}`, { param: 'messages', code: 'unsupported_text' });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads and parses a JSON body: 413 past `limit` bytes, 400 when it is not JSON. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new ApiError(413, `request body exceeds ${limit} bytes`, { code: 'request_too_large' });
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new ApiError(400, `We could not parse the JSON body of your request: ${(e as Error).message}`, { code: 'invalid_json' });
  }
}
