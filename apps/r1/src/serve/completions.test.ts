// /v1/completions and /generate with token ids and logprobs, and the weight-update endpoints, against a
// float64 log-softmax computed in the test from the model's own forward pass.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, readSafetensors, writeSafetensors } from '@r1-ts/tensor-kernels';
import { loadCheckpoint, saveCheckpoint } from '@r1-ts/model';
import type { DeepSeekModel, Tokenizer } from '@r1-ts/model';
import { LoraModel, saveAdapter } from '@r1-ts/lora';
import { EngineClient, LoraWeightSync } from '@r1-ts/grpo';
import { startServer } from './server';
import type { RunningServer } from './server';
import { makeTinyCheckpoint } from './tiny_checkpoint';

const dir = mkdtempSync(join(tmpdir(), 'r1-completions-'));
let srv: RunningServer;
let model: DeepSeekModel;
let tokenizer: Tokenizer;
let client: OpenAI;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  makeTinyCheckpoint(join(dir, 'a'), { steps: 4, seed: 1 });
  const loaded = loadCheckpoint(join(dir, 'a'));
  model = loaded.model;
  tokenizer = loaded.tokenizer!;
  srv = await startServer({ model, tokenizer, port: 0, modelName: 'tiny', maxBatch: 8 });
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'none', maxRetries: 0 });
});

afterAll(async () => {
  await srv?.drain();
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** log softmax(logits/T)[token] of each completion token, in float64, from one uncached forward pass. */
function referenceLogProbs(m: DeepSeekModel, prompt: number[], completion: number[], temperature: number): number[] {
  const all = [...prompt, ...completion];
  const logits = tf.tidy(() => m.forward(tf.tensor2d([all], [1, all.length], 'int32')).logits); // [1, S, V]
  const [, S, V] = logits.shape;
  const v = logits.dataSync();
  logits.dispose();
  return completion.map((id, t) => {
    const row = v.subarray((prompt.length - 1 + t) * V, (prompt.length + t) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x / temperature);
    let z = 0;
    for (const x of row) z += Math.exp(x / temperature - max);
    expect(prompt.length + t).toBeLessThan(S);
    return row[id] / temperature - max - Math.log(z);
  });
}

const prompt = () => tokenizer.encode('What is 12+7?');

describe('POST /v1/completions with token ids (vLLM dialect)', () => {
  it('returns token ids and each sampled token logprob, equal to the model’s log-softmax', async () => {
    const p = prompt();
    const res = await client.completions.create({
      model: 'tiny', prompt: p, max_tokens: 6, temperature: 0.8, n: 2, seed: 7, logprobs: 0,
      // vLLM's extensions, passed through by the client
      ...({ return_tokens_as_token_ids: true, return_token_ids: true } as object),
    });
    expect(res.choices).toHaveLength(2);
    expect((res as unknown as { weights_version: number }).weights_version).toBe(srv.weights.version);
    for (const c of res.choices) {
      const tokens = c.logprobs!.tokens!;
      expect(tokens.every((t) => /^token_id:\d+$/.test(t))).toBe(true);
      const ids = tokens.map((t) => Number(t.slice('token_id:'.length)));
      expect((c as unknown as { token_ids: number[] }).token_ids).toEqual(ids);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.every((id) => id >= 0 && id < tokenizer.vocabSize)).toBe(true);
      const ref = referenceLogProbs(model, p, ids, 0.8);
      c.logprobs!.token_logprobs!.forEach((lp, t) => expect(lp).toBeCloseTo(ref[t], 4));
      expect(['stop', 'length']).toContain(c.finish_reason);
    }
  });

  it('is reproducible for a seed, and choices of one request differ in seed', async () => {
    const body = { model: 'tiny', prompt: [prompt(), prompt()], max_tokens: 8, temperature: 1, n: 2, seed: 3, logprobs: 0, return_tokens_as_token_ids: true };
    const a = await post('/v1/completions', body);
    const b = await post('/v1/completions', body);
    expect(a.status).toBe(200);
    expect(a.json.choices.map((c: any) => c.index)).toEqual([0, 1, 2, 3]);
    expect(b.json.choices.map((c: any) => c.logprobs.tokens)).toEqual(a.json.choices.map((c: any) => c.logprobs.tokens));
    expect(a.headers.get('x-weights-version')).toBe(String(srv.weights.version));
  });

  it('rejects what it cannot honour with a 400 naming the field', async () => {
    const bad = [
      [{ model: 'tiny', prompt: [1, 2], logprobs: 5 }, 'logprobs'],
      [{ model: 'tiny', prompt: [1, tokenizer.vocabSize + 3] }, 'prompt'],
      [{ model: 'tiny', prompt: [1, -2] }, 'prompt'],
      [{ model: 'tiny', prompt: [1, 2], stream: true }, 'stream'],
    ] as const;
    for (const [body, param] of bad) {
      const r = await post('/v1/completions', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.param).toMatch(new RegExp(`^${param}`));
    }
    expect((await post('/v1/completions', { model: 'other', prompt: [1, 2] })).status).toBe(404);
  });
});

describe('POST /generate (SGLang dialect)', () => {
  it('answers output_ids and meta_info.output_token_logprobs as (logprob, id, null)', async () => {
    const p = prompt();
    const r = await post('/generate', { input_ids: p, sampling_params: { max_new_tokens: 5, temperature: 0.7, sampling_seed: 1 }, return_logprob: true });
    expect(r.status).toBe(200);
    const ids: number[] = r.json.output_ids;
    const lps: [number, number, null][] = r.json.meta_info.output_token_logprobs;
    expect(lps.map((x) => x[1])).toEqual(ids);
    const ref = referenceLogProbs(model, p, ids, 0.7);
    lps.forEach(([lp], t) => expect(lp).toBeCloseTo(ref[t], 4));
    expect(r.json.meta_info.weight_version).toBe(String(srv.weights.version));
    const batch = await post('/generate', { input_ids: [p, p], sampling_params: { max_new_tokens: 2 } });
    expect(batch.json).toHaveLength(2);
  });
});

describe('weight updates', () => {
  it('update_weights_from_disk reloads a checkpoint, bumps the version, and completions follow the new weights', async () => {
    makeTinyCheckpoint(join(dir, 'b'), { steps: 2, seed: 5 });
    const before = srv.weights.version;
    const bad = await post('/update_weights_from_disk', { model_path: join(dir, 'missing') });
    expect(bad.status).toBe(400);
    expect(srv.weights.version).toBe(before);
    const ok = await post('/update_weights_from_disk', { model_path: join(dir, 'b') });
    expect(ok.json).toMatchObject({ success: true, weights_version: before + 1 });
    const fresh = loadCheckpoint(join(dir, 'b')).model;
    const p = prompt();
    const r = await post('/v1/completions', { model: 'tiny', prompt: p, max_tokens: 5, seed: 2, logprobs: 0, return_tokens_as_token_ids: true });
    expect(r.json.weights_version).toBe(before + 1);
    const ids = r.json.choices[0].logprobs.tokens.map((t: string) => Number(t.slice(9)));
    const ref = referenceLogProbs(fresh, p, ids, 1);
    r.json.choices[0].logprobs.token_logprobs.forEach((lp: number, t: number) => expect(lp).toBeCloseTo(ref[t], 4));
    const models = (await (await fetch(`${srv.url}/v1/models`)).json()) as { data: { weights_version: number }[] };
    expect(models.data[0].weights_version).toBe(before + 1);
    // an explicit version (the trainer's own count) is taken as given
    const set = await post('/update_weights_from_disk', { model_path: join(dir, 'b'), weight_version: '9' });
    expect(set.json.weights_version).toBe(9);
    fresh.dispose();
  });

  it('update_weights_from_disk reads a sharded checkpoint through its index', async () => {
    makeTinyCheckpoint(join(dir, 'c'), { steps: 1, seed: 8 });
    const all = [...readSafetensors(join(dir, 'c', 'model.safetensors')).tensors];
    const sharded = join(dir, 'c-sharded');
    mkdirSync(sharded);
    const half = Math.ceil(all.length / 2);
    const shards = [all.slice(0, half), all.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((part, k) => {
      const file = `model-0000${k + 1}-of-00002.safetensors`;
      writeSafetensors(join(sharded, file), Object.fromEntries(part.map(([name, t]) => [name, tf.tensor(t.data, t.shape)])));
      for (const [name] of part) weightMap[name] = file;
    });
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const ok = await post('/update_weights_from_disk', { model_path: sharded });
    expect(ok.status).toBe(200);
    const ref = loadCheckpoint(join(dir, 'c')).model;
    const p = prompt();
    const r = await post('/v1/completions', { model: 'tiny', prompt: p, max_tokens: 4, seed: 1, logprobs: 0, return_tokens_as_token_ids: true });
    const ids = r.json.choices[0].logprobs.tokens.map((t: string) => Number(t.slice(9)));
    const want = referenceLogProbs(ref, p, ids, 1);
    r.json.choices[0].logprobs.token_logprobs.forEach((lp: number, t: number) => expect(lp).toBeCloseTo(want[t], 4));
    ref.dispose();
    expect((await post('/update_weights_from_disk', { model_path: join(dir, 'b') })).status).toBe(200); // the base the next tests use
  });

  it('load_lora_adapter merges a PEFT adapter; requests name it; the base name is refused while it is active', async () => {
    // An adapter with random non-zero B, written by the LoRA package into a PEFT directory.
    const donor = loadCheckpoint(join(dir, 'b')).model;
    const lora = LoraModel.attach(donor as never, { r: 4, lora_alpha: 8, target_modules: 'all-linear' }, { seed: 3 });
    for (const l of lora.layers) l.loraB.assign(tf.randomNormal(l.loraB.shape, 0, 0.05, 'float32', 1));
    saveAdapter(lora, join(dir, 'adapter'));
    lora.training = false;
    lora.merge(); // the reference: the donor with the adapter merged
    const r1 = await post('/v1/load_lora_adapter', { lora_name: 'policy-v1', lora_path: join(dir, 'adapter') });
    expect(r1.status).toBe(200);
    const p = prompt();
    const r = await post('/v1/completions', { model: 'policy-v1', prompt: p, max_tokens: 5, seed: 4, logprobs: 0, return_tokens_as_token_ids: true });
    expect(r.status).toBe(200);
    const ids = r.json.choices[0].logprobs.tokens.map((t: string) => Number(t.slice(9)));
    const ref = referenceLogProbs(donor, p, ids, 1);
    r.json.choices[0].logprobs.token_logprobs.forEach((lp: number, t: number) => expect(lp).toBeCloseTo(ref[t], 4));
    expect((await post('/v1/completions', { model: 'tiny', prompt: p, max_tokens: 2 })).status).toBe(404);
    expect((await post('/v1/load_lora_adapter', { lora_name: 'x', lora_path: join(dir, 'nope') })).status).toBe(400);
    lora.dispose();
    donor.dispose();
  });

  it('LoraWeightSync hot-loads each version under a new name; EngineClient samples from it', async () => {
    const donor = loadCheckpoint(join(dir, 'b')).model;
    const lora = LoraModel.attach(donor as never, { r: 2, lora_alpha: 4, target_modules: 'all-linear' }, { seed: 9 });
    const client = new EngineClient({ urls: [srv.url], vocabSize: tokenizer.vocabSize });
    const sync = new LoraWeightSync({ dir: join(dir, 'sync'), baseModel: 'tiny', save: (d) => saveAdapter(lora, d) });
    const p = prompt();
    for (const version of [2, 3]) {
      for (const l of lora.layers) l.loraB.assign(tf.randomNormal(l.loraB.shape, 0, 0.05, 'float32', version));
      const name = await sync.push(client, version);
      expect(name).toBe(`policy-v${version}`);
      expect(srv.weights.version).toBe(version);
      const [[c]] = await client.sample([{ promptIds: p, n: 1, seed: version }], name, { temperature: 1, topP: 1, maxTokens: 5 }).done;
      expect(c.weightsVersion).toBe(version);
      lora.training = false;
      lora.merge();
      const ref = referenceLogProbs(donor, p, c.completionIds, 1);
      lora.unmerge();
      c.logProbs.forEach((lp, t) => expect(lp).toBeCloseTo(ref[t], 4));
    }
    client.close();
    lora.dispose();
    donor.dispose();
  });
});
