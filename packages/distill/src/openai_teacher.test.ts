import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@r1-ts/tensor-kernels';
import { OpenAICompatibleTeacher, toR1Text } from './openai_teacher';
import { sampleFromTeacher } from './teacher';

/** A scripted chat-completions server: `script` decides each response from the prompt and the try. */
let server: Server;
let baseURL: string;
let inFlight = 0;
let maxInFlight = 0;
const seen: { prompt: string; seed: number; body: any }[] = [];
let script: (prompt: string, attempt: number) => { status: number; body?: unknown; delayMs?: number; headers?: Record<string, string> };
const attempts = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', async () => {
      const body = JSON.parse(text);
      const prompt = body.messages.at(-1).content as string;
      const attempt = attempts.get(prompt) ?? 0;
      attempts.set(prompt, attempt + 1);
      seen.push({ prompt, seed: body.seed, body });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const r = script(prompt, attempt);
      await new Promise((d) => setTimeout(d, r.delayMs ?? 5));
      inFlight--;
      if (res.destroyed) return;
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(JSON.stringify(r.body ?? { error: { message: 'scripted', type: 'server_error', param: null, code: null } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  attempts.clear();
  maxInFlight = 0;
});

const reply = (message: Record<string, unknown>, finish = 'stop') => ({
  status: 200,
  body: { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish, logprobs: null }] },
});
const opts = { temperature: 0.6, topP: 0.95, maxNewTokens: 32, rng: new Rng(0) };

describe('toR1Text', () => {
  it.each([
    ['7+5=12', '12', '<think>7+5=12</think><answer>12</answer>'],
    ['r', '<answer>12</answer>', '<think>r</think><answer>12</answer>'],
    [null, '<think>r</think>The sum is 12.', '<think>r</think><answer>The sum is 12.</answer>'],
    [null, '<think>unfinished', '<think>unfinished</think>'],
    [null, 'just text', 'just text'],
    ['', '', '<think></think>'],
  ])('(%j, %j)', (reasoning, content, expected) => expect(toR1Text(reasoning, content)).toBe(expected));
});

describe('OpenAICompatibleTeacher', () => {
  it('returns R1-format text from reasoning_content or <think> tags, in prompt order, under the concurrency limit', async () => {
    script = (p) => ({ ...reply(p.startsWith('a') ? { content: '4', reasoning_content: `${p}:2+2=4` } : { content: `<think>${p}</think>5` }), delayMs: 20 });
    const teacher = new OpenAICompatibleTeacher({ baseURL, model: 'm', concurrency: 3 });
    const prompts = ['a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4'];
    const out = await teacher.generate(prompts, opts);
    expect(out.map((o) => o.text)).toEqual(prompts.map((p) => (p.startsWith('a') ? `<think>${p}:2+2=4</think><answer>4</answer>` : `<think>${p}</think><answer>5</answer>`)));
    expect(maxInFlight).toBe(3);
    expect(seen[0].body).toMatchObject({ model: 'm', temperature: 0.6, top_p: 0.95, max_tokens: 32 });
    expect(new Set(seen.map((s) => s.seed)).size).toBe(prompts.length); // a distinct seed per sample
  });

  it('retries 429, 5xx and timeouts with backoff, but not 400', async () => {
    script = (p, attempt) => {
      if (p === 'rate' && attempt < 2) return { status: 429, headers: { 'retry-after': '0' } };
      if (p === 'boom' && attempt < 1) return { status: 503 };
      if (p === 'slow' && attempt < 1) return { ...reply({ content: 'late' }), delayMs: 400 };
      if (p === 'bad') return { status: 400, body: { error: { message: 'no', type: 'invalid_request_error', param: 'x', code: null } } };
      return reply({ content: 'ok', reasoning_content: p }, p === 'slow' ? 'length' : 'stop');
    };
    const teacher = new OpenAICompatibleTeacher({ baseURL, model: 'm', backoffMs: 1, timeoutMs: 150 });
    const out = await teacher.generate(['rate', 'boom', 'slow'], opts);
    expect(out).toEqual([
      { text: '<think>rate</think><answer>ok</answer>', truncated: false },
      { text: '<think>boom</think><answer>ok</answer>', truncated: false },
      { text: '<think>slow</think><answer>ok</answer>', truncated: true },
    ]);
    expect([attempts.get('rate'), attempts.get('boom'), attempts.get('slow')]).toEqual([3, 2, 2]);
    expect(teacher.counts.retries).toBe(4);
    await expect(teacher.generate(['bad'], opts)).rejects.toMatchObject({ status: 400 });
    expect(attempts.get('bad')).toBe(1);
    const stubborn = new OpenAICompatibleTeacher({ baseURL, model: 'm', backoffMs: 1, maxRetries: 1 });
    script = () => ({ status: 500 });
    await expect(stubborn.generate(['x'], opts)).rejects.toMatchObject({ status: 500 });
    expect(attempts.get('x')).toBe(2);
  });

  it('persists each answer; with sampleFromTeacher an interrupted batch resumes without re-asking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teacher-'));
    const cachePath = join(dir, 'requests.jsonl');
    const jsonlPath = join(dir, 'samples.jsonl');
    const problems = ['1+1', '2+2', '3+3'].map((q, i) => ({ id: `p${i}`, prompt: q, answer: String(2 * (i + 1)), task: 'arithmetic', difficulty: 1 }));
    const abort = new AbortController();
    let served = 0;
    // The first three answers come back; later requests hang until the run is interrupted.
    script = (p, attempt) => ({ ...reply({ content: String(2 * Number(p[0])), reasoning_content: `${p}#${attempt}` }), delayMs: ++served <= 3 ? 5 : 1500 });
    const lines = () => (existsSync(cachePath) ? readFileSync(cachePath, 'utf8').split('\n').filter(Boolean).length : 0);
    const watcher = setInterval(() => lines() >= 3 && abort.abort(), 2);
    const first = new OpenAICompatibleTeacher({ baseURL, model: 'm', concurrency: 2, cachePath, signal: abort.signal });
    await expect(sampleFromTeacher(first, problems, { k: 2, batchSize: 6, jsonlPath })).rejects.toThrow();
    clearInterval(watcher);
    await new Promise((r) => setTimeout(r, 100)); // let aborted requests' last bytes land
    const saved = lines();
    expect(saved).toBe(3);
    expect(existsSync(jsonlPath)).toBe(false); // sampleFromTeacher writes per batch: nothing yet
    const before = seen.length;
    const second = new OpenAICompatibleTeacher({ baseURL, model: 'm', concurrency: 2, cachePath });
    const res = await sampleFromTeacher(second, problems, { k: 2, batchSize: 6, jsonlPath });
    expect(seen.length - before).toBe(6 - saved);
    expect(second.counts.cached).toBe(saved);
    expect(res.counts.total).toBe(6);
    expect(res.samples.every((s) => s.correct)).toBe(true); // verified by the accuracy reward on the R1-format text
    // Each (prompt, k) is a different request: the reasoning records which try of that prompt served it.
    expect(new Set(res.samples.map((s) => s.completion)).size).toBe(6);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects bad options naming the field', () => {
    expect(() => new OpenAICompatibleTeacher({ baseURL, model: 'm', concurrency: 0 })).toThrow(ConfigError);
    expect(() => new OpenAICompatibleTeacher({ baseURL, model: 'm', maxRetries: -1 })).toThrow(/maxRetries/);
  });
});
