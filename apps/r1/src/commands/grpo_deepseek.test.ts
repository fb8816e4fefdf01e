// `r1 grpo` with LoRA on a tiny random deepseek_v3 checkpoint (MLA + MoE): one step runs, and only
// the adapters change: the merged checkpoint equals the base plus scale·B·A on the adapted
// projections and is bit-identical everywhere else (router, routed experts, norms, embeddings).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '@r1-ts/tensor-kernels';
import { CharTokenizer, DeepSeekModel, presets, savePretrained } from '@r1-ts/model';
import { readAdapterConfig } from '@r1-ts/lora';
import { writeGsm8kJsonl } from './testing/tiny_model';

const root = resolve(__dirname, '../../../..');
const bin = join(root, 'apps/r1/src/bin.ts');
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '\n';

function r1(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', bin, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('exit', (code) => done({ code, stderr })));
}

let dir = '';
let model = '';
let data = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'r1-grpo-dsv3-'));
  model = join(dir, 'model');
  data = join(dir, 'train.jsonl');
  const tokenizer = CharTokenizer.fromCorpus([PRINTABLE]);
  const m = new DeepSeekModel({ ...presets.tiny, model_type: 'deepseek_v3', vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, num_nextn_predict_layers: 0 } as never, { seed: 2 });
  // A head that only scores end-of-sequence (its logit ±, the rest 0): completion lengths vary, so the
  // length-based rewards differ within a group and the step has a gradient.
  const V = tokenizer.vocabSize;
  tf.tidy(() => m.lmHead.assign(tf.mul(tf.oneHot([tokenizer.special.eos], V).reshape([V, 1]), tf.randomNormal([1, 32], 0, 1.5, 'float32', 4))));
  savePretrained(model, m, { dtype: 'f32', tokenizer });
  m.dispose();
  writeGsm8kJsonl(data, 8);
  writeFileSync(join(dir, 'recipe.yaml'), [
    'num_generations: 4', 'per_device_train_batch_size: 4', 'gradient_accumulation_steps: 1', 'max_completion_length: 8',
    'max_prompt_length: 64', 'learning_rate: 0.01', 'beta: 0.04', 'lora_r: 4', 'lora_alpha: 8', 'lora_dropout: 0.1',
    'save_steps: 1', 'max_steps: 1', 'temperature: 1.0', 'system_prompt: ""', 'reward_funcs: [accuracy, cosine]', 'seed: 3',
  ].join('\n'));
});

describe('r1 grpo on deepseek_v3 with LoRA', () => {
  it('runs one step; the merged checkpoint differs from the base only by scale·B·A on the adapted projections', async () => {
    const out = join(dir, 'out');
    const r = await r1(['grpo', '--model', model, '--dataset', data, '--config', join(dir, 'recipe.yaml'), '-o', out, '--backend', 'cpu', '--merge', '--save-dtype', 'f32']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['adapter', 'merged', 'checkpoint-1']));
    const config = readAdapterConfig(join(out, 'adapter'));
    expect(config.target_modules).toEqual(expect.arrayContaining(['q_a_proj', 'q_b_proj', 'kv_a_proj_with_mqa', 'kv_b_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']));
    const scale = config.lora_alpha / config.r;
    const adapter = readSafetensors(join(out, 'adapter', 'adapter_model.safetensors')).tensors;
    const base = readSafetensors(join(model, 'model.safetensors')).tensors;
    const merged = readSafetensors(join(out, 'merged', 'model.safetensors')).tensors;
    expect([...merged.keys()].sort()).toEqual([...base.keys()].sort());
    const adapted = new Set([...adapter.keys()].filter((k) => k.endsWith('.lora_A.weight')).map((k) => k.slice('base_model.model.'.length, -'.lora_A.weight'.length)));
    expect([...adapted].some((m) => m.includes('shared_experts'))).toBe(true);
    expect([...adapted].some((m) => /experts\.\d|mlp\.gate$/.test(m))).toBe(false);
    let trained = 0;
    for (const [name, t] of base) {
      const module = name.replace(/\.weight$/, '');
      const got = merged.get(name)!.data;
      if (!adapted.has(module) || !name.endsWith('.weight')) {
        expect(Array.from(got), name).toEqual(Array.from(t.data)); // untouched: frozen base weight
        continue;
      }
      const a = adapter.get(`base_model.model.${module}.lora_A.weight`)!;
      const b = adapter.get(`base_model.model.${module}.lora_B.weight`)!;
      const matrix = (m: typeof a) => tf.tensor2d(Float32Array.from(m.data), m.shape as [number, number]);
      const want = tf.tidy(() => tf.add(matrix(t), tf.mul(tf.matMul(matrix(b), matrix(a)), scale)).dataSync()); // W + scale·B·A
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got[i]));
      expect(diff, name).toBeLessThan(1e-6);
      if (b.data.some((v) => v !== 0)) trained++;
    }
    // One step moved lora_B away from its zero init.
    expect(trained).toBeGreaterThan(0);
  }, 240_000);
});
