// Spreads rollout requests over one or more inference servers. Each request (n completions of one
// prompt) goes to the least-busy healthy server with a free slot; a failure (network error, timeout,
// 5xx, an answer that is not what was asked) sends it to another server, keeping its seed. A request
// resolves exactly once: an attempt given up on is aborted, so a late answer is never counted.
// node:http rather than fetch: the trainer needs to know when every request has actually been written
// to its socket (so generation overlaps a synchronous training step), and a hung socket must be cut.
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { EngineError } from './errors';
import { AnswerProblem, parseAnswer, requestBody } from './protocol';
import type { EngineApi, EngineRequest, EngineSample, EngineSampling } from './protocol';

/**
 * Options of {@link EngineClient}.
 *
 * @example
 * ```ts
 * import type { EngineClientOptions } from '@r1-ts/grpo';
 * const o: EngineClientOptions = { urls: ['http://10.0.0.5:8000', 'http://10.0.0.6:8000'], vocabSize: 151936, timeoutMs: 120_000 };
 * ```
 */
export interface EngineClientOptions {
  /** Base URLs of the servers (no `/v1`), e.g. `http://127.0.0.1:8000`. Non-empty. */
  urls: readonly string[];
  /** Wire format. Default `openai` (vLLM's `/v1/completions`). */
  api?: EngineApi;
  /** Vocabulary size: a token id outside [0, vocabSize) in an answer is rejected. */
  vocabSize: number;
  /** Requests in flight per server. Default 8. */
  maxConcurrency?: number;
  /** A request that has not answered in this long is abandoned and retried elsewhere. Default 120000 ms. */
  timeoutMs?: number;
  /** Tries per request before {@link EngineError}. Default 2 × the number of servers (at least 3). */
  maxAttempts?: number;
  /** A server that failed is not given new requests for this long, unless every server is resting. Default 2000 ms. */
  cooldownMs?: number;
}

interface ServerState {
  url: string;
  inFlight: number;
  restUntil: number;
  failures: number;
  answered: number;
}

interface Job {
  req: EngineRequest;
  model: string;
  sampling: EngineSampling;
  tried: Set<string>;
  attempts: { server: string; problem: string }[];
  resolve: (s: EngineSample[]) => void;
  reject: (e: unknown) => void;
  /** Resolves once the job's current attempt has been written to its socket. */
  sent: () => void;
}

/**
 * A client for a fleet of rollout servers (vLLM, SGLang or `r1 serve`).
 *
 * @example
 * ```ts
 * import { EngineClient } from '@r1-ts/grpo';
 * // no-run (needs a server)
 * const client = new EngineClient({ urls: ['http://127.0.0.1:8000'], vocabSize: 32000 });
 * const [group] = await client.sample([{ promptIds: [1, 2, 3], n: 4, seed: 7 }], 'policy-v0', { temperature: 1, topP: 1, maxTokens: 64 }).done;
 * console.log(group.length, group[0].completionIds, group[0].logProbs);
 * client.close();
 * ```
 */
export class EngineClient {
  /** The wire format every server is spoken to in. */
  readonly api: EngineApi;
  private readonly servers: ServerState[];
  private readonly queue: Job[] = [];
  /** Servers whose last weight sync failed: given no requests until a later sync reaches them. */
  private readonly outOfSync = new Set<string>();
  private readonly agent = new Agent({ keepAlive: true });
  private readonly maxConcurrency: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly cooldownMs: number;
  private readonly vocabSize: number;

  /**
   * @param options - Server `urls`, API flavour (`openai` or `sglang`), the model's `vocabSize`, and concurrency, timeout, attempts and cooldown of retries; see {@link EngineClientOptions}.
   */
  constructor(options: EngineClientOptions) {
    const urls = options?.urls;
    if (!Array.isArray(urls) || urls.length === 0) throw new ConfigError(`engine urls must be a non-empty list of http(s) URLs, got ${JSON.stringify(urls)}`, ['urls']);
    for (const u of urls) {
      let ok = false;
      try {
        ok = ['http:', 'https:'].includes(new URL(u).protocol);
      } catch { /* reported below */ }
      if (!ok) throw new ConfigError(`engine url must be an http(s) URL like http://127.0.0.1:8000, got ${JSON.stringify(u)}`, ['urls']);
    }
    const posInt = (name: string, v: number | undefined, d: number) => {
      const x = v ?? d;
      if (!Number.isInteger(x) || x < 1) throw new ConfigError(`engine ${name} must be a positive integer, got ${v}`, [name]);
      return x;
    };
    this.api = options.api ?? 'openai';
    if (this.api !== 'openai' && this.api !== 'sglang') throw new ConfigError(`engine api must be 'openai' or 'sglang', got ${JSON.stringify(options.api)}`, ['api']);
    this.vocabSize = posInt('vocabSize', options.vocabSize, NaN);
    this.maxConcurrency = posInt('maxConcurrency', options.maxConcurrency, 8);
    this.timeoutMs = posInt('timeoutMs', options.timeoutMs, 120_000);
    this.maxAttempts = posInt('maxAttempts', options.maxAttempts, Math.max(3, 2 * urls.length));
    this.cooldownMs = options.cooldownMs ?? 2000;
    this.servers = urls.map((u) => ({ url: u.replace(/\/+$/, ''), inFlight: 0, restUntil: 0, failures: 0, answered: 0 }));
  }

  /** The servers' base URLs. */
  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  /** Per-server counters: requests answered and attempts failed. */
  stats(): { url: string; answered: number; failures: number; inFlight: number; outOfSync: boolean }[] {
    return this.servers.map(({ url, answered, failures, inFlight }) => ({ url, answered, failures, inFlight, outOfSync: this.outOfSync.has(url) }));
  }

  /**
   * Sends every request; `done` resolves with each request's n completions, in request order, or
   * rejects with {@link EngineError} (after the other requests have settled, so nothing keeps
   * running behind the caller's back). `dispatched` resolves once every request that found a free
   * slot has been written to its socket.
   */
  sample(requests: readonly EngineRequest[], model: string, sampling: EngineSampling): { done: Promise<EngineSample[][]>; dispatched: Promise<void> } {
    const sentAll: Promise<void>[] = [];
    const results = requests.map((req) => new Promise<EngineSample[]>((resolve, reject) => {
      let sent!: () => void;
      sentAll.push(new Promise<void>((r) => (sent = r)));
      this.queue.push({ req, model, sampling, tried: new Set(), attempts: [], resolve, reject, sent });
    }));
    this.pump();
    // Jobs still queued (no free slot) count as dispatched: they go out as slots free up.
    const queued = new Set(this.queue);
    for (const job of queued) job.sent();
    const done = Promise.allSettled(results).then((settled) => {
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      return settled.map((s) => (s as PromiseFulfilledResult<EngineSample[]>).value);
    });
    return { done, dispatched: Promise.all(sentAll).then(() => undefined) };
  }

  /**
   * POSTs a JSON body to every server (weight sync). A server that does not answer 200 is taken out
   * of the rotation (it would sample from old weights) until a later broadcast reaches it; resolves
   * with those servers' problems, or rejects with {@link EngineError} when no server answered 200.
   */
  async broadcast(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<{ server: string; problem: string }[]> {
    const attempts: { server: string; problem: string }[] = [];
    await Promise.all(this.servers.map(async (s) => {
      try {
        const r = await this.post(s.url + path, body, timeoutMs, () => {});
        if (r.status !== 200) attempts.push({ server: s.url, problem: `HTTP ${r.status}: ${r.text.slice(0, 300)}` });
      } catch (e) {
        attempts.push({ server: s.url, problem: (e as Error).message });
      }
    }));
    if (attempts.length === this.servers.length) throw new EngineError(`POST ${path} failed on every server`, attempts);
    for (const s of this.servers) this.outOfSync.delete(s.url);
    for (const a of attempts) this.outOfSync.add(a.server);
    return attempts;
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /** Starts queued jobs on servers with free slots. */
  private pump(): void {
    while (this.queue.length) {
      const job = this.queue[0];
      const server = this.pick(job);
      if (!server) return;
      this.queue.shift();
      void this.attempt(job, server);
    }
  }

  /** The server for a job: free slot; not yet tried by it if possible; not resting if possible; least busy. */
  private pick(job: Job): ServerState | null {
    const now = Date.now();
    const free = this.servers.filter((s) => s.inFlight < this.maxConcurrency && !this.outOfSync.has(s.url));
    if (!free.length) return null;
    const rank = (s: ServerState) => (job.tried.has(s.url) ? 2 : 0) + (s.restUntil > now ? 1 : 0);
    return free.reduce((best, s) => (rank(s) < rank(best) || (rank(s) === rank(best) && s.inFlight < best.inFlight) ? s : best));
  }

  private async attempt(job: Job, server: ServerState): Promise<void> {
    server.inFlight++;
    job.tried.add(server.url);
    const { path, body } = requestBody(this.api, job.model, job.req, job.sampling);
    try {
      const r = await this.post(server.url + path, body, this.timeoutMs, job.sent);
      const samples = parseAnswer(this.api, r.status, r.text, r.version, job.req, job.sampling, this.vocabSize, server.url);
      server.answered++;
      server.failures = 0;
      job.resolve(samples);
    } catch (e) {
      const problem = e instanceof Error ? e.message : String(e);
      job.attempts.push({ server: server.url, problem });
      const retry = !(e instanceof AnswerProblem) || e.retry;
      if (retry) {
        server.failures++;
        server.restUntil = Date.now() + this.cooldownMs;
      }
      if (!retry) job.reject(new EngineError(`rollout request refused by ${server.url} (not retried: the request itself is at fault)`, job.attempts));
      else if (job.attempts.length >= this.maxAttempts) job.reject(new EngineError(`rollout request failed ${job.attempts.length} time(s), giving up`, job.attempts));
      else this.queue.unshift(job);
    } finally {
      server.inFlight--;
      this.pump();
    }
  }

  /** One POST with a hard deadline covering connect, send and the whole answer. */
  private post(url: string, body: unknown, timeoutMs: number, onSent: () => void): Promise<{ status: number; text: string; version?: string }> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const send = url.startsWith('https:') ? httpsRequest : httpRequest;
      const req = send(url, {
        method: 'POST',
        agent: url.startsWith('https:') ? undefined : this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const v = res.headers['x-weights-version'];
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), version: Array.isArray(v) ? v[0] : v });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms (timed out)`)), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        onSent(); // nothing more will be sent on this attempt
        reject(e);
      });
      req.on('finish', onSent);
      req.end(payload);
    });
  }
}
