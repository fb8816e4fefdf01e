import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { DeepSeekModel, generate, loadCheckpoint, presets, renderChat } from '@r1-ts/model';
import type { DeepSeekModel as Model, Tokenizer } from '@r1-ts/model';
import { OpenAICompatibleTeacher, sampleFromTeacher, sftStudent } from '@r1-ts/distill';
import type { TaskSample } from '@r1-ts/tasks';
import { registerEval } from '../commands/eval';
import { startServer } from './server';
import type { RunningServer } from './server';
import { Engine } from './engine';
import type { SequenceResult } from './engine';
import { makeTinyCheckpoint } from './tiny_checkpoint';

const dir = mkdtempSync(join(tmpdir(), 'r1-serve-'));
const ckpt = join(dir, 'ckpt');
let srv: RunningServer;
let model: Model;
let tokenizer: Tokenizer;
let problems: TaskSample[];
let client: OpenAI;
const finished: SequenceResult[] = [];

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  problems = makeTinyCheckpoint(ckpt, { steps: 8 }).evalProblems;
  const loaded = loadCheckpoint(ckpt);
  model = loaded.model;
  tokenizer = loaded.tokenizer!;
  srv = await startServer({ model, tokenizer, port: 0, modelName: 'tiny', maxBatch: 16, onFinish: (r) => finished.push(r) });
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'none', maxRetries: 0 });
});

afterAll(async () => {
  await srv?.drain();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (content: string) => [{ role: 'user' as const, content }];

/** Raw POST, for bodies the openai client would not send. */
function post(path: string, body: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('r1 serve: OpenAI protocol', () => {
  it('continuous batching: sequences joining and leaving a running batch decode exactly as alone', async () => {
    const engine = new Engine(model, tokenizer, { maxBatch: 3 });
    const prompts = problems.slice(0, 7).map((p, i) => tokenizer.encode(renderChat(ask(i % 2 ? p.prompt : `${p.prompt} ${p.prompt}`))));
    const outs = await Promise.all(prompts.map(async (prompt, i) => {
      await new Promise((r) => setTimeout(r, 15 * i)); // staggered arrivals: rows join mid-flight
      return engine.submit({ prompt, maxTokens: 12 + 3 * i, seed: 0, sampling: { temperature: 0 } });
    }));
    prompts.forEach((prompt, i) => {
      const [alone] = generate(model, tokenizer, [prompt], { temperature: 0, maxNewTokens: 12 + 3 * i });
      expect(outs[i].tokens).toEqual(alone.tokens);
    });
  });

  it('answers a non-streaming request with n = 2, greedy output equal to generate()', async () => {
    const q = problems[0].prompt;
    const res = await client.chat.completions.create({ model: 'tiny', messages: ask(q), n: 2, temperature: 0, max_tokens: 30, seed: 1 });
    expect(res.object).toBe('chat.completion');
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    const prompt = tokenizer.encode(renderChat(ask(q)));
    const [ref] = generate(model, tokenizer, [prompt], { temperature: 0, maxNewTokens: 30 });
    for (const c of res.choices) {
      const m = c.message as unknown as { content: string; reasoning_content: string | null };
      // reasoning_content = inside <think>…</think>; content = the rest without <answer> tags
      const afterThink = ref.text.includes('</think>') ? ref.text.slice(ref.text.indexOf('</think>') + 8) : '';
      const expected = ref.text.startsWith('<think>') ? { r: ref.text.slice(7).split('</think>')[0], c: afterThink.replace(/<\/?answer>/g, '') } : { r: null, c: ref.text.replace(/<\/?answer>/g, '') };
      expect(m.reasoning_content).toBe(expected.r);
      expect(m.content).toBe(expected.c);
      expect(c.finish_reason).toBe(ref.finishReason);
    }
    expect(res.usage).toEqual({ prompt_tokens: prompt.length, completion_tokens: 2 * ref.tokens.length, total_tokens: prompt.length + 2 * ref.tokens.length });
  });

  it('streams n = 2 in chunks that add up to the non-streaming answer with the same seed', async () => {
    const body = { model: 'tiny', messages: ask(problems[1].prompt), n: 2, temperature: 1, max_tokens: 25, seed: 7 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    const got = [{ r: '', c: '', finish: '' }, { r: '', c: '', finish: '' }];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) {
        const d = ch.delta as { content?: string; reasoning_content?: string };
        got[ch.index].r += d.reasoning_content ?? '';
        got[ch.index].c += d.content ?? '';
        if (ch.finish_reason) got[ch.index].finish = ch.finish_reason;
      }
    }
    whole.choices.forEach((c, i) => {
      expect(got[i].r).toBe((c.message as { reasoning_content?: string | null }).reasoning_content ?? '');
      expect(got[i].c).toBe(c.message.content);
      expect(got[i].finish).toBe(c.finish_reason);
    });
    expect(usage).toEqual(whole.usage);
  });

  it('completes 16 concurrent streams in shared decode steps', async () => {
    const before = srv.stats();
    const tensorsBefore = tf.memory().numTensors;
    const t0 = performance.now();
    const outs = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const stream = await client.chat.completions.create({ model: 'tiny', messages: ask(problems[i % problems.length].prompt), max_tokens: 40, seed: i, stream: true });
        let chunks = 0;
        let finish = '';
        for await (const c of stream) {
          chunks++;
          finish = c.choices[0]?.finish_reason ?? finish;
        }
        return { chunks, finish };
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const after = srv.stats();
    expect(outs.every((o) => o.finish === 'stop' || o.finish === 'length')).toBe(true);
    const tokens = after.tokens - before.tokens;
    const steps = after.steps - before.steps;
    expect(steps).toBeLessThan(tokens / 3); // batched: many sequences per forward pass
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the batch cache is freed when idle
    console.log(`[serve] 16 concurrent streams: ${tokens} tokens in ${seconds.toFixed(2)} s = ${(tokens / seconds).toFixed(0)} tokens/s (${steps} steps, ${(tokens / steps).toFixed(1)} tokens/step)`);
  });

  it('rejects bad requests with 4xx and OpenAI error bodies', async () => {
    const shape = (json: any) => expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    const bad = await post('/v1/chat/completions', '{"model": "tiny", "messages": [');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_json');
    shape(bad.json);
    const wrongType = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: ask('1+1'), temperature: 'hot' }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.param).toBe('temperature');
    shape(wrongType.json);
    const badMessages = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 5 }] }));
    expect([badMessages.status, badMessages.json.error.param]).toEqual([400, 'messages[0].content']);
    const negative = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: ask('1+1'), max_tokens: -3 }));
    expect([negative.status, negative.json.error.param]).toEqual([400, 'max_tokens']);
    const unknown = await client.chat.completions.create({ model: 'gpt-9', messages: ask('1+1') }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe('model_not_found');
    const long = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: ask('1'.repeat(200)), max_tokens: 10 }));
    expect([long.status, long.json.error.code]).toEqual([400, 'context_length_exceeded']);
    const tooBig = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: ask('1+1'), max_tokens: 125 })); // 6 prompt tokens + 125 > 128
    expect(tooBig.status).toBe(400);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    const health = await fetch(`${srv.url}/health`).then((r) => r.json());
    expect(health).toMatchObject({ status: 'ok', model: 'tiny', running: 0, waiting: 0 });
  });

  it('stops generating for a client that disconnects and frees its slots', async () => {
    const n = finished.length;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${srv.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy(); // hang up after the first chunk
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'tiny', messages: ask('What is 1+1?'), n: 8, max_tokens: 100, temperature: 1, stream: true, seed: 3 }));
      setTimeout(() => reject(new Error('no first chunk')), 20_000);
    });
    await vi.waitFor(() => expect(finished.length).toBe(n + 8), { timeout: 10_000, interval: 20 });
    const gone = finished.slice(n);
    // Eight sequences of up to 100 tokens: a hang-up after the first chunk stops (nearly) all of them early.
    expect(gone.filter((r) => r.finishReason === 'abort').length).toBeGreaterThanOrEqual(4);
    expect(gone.reduce((a, r) => a + r.tokens.length, 0)).toBeLessThan(400);
    expect(srv.stats()).toMatchObject({ running: 0, waiting: 0 });
    const after = await client.chat.completions.create({ model: 'tiny', messages: ask('What is 1+1?'), max_tokens: 5 });
    expect(after.choices).toHaveLength(1);
  });
});

describe('remote teacher and remote eval', () => {
  it('distils from the server through OpenAICompatibleTeacher; a rerun after an abort re-requests nothing finished', async () => {
    const cachePath = join(dir, 'distill', 'requests.jsonl');
    const jsonlPath = join(dir, 'distill', 'samples.jsonl');
    const prompts = problems.slice(0, 6);
    const opts = { k: 2, batchSize: 12, maxNewTokens: 30, temperature: 0.6, jsonlPath };
    const lines = () => (existsSync(cachePath) ? readFileSync(cachePath, 'utf8').split('\n').filter(Boolean).length : 0);
    const stop = new AbortController();
    const first = new OpenAICompatibleTeacher({ baseURL: `${srv.url}/v1`, model: 'tiny', concurrency: 2, cachePath, signal: stop.signal });
    const watcher = setInterval(() => lines() >= 5 && stop.abort(), 5);
    const r0 = srv.stats().requests;
    await expect(sampleFromTeacher(first, prompts, opts)).rejects.toThrow();
    clearInterval(watcher);
    const done = lines();
    expect(done).toBeGreaterThanOrEqual(5);
    expect(done).toBeLessThan(12);
    await vi.waitFor(() => expect(srv.stats().running).toBe(0), { timeout: 10_000 }); // aborted requests left the batch
    await new Promise((r) => setTimeout(r, 100)); // and their last bytes have landed
    const r1 = srv.stats().requests;
    const second = new OpenAICompatibleTeacher({ baseURL: `${srv.url}/v1`, model: 'tiny', concurrency: 4, cachePath });
    const res = await sampleFromTeacher(second, prompts, opts);
    expect(srv.stats().requests - r1).toBe(12 - done); // only the unfinished samples were asked for
    expect(second.counts.cached).toBe(done);
    expect(r1 - r0).toBeGreaterThanOrEqual(done);
    expect(res.samples).toHaveLength(12);
    expect(new Set(res.samples.map((s) => `${s.id}#${s.k}`)).size).toBe(12);
    // A third run finds every sample on disk: no request at all.
    const r2 = srv.stats().requests;
    await sampleFromTeacher(new OpenAICompatibleTeacher({ baseURL: `${srv.url}/v1`, model: 'tiny', cachePath }), prompts, opts);
    expect(srv.stats().requests).toBe(r2);
    // Student SFT on the teacher's samples (the plumbing of R1 §2.4; too few to learn the task).
    const student = new DeepSeekModel({ ...presets.tiny, vocab_size: tokenizer.vocabSize, hidden_size: 16, num_hidden_layers: 1, first_k_dense_replace: 1, q_lora_rank: 8, kv_lora_rank: 8, num_nextn_predict_layers: 0, max_position_embeddings: 128 });
    const tensors = tf.memory().numTensors;
    const stats = sftStudent(student, tokenizer, res.samples, { steps: 3, batchSize: 4, lr: 3e-3 });
    expect(stats).toHaveLength(3);
    expect(stats.every((s) => Number.isFinite(s.loss))).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    student.dispose();
  });

  it('`r1 eval --endpoint` prints the same pass@1 as `r1 eval CKPT` with the same seed', async () => {
    const run = async (args: string[]) => {
      const out: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      try {
        const program = new Command().exitOverride();
        registerEval(program);
        await program.parseAsync(['eval', ...args], { from: 'user' });
      } finally {
        spy.mockRestore();
      }
      expect(process.exitCode ?? 0).toBe(0);
      return out.join('\n').split('\n');
    };
    const common = ['--task', 'addition', '--digits', '2', '--problems', '6', '--k', '3', '--seed', '5', '--max-tokens', '30'];
    const remote = await run(['--endpoint', `${srv.url}/v1`, '--model', 'tiny', ...common]);
    const local = await run([ckpt, '--backend', 'wasm', ...common]);
    const metric = (lines: string[], key: string) => lines.find((l) => l.startsWith(key));
    expect(metric(remote, 'pass@1')).toMatch(/^pass@1\s+\d+\.\d\d%$/);
    for (const key of ['pass@1', 'cons@3', 'format', 'length']) expect(metric(remote, key)).toBe(metric(local, key));
  });
});

describe('r1 serve as a process', () => {
  it('drains in-flight streams on SIGTERM, then exits 0', async () => {
    const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@r1-ts/source', bin, 'serve', ckpt, '--port', '0', '--name', 'tiny', '--backend', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c) => (log += c));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        log += c;
        const m = /on (http:\/\/[^\s]+)\/v1/.exec(log);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`r1 serve exited early:\n${log}`)));
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const remote = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });
    const stream = await remote.chat.completions.create({ model: 'tiny', messages: ask('What is 1+1?'), max_tokens: 60, temperature: 1, seed: 2, stream: true });
    let chunks = 0;
    let finish = '';
    for await (const c of stream) {
      if (chunks++ === 1) child.kill('SIGTERM');
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish === 'stop' || finish === 'length').toBe(true); // finished, not cut
    expect(await exited).toBe(0);
    expect(log).toContain('draining');
  }, 60_000);
});
