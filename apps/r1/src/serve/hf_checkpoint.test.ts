// serve / chat / eval / generate on a Hugging Face directory (tiny random qwen2, HF tokenizer where
// `<think>` is plain text) with `--adapter` and two eos ids: the reference is an uncached greedy
// forward computed here, cut at the first of the listed eos ids.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { eosTokenIds, generate, loadPretrained } from '@r1-ts/model';
import type { CausalLM, Tokenizer } from '@r1-ts/model';
import { LoraModel, saveAdapter } from '@r1-ts/lora';
import { generationSampling, openCheckpoint } from '../commands/checkpoint_dir';
import { parseChatRequest } from './schema';
import { Engine } from './engine';
import { startServer } from './server';
import { TINY_HF_SPECIAL, writeTinyQwen2 } from './tiny_hf_checkpoint';
import { runR1 } from '../commands/testing/cli';

const dir = mkdtempSync(join(tmpdir(), 'r1-hf-serve-'));
const ckpt = join(dir, 'qwen2');
const adapterDir = join(dir, 'adapter');
const QUESTION = 'What is 1+2?';
const BUDGET = 16;

const r1 = runR1;

/** Greedy continuation by re-running the whole sequence (no cache, no generate(), no stop). */
function greedy(model: CausalLM, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    seq.push(tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([seq], undefined, 'int32'));
      return tf.argMax(tf.reshape(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, -1]), [-1])).dataSync()[0];
    }));
  }
  return seq.slice(prompt.length);
}

/** `ids` up to and including the first stop id. */
const cut = (ids: number[], stops: number[]) => {
  const i = ids.findIndex((t) => stops.includes(t));
  return i < 0 ? ids : ids.slice(0, i + 1);
};

let tok: Tokenizer;
let prompt: number[];
let stopX: number; // a token the greedy continuation reaches: listed as the second eos id
let expected: number[];
let adapted: number[];

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  writeTinyQwen2(ckpt, { seed: 1, tieWordEmbeddings: false }).dispose(); // untied: a varied greedy continuation
  const base = loadPretrained(ckpt);
  tok = base.tokenizer!;
  prompt = tok.encode(tok.applyChatTemplate([{ role: 'user', content: QUESTION }], { addGenerationPrompt: true }));
  const ref = greedy(base.model, prompt, BUDGET);
  // The second eos id: a token the greedy continuation reaches at index ≥ 5 (first occurrence).
  const k = ref.findIndex((t, i) => i >= 5 && !ref.slice(0, i).includes(t) && t < TINY_HF_SPECIAL.endoftext);
  expect(k).toBeGreaterThanOrEqual(5);
  stopX = ref[k];
  const eos = [TINY_HF_SPECIAL.imEnd, stopX];
  expected = cut(ref, eos);
  expect(expected.length).toBeLessThan(BUDGET); // it does stop early
  // Llama-3 style: config.json and generation_config.json list several eos ids.
  const config = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
  writeFileSync(join(ckpt, 'config.json'), JSON.stringify({ ...config, eos_token_id: eos }));
  writeFileSync(join(ckpt, 'generation_config.json'), JSON.stringify({ eos_token_id: eos, do_sample: true, temperature: 0.6, top_p: 0.95 }));

  // An adapter that changes the greedy output.
  const lora = LoraModel.attach(base.model, { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 3 });
  for (const [name, v] of lora.namedAdapterParameters()) if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 9));
  saveAdapter(lora, adapterDir);
  adapted = cut(lora.evalMode(() => greedy(base.model, prompt, BUDGET)), eos);
  expect(adapted).not.toEqual(expected); // the adapter matters, so checks on it can fail
  lora.dispose();
  base.model.dispose();
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe('a Hugging Face checkpoint directory', () => {
  it('openCheckpoint: HF format, every eos id, generation_config sampling; generate() stops at any config eos id', () => {
    const opened = openCheckpoint(ckpt);
    expect(opened.format).toBe('hf');
    expect(opened.stopIds).toEqual([TINY_HF_SPECIAL.imEnd, stopX]);
    expect(generationSampling(opened.generationConfig)).toEqual({ temperature: 0.6, topP: 0.95 });
    expect(tok.encode('<think>').length).toBeGreaterThan(1); // no single token for the tag
    // in-process sampling: the default stop ids include the config's list
    expect(eosTokenIds(opened.tokenizer, opened.model.config)).toEqual([TINY_HF_SPECIAL.imEnd, stopX]);
    const before = tf.memory().numTensors;
    const [res] = generate(opened.model, opened.tokenizer, [prompt], { maxNewTokens: BUDGET, temperature: 0 });
    expect(res.tokens).toEqual(expected);
    expect(res.finishReason).toBe('stop');
    expect(tf.memory().numTensors).toBe(before);
    opened.model.dispose();
    expect(() => openCheckpoint(ckpt, { adapter: join(dir, 'nope') })).toThrow(/--adapter .*nope/);
  });

  it('Engine on the dense model: sequences joining and leaving a batch of 2 decode as each alone', async () => {
    const opened = openCheckpoint(ckpt);
    const prompts = ['1+1', 'What is 7+8? Think.', 'a', 'Qwen2 here, hello there'].map((t) => opened.tokenizer.encode(t));
    const budgets = [9, 4, 12, 6];
    const alone = prompts.map((p, i) => cut(greedy(opened.model, p, budgets[i]), opened.stopIds));
    const before = tf.memory().numTensors;
    const engine = new Engine(opened.model, opened.tokenizer, { maxBatch: 2, stopIds: opened.stopIds });
    const got = await Promise.all(prompts.map((prompt, i) => engine.submit({ prompt, maxTokens: budgets[i], seed: i, sampling: { temperature: 0 } })));
    expect(got.map((r) => r.tokens)).toEqual(alone);
    expect(engine.stats().steps).toBeLessThan(budgets.reduce((a, b) => a + b, 0)); // rows shared decode steps
    expect(tf.memory().numTensors).toBe(before);
    opened.model.dispose();
  });

  it('r1 serve: completions stop at the second eos id; chat splits plain-text <think> reasoning; defaults from generation_config', async () => {
    const opened = openCheckpoint(ckpt);
    const gen = generationSampling(opened.generationConfig);
    const srv = await startServer({
      model: opened.model, tokenizer: opened.tokenizer, port: 0, modelName: 'tiny', stopIds: opened.stopIds,
      samplingDefaults: { temperature: gen.temperature!, topP: gen.topP! },
    });
    try {
      const c = await post(`${srv.url}/v1/completions`, { model: 'tiny', prompt, max_tokens: BUDGET, temperature: 0, return_token_ids: true });
      expect(c.choices[0].token_ids).toEqual(expected);
      expect(c.choices[0].finish_reason).toBe('stop');
      const g = await post(`${srv.url}/generate`, { input_ids: prompt, sampling_params: { max_new_tokens: BUDGET, temperature: 0 } });
      expect(g.output_ids).toEqual(expected);
      expect(g.meta_info.finish_reason).toEqual({ type: 'stop', matched: stopX });
      // The template's generation prompt opened `<think>` (seven plain tokens): the reply is reasoning.
      const chat = await post(`${srv.url}/v1/chat/completions`, { model: 'tiny', messages: [{ role: 'user', content: QUESTION }], temperature: 0, max_tokens: BUDGET });
      expect(chat.choices[0].message.reasoning_content).toBe(tok.decode(expected.slice(0, -1), { skipSpecial: true })); // the eos id ends it, unprinted
      expect(chat.choices[0].message.content).toBe('');
      // A request without temperature / top_p samples with generation_config's 0.6 / 0.95.
      const body = { model: 'tiny', prompt, max_tokens: BUDGET, seed: 11, return_token_ids: true };
      const implicit = await post(`${srv.url}/v1/completions`, body);
      const explicit = await post(`${srv.url}/v1/completions`, { ...body, temperature: 0.6, top_p: 0.95 });
      expect(implicit.choices[0].token_ids).toEqual(explicit.choices[0].token_ids);
      expect(parseChatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, { temperature: 0.6, topP: 0.95 })).toMatchObject({ temperature: 0.6, topP: 0.95 });
    } finally {
      await srv.drain();
      opened.model.dispose();
    }
  });

  it('r1 serve --adapter: the adapter is served; load_lora_adapter replaces it rather than stacking on it', async () => {
    const opened = openCheckpoint(ckpt, { adapter: adapterDir });
    expect(opened.adapter?.merged).toBe(true);
    const srv = await startServer({ model: opened.model, tokenizer: opened.tokenizer, port: 0, modelName: 'tiny', stopIds: opened.stopIds, adapter: opened.adapter! });
    try {
      const ask = async (model: string) => (await post(`${srv.url}/v1/completions`, { model, prompt, max_tokens: BUDGET, temperature: 0, return_token_ids: true })).choices[0].token_ids;
      expect(await ask('tiny')).toEqual(adapted);
      await post(`${srv.url}/v1/load_lora_adapter`, { lora_name: 'again', lora_path: adapterDir });
      expect(await ask('again')).toEqual(adapted); // applied once, on the checkpoint's own weights
    } finally {
      await srv.drain();
      opened.model.dispose();
    }
  });

  it('r1 generate, r1 chat and r1 eval take the HF directory (and --adapter)', async () => {
    const [g, chat, ev, badAdapter] = await Promise.all([
      r1(['generate', '--model', ckpt, '--prompt-ids', prompt.join(','), '--temperature', '0', '--max-tokens', String(BUDGET), '--json', '--backend', 'cpu']),
      r1(['chat', ckpt, '--adapter', adapterDir, '--temperature', '0', '--max-tokens', String(BUDGET), '--backend', 'cpu'], `${QUESTION}\n/exit\n`),
      r1(['eval', ckpt, '--adapter', adapterDir, '--problems', '2', '--k', '1', '--max-tokens', '8', '--json', '--backend', 'cpu']),
      r1(['serve', ckpt, '--adapter', join(dir, 'nope'), '--port', '0', '--backend', 'cpu']),
    ]);
    expect(g.status, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).token_ids).toEqual(expected); // generation_config's second eos id ends it
    expect(chat.status, chat.stderr).toBe(0);
    expect(chat.stdout).toContain(tok.decode(adapted.length < BUDGET ? adapted.slice(0, -1) : adapted, { skipSpecial: true }).trimEnd());
    expect(ev.status, ev.stderr).toBe(0);
    const result = JSON.parse(ev.stdout.trim().split('\n').at(-1)!);
    expect(result.k).toBe(1);
    expect(result.problems).toBe(2);
    expect(badAdapter.status).toBe(2);
    expect(badAdapter.stderr).toMatch(/r1 serve: --adapter .*nope/);
  }, 240_000);
});
