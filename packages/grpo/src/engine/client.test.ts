// The engine client against fake servers in this process: good answers, each kind of bad answer, a
// hung connection, a refused request. A rollout is never lost or duplicated; a bad server's requests
// are retried on another; with no good server the error says what each try got.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineClient } from './client';
import { EngineError } from './errors';
import type { EngineApi } from './protocol';

const V = 50;
type Behaviour = 'good' | 'not_json' | 'no_logprobs' | 'out_of_vocab' | 'http_500' | 'hang' | 'http_400' | 'wrong_n';

interface Fake {
  url: string;
  server: Server;
  /** Seeds of the requests this server received, in order. */
  seen: number[];
  maxInFlight: number;
  behaviour: Behaviour;
}

const fakes: Fake[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) {
    f.server.closeAllConnections();
    await new Promise((r) => f.server.close(r));
  }
});

/** The completion a good fake returns for choice j of a request: derived from its prompt and seed only. */
function expectedIds(prompt: number[], seed: number, j: number): number[] {
  return [prompt[0] % V, (seed + j) % V, (prompt.length + j) % V];
}

async function fake(behaviour: Behaviour, api: EngineApi = 'openai', delayMs = 5): Promise<Fake> {
  let inFlight = 0;
  const f = { seen: [] as number[], maxInFlight: 0, behaviour } as Fake;
  f.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text);
      const prompt: number[] = api === 'openai' ? body.prompt : body.input_ids;
      const n: number = api === 'openai' ? body.n : body.sampling_params.n;
      const seed: number = api === 'openai' ? body.seed : body.sampling_params.sampling_seed;
      f.seen.push(seed);
      inFlight++;
      f.maxInFlight = Math.max(f.maxInFlight, inFlight);
      const b = f.behaviour;
      if (b === 'hang') return; // never answers
      setTimeout(() => {
        inFlight--;
        if (b === 'http_500') return void res.writeHead(500).end('{"error":"boom"}');
        if (b === 'http_400') return void res.writeHead(400).end('{"error":{"message":"bad prompt"}}');
        if (b === 'not_json') return void res.writeHead(200).end('<html>proxy error</html>');
        const choices = Array.from({ length: b === 'wrong_n' ? n + 1 : n }, (_, j) => {
          const ids = expectedIds(prompt, seed, j);
          if (b === 'out_of_vocab') ids[1] = V + 7;
          const lps = ids.map((_, t) => -0.1 * (t + 1));
          return { ids, lps };
        });
        const out = api === 'openai'
          ? {
            choices: choices.map((c, index) => ({
              index, text: 'x', finish_reason: 'length',
              logprobs: b === 'no_logprobs' ? null : { tokens: c.ids.map((i) => `token_id:${i}`), token_logprobs: c.lps },
            })),
            weights_version: 4,
          }
          : choices.map((c) => ({ text: 'x', output_ids: c.ids, meta_info: { finish_reason: { type: 'length' }, output_token_logprobs: b === 'no_logprobs' ? undefined : c.lps.map((lp, t) => [lp, c.ids[t], null]), weight_version: '4' } }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      }, delayMs);
    });
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', () => r()));
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  fakes.push(f);
  return f;
}

const requests = (k: number) => Array.from({ length: k }, (_, i) => ({ promptIds: [i + 1, 2, 3].slice(0, 1 + (i % 3)), n: 2, seed: 100 + i }));
const sampling = { temperature: 1, topP: 1, maxTokens: 8 };

/** Every request got exactly its own n completions (nothing lost, duplicated or swapped). */
function checkAll(reqs: ReturnType<typeof requests>, out: { completionIds: number[]; logProbs: number[] }[][]) {
  expect(out).toHaveLength(reqs.length);
  reqs.forEach((r, i) => {
    expect(out[i].map((s) => s.completionIds)).toEqual(Array.from({ length: r.n }, (_, j) => expectedIds([...r.promptIds], r.seed, j)));
    out[i].forEach((s) => expect(s.logProbs).toEqual([-0.1, -0.2, -0.30000000000000004]));
  });
}

describe('EngineClient', () => {
  it.each(['openai', 'sglang'] as const)('spreads requests over servers with bounded concurrency (%s)', async (api) => {
    const a = await fake('good', api, 20);
    const b = await fake('good', api, 20);
    const client = new EngineClient({ urls: [a.url, b.url], api, vocabSize: V, maxConcurrency: 3 });
    const reqs = requests(12);
    const { done, dispatched } = client.sample(reqs, 'm', sampling);
    await dispatched;
    const out = await done;
    checkAll(reqs, out);
    expect(a.seen.length + b.seen.length).toBe(12);
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length).toBeGreaterThan(0);
    expect(Math.max(a.maxInFlight, b.maxInFlight)).toBeLessThanOrEqual(3);
    expect(out.flat().every((s) => s.weightsVersion === 4)).toBe(true);
    client.close();
  });

  it.each(['not_json', 'no_logprobs', 'out_of_vocab', 'http_500', 'hang', 'wrong_n'] as const)(
    'retries what a server answering %s had on the other server, once each',
    async (bad) => {
      const a = await fake(bad);
      const b = await fake('good');
      const client = new EngineClient({ urls: [a.url, b.url], vocabSize: V, maxConcurrency: 4, timeoutMs: 300 });
      const reqs = requests(6);
      const out = await client.sample(reqs, 'm', sampling).done;
      checkAll(reqs, out);
      expect(out.flat().every((s) => s.server === b.url)).toBe(true);
      // each request reached the good server exactly once
      expect([...b.seen].sort()).toEqual(reqs.map((r) => r.seed).sort());
      expect(client.stats()[0].failures).toBeGreaterThan(0);
      client.close();
    },
  );

  it.each([
    ['not_json', /not JSON/],
    ['no_logprobs', /no logprobs/],
    ['out_of_vocab', /outside the vocabulary/],
    ['http_500', /HTTP 500/],
    ['hang', /timed out/],
    ['wrong_n', /3 choices, asked for 2/],
  ] as const)('with only %s servers, fails with an EngineError naming the problem', async (bad, message) => {
    const a = await fake(bad);
    const b = await fake(bad);
    const client = new EngineClient({ urls: [a.url, b.url], vocabSize: V, timeoutMs: 200, maxAttempts: 3, cooldownMs: 0 });
    const err = await client.sample(requests(2), 'm', sampling).done.catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(message);
    expect(err.attempts).toHaveLength(3);
    client.close();
  });

  it('does not retry a request a server refuses (4xx)', async () => {
    const a = await fake('http_400');
    const b = await fake('good');
    const client = new EngineClient({ urls: [a.url, b.url], vocabSize: V, maxConcurrency: 1 });
    const err = await client.sample([{ promptIds: [1], n: 1, seed: 1 }], 'm', sampling).done.catch((e) => e);
    // ties go to the first server listed, so the refusing one gets the request
    expect(a.seen).toHaveLength(1);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/refused.*\n.*HTTP 400/s);
    expect(b.seen).toHaveLength(0);
    client.close();
  });

  it('rejects bad options with ConfigError naming the field', () => {
    expect(() => new EngineClient({ urls: [], vocabSize: V })).toThrow(/urls/);
    expect(() => new EngineClient({ urls: ['ftp://x'], vocabSize: V })).toThrow(/http\(s\) URL/);
    expect(() => new EngineClient({ urls: ['http://x'], vocabSize: 0 })).toThrow(/vocabSize/);
    expect(() => new EngineClient({ urls: ['http://x'], vocabSize: V, api: 'grpc' as never })).toThrow(/api/);
  });
});
