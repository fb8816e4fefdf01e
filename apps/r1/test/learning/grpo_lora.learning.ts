// Learning test of `r1 grpo` on a pretrained model (issue #19): a tiny Llama is pretrained here on a
// base corpus whose answers follow the right rule only 35% of the time (65%: a wrong one), so greedy
// decoding picks the wrong rule while sampling still finds the right one — the situation RL sharpens.
// Then `r1 grpo` with LoRA, and with --full, on a JSONL dataset in GSM8K's schema must raise greedy
// pass@1 on held-out problems by a clear margin. Fixed seeds and step counts; no wall-clock checks.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@r1-ts/tensor-kernels';
import { AdamW, CharTokenizer, DenseModel, collate, loadPretrained, savePretrained, valueAndNamedGrads, type CausalLM, type Tokenizer } from '@r1-ts/model';
import { loadAdapter } from '@r1-ts/lora';
import type { DatasetSample } from '@r1-ts/tasks';
import { greedyPassAt1 } from '../../src/commands/grpo';
import { promptIds } from '../../src/commands/train_common';

const root = resolve(__dirname, '../../../..');
const bin = join(root, 'apps/r1/src/bin.ts');

/** "Last digit of 4 9 2?" → 2. The wrong rule the base corpus mostly follows: the first digit. */
function problem(a: number, b: number, c: number): DatasetSample {
  return { id: `${a}${b}${c}`, task: 'gsm8k', prompt: `Last digit of ${a} ${b} ${c}?`, answer: String(c), difficulty: 0 };
}

const all: DatasetSample[] = [];
for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) for (let c = 0; c < 10; c++) if (a !== c) all.push(problem(a, b, c));
new Rng(7).shuffle(all);
const train = all.slice(0, 300);
const heldOut = all.slice(300, 400);

let dir = '';
let tokenizer: Tokenizer;
const eval1 = async (model: CausalLM) => greedyPassAt1({ model, tokenizer }, heldOut.map((s) => ({ prompt: promptIds(tokenizer, s, null), sample: s })), 3, null);

function r1(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', bin, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('exit', (code) => done({ code, stderr })));
}

let basePass = 0;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'r1-grpo-learn-'));
  tokenizer = CharTokenizer.fromCorpus(['Last digit of 0123456789 ?']);
  const model = new DenseModel({
    model_type: 'llama', vocab_size: tokenizer.vocabSize, hidden_size: 48, intermediate_size: 96, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-6, tie_word_embeddings: false,
  }, { seed: 0 });
  // Base corpus: the chat-rendered prompt, then an answer that is right 35% of the time.
  const rng = new Rng(1);
  const docs = Array.from({ length: 4000 }, () => {
    const s = train[rng.int(0, train.length - 1)];
    const answer = rng.uniform() < 0.35 ? s.answer : s.id[0];
    const prompt = promptIds(tokenizer, s, null);
    return { ids: [...prompt, ...tokenizer.encode(answer), tokenizer.special.eos], start: prompt.length };
  });
  const params = new Map([...model.namedParameters()]);
  const opt = new AdamW(params, { lr: 3e-3, weightDecay: 0, beta2: 0.99 });
  for (let i = 0; i < docs.length; i += 32) {
    const batch = docs.slice(i, i + 32);
    const b = collate(batch.map((d) => d.ids), batch.map((d) => d.start), tokenizer.special.pad);
    const { grads } = valueAndNamedGrads(() => model.loss(b.tokens, { lossMask: b.lossMask }).total, params);
    opt.step(grads);
    tf.dispose([b.tokens, b.lossMask]);
  }
  opt.disposeState();
  savePretrained(join(dir, 'base'), model, { dtype: 'f32', tokenizer });
  basePass = await eval1(model);
  model.dispose();
  writeFileSync(join(dir, 'train.jsonl'), train.map((s) => JSON.stringify({ question: s.prompt, answer: `#### ${s.answer}` })).join('\n'));
  writeFileSync(join(dir, 'recipe.yaml'), [
    'num_generations: 8', 'per_device_train_batch_size: 32', 'max_completion_length: 3', 'temperature: 1.0',
    'beta: 0.0', 'reward_funcs: [accuracy]', 'system_prompt: ""', 'save_steps: 1000', 'seed: 0', 'lora_dropout: 0.0',
  ].join('\n'));
}, 1_200_000);

describe('r1 grpo raises held-out pass@1 of a pretrained model', () => {
  it('with LoRA (r 8, alpha 16, all-linear)', async () => {
    const out = join(dir, 'lora');
    const r = await r1(['grpo', '--model', join(dir, 'base'), '--dataset', join(dir, 'train.jsonl'), '--config', join(dir, 'recipe.yaml'),
      '-o', out, '--lora-r', '8', '--lora-alpha', '16', '--learning-rate', '0.01', '--max-steps', '30', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const { model } = loadPretrained(join(dir, 'base'));
    const lora = loadAdapter(model, join(out, 'adapter'));
    const after = await eval1(model);
    console.log(`LoRA GRPO: held-out greedy pass@1 ${(basePass * 100).toFixed(0)}% → ${(after * 100).toFixed(0)}% (${heldOut.length} problems)`);
    expect(basePass).toBeLessThan(0.5);
    expect(after).toBeGreaterThan(basePass + 0.3);
    lora.dispose();
    model.dispose();
  });

  it('with --full', async () => {
    const out = join(dir, 'full');
    const r = await r1(['grpo', '--model', join(dir, 'base'), '--dataset', join(dir, 'train.jsonl'), '--config', join(dir, 'recipe.yaml'),
      '-o', out, '--full', '--learning-rate', '0.003', '--max-steps', '40', '--save-dtype', 'f32', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const { model } = loadPretrained(join(out, 'model'));
    const after = await eval1(model);
    console.log(`full GRPO: held-out greedy pass@1 ${(basePass * 100).toFixed(0)}% → ${(after * 100).toFixed(0)}%`);
    expect(after).toBeGreaterThan(basePass + 0.3);
    model.dispose();
  });
});
