// `r1 grpo` / `r1 sft` end to end on a tiny random Llama checkpoint: outputs, a SIGKILLed run resumed
// to the same adapter bytes as an uninterrupted one, recipe errors before anything is written.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readSafetensors } from '@r1-ts/tensor-kernels';
import { loadPretrained } from '@r1-ts/model';
import { loadAdapter } from '@r1-ts/lora';
import { grpoRecipeSchema, parseRecipe } from './train_recipe';
import { writeGsm8kJsonl, writeTinyLlama } from './testing/tiny_model';

const root = resolve(__dirname, '../../../..');
const bin = join(root, 'apps/r1/src/bin.ts');

interface Outcome { code: number | null; signal: string | null; stderr: string }

/** Runs the CLI; with `killAfter`, SIGKILLs it as soon as a stderr line contains that text. */
function r1(args: string[], killAfter?: string): Promise<Outcome> {
  const child = spawn(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', bin, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (killAfter && stderr.includes(killAfter)) child.kill('SIGKILL');
  });
  return new Promise((done) => child.on('exit', (code, signal) => done({ code, signal, stderr })));
}

let dir = '';
let model = '';
let data = '';
const recipe = [
  'num_generations: 4', 'per_device_train_batch_size: 4', 'gradient_accumulation_steps: 2', 'max_completion_length: 12',
  'max_prompt_length: 64', 'learning_rate: 0.002', 'beta: 0.04', 'lora_r: 4', 'lora_alpha: 8', 'lora_dropout: 0.1',
  'save_steps: 1', 'max_steps: 4', 'temperature: 1.0', 'system_prompt: ""', 'reward_funcs: [accuracy, format]', 'seed: 3',
].join('\n');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'r1-grpo-'));
  model = join(dir, 'model');
  data = join(dir, 'train.jsonl');
  writeTinyLlama(model, 1);
  writeGsm8kJsonl(data, 12);
  writeFileSync(join(dir, 'recipe.yaml'), `${recipe}\neval_steps: 2\neval_dataset_name: ${data}\neval_max_samples: 4\n`);
});

const args = (out: string, ...more: string[]) => ['grpo', '--model', model, '--dataset', data, '--config', join(dir, 'recipe.yaml'), '-o', out, '--backend', 'cpu', ...more];

describe('r1 grpo', () => {
  it('SIGKILLed mid-run and resumed: the final adapter bytes equal an uninterrupted run; --merge writes a loadable merged checkpoint', async () => {
    const a = join(dir, 'a');
    const full = await r1(args(a, '--merge', '--save-dtype', 'f32'));
    expect(full.code, full.stderr).toBe(0);
    expect(readdirSync(a).sort()).toEqual(['adapter', 'checkpoint-1', 'checkpoint-2', 'checkpoint-3', 'checkpoint-4', 'merged', 'metrics.jsonl', 'report.html', 'run.json']);
    const rows = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    for (const k of ['reward', 'kl', 'loss', 'grad_norm', 'rewards/accuracy/mean', 'completions/mean_length', 'clip_ratio/region_mean']) expect(rows[0], k).toHaveProperty(k);
    expect(rows.map((r) => typeof r['eval/pass@1'])).toEqual(['undefined', 'number', 'undefined', 'number']); // eval_steps: 2

    const b = join(dir, 'b');
    const killed = await r1(args(b), '[r1] grpo 2/4');
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(b, 'adapter'))).toBe(false);
    const resumed = await r1(args(b, '--resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at [1-4]/);
    expect(readFileSync(join(b, 'adapter', 'adapter_model.safetensors'))).toEqual(readFileSync(join(a, 'adapter', 'adapter_model.safetensors')));
    const rowsB = readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rowsB.map((r) => [r.step, r.reward, r.loss])).toEqual(rows.map((r) => [r.step, r.reward, r.loss]));

    // The merged checkpoint is the base with W + (α/r)·B·A: same logits as base + adapter.
    const ids = tf.tensor2d([[5, 9, 14, 3, 40]], [1, 5], 'int32');
    const merged = loadPretrained(join(a, 'merged')).model;
    const base = loadPretrained(model).model;
    const lora = loadAdapter(base, join(a, 'adapter'));
    expect(lora.config.base_model_name_or_path).toBe(model);
    const m = merged.forward(ids).logits.dataSync();
    const x = lora.evalMode(() => base.forward(ids).logits.dataSync());
    expect(Math.max(...m.map((v, i) => Math.abs(v - x[i])))).toBeLessThan(1e-4);
    lora.dispose();
    tf.dispose([ids]);
    merged.dispose();
    base.dispose();
  });

  it('--full trains every weight and writes model/; r1 sft trains an adapter and resumes bit-identically', async () => {
    const c = join(dir, 'c');
    const full = await r1(args(c, '--full', '--max-steps', '1', '--save-dtype', 'f32'));
    expect(full.code, full.stderr).toBe(0);
    const before = readSafetensors(join(model, 'model.safetensors')).tensors;
    const after = readSafetensors(join(c, 'model', 'model.safetensors')).tensors;
    const changed = [...before.keys()].filter((k) => !after.get(k)!.data.every((v, i) => v === before.get(k)!.data[i]));
    expect(changed.length).toBeGreaterThan(before.size / 2);

    // r1 sft, uninterrupted and SIGKILLed + resumed: the same adapter bytes.
    writeFileSync(join(dir, 'sft.yaml'), 'per_device_train_batch_size: 4\nsave_steps: 1\nlora_dropout: 0.1\nlora_r: 2\nlearning_rate: 0.01\nmax_steps: 4\n');
    const sftArgs = (out: string, ...more: string[]) => ['sft', '--model', model, '--dataset', data, '--config', join(dir, 'sft.yaml'), '-o', out, '--backend', 'cpu', ...more];
    const s = join(dir, 's');
    const sft = await r1(sftArgs(s));
    expect(sft.code, sft.stderr).toBe(0);
    expect(readdirSync(s).sort()).toEqual(['adapter', 'checkpoint-1', 'checkpoint-2', 'checkpoint-3', 'checkpoint-4', 'metrics.jsonl', 'report.html', 'run.json']);
    const rows = readFileSync(join(s, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(rows[3].loss).toBeLessThan(rows[0].loss);
    const t = join(dir, 't');
    expect((await r1(sftArgs(t), '[r1] sft 2/4')).signal).toBe('SIGKILL');
    const resumed = await r1(sftArgs(t, '--resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(t, 'adapter', 'adapter_model.safetensors'))).toEqual(readFileSync(join(s, 'adapter', 'adapter_model.safetensors')));
  });

  it('an unknown recipe key exits 2 naming it, and nothing is written', async () => {
    writeFileSync(join(dir, 'bad.yaml'), `${recipe}\nnum_generation: 4\n`);
    const out = join(dir, 'bad-out');
    const r = await r1(['grpo', '--model', model, '--dataset', data, '--config', join(dir, 'bad.yaml'), '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key(s) "num_generation"');
    expect(existsSync(out)).toBe(false);
  });
});

describe('grpo recipe', () => {
  const parse = (raw: Record<string, unknown>) => parseRecipe(grpoRecipeSchema, raw, 'recipe.yaml');
  it('fills TRL defaults and rejects bad values naming the key', () => {
    const r = parse({ model_name_or_path: 'm' });
    expect(r).toMatchObject({ num_generations: 8, beta: 0, epsilon: 0.2, loss_type: 'grpo', lora_r: 16, lora_alpha: 32, lora_target_modules: 'all-linear', save_steps: 500 });
    const bad = (raw: Record<string, unknown>, key: string) => {
      const e = (() => { try { parse(raw); } catch (x) { return x as ConfigError; } })();
      expect(e).toBeInstanceOf(ConfigError);
      expect(e!.fields).toEqual([key]);
      expect(e!.message).toContain(key);
    };
    bad({ num_generations: 1 }, 'num_generations');
    bad({ loss_type: 'ppo' }, 'loss_type');
    bad({ learning_rate: -1 }, 'learning_rate');
    bad({ reward_funcs: ['accuracy', 'vibes'] }, 'reward_funcs.1');
    bad({ lora_dropout: 1 }, 'lora_dropout');
    bad({ importance_sampling_level: 'seq' }, 'importance_sampling_level');
  });
});
