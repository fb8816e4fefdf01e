// End to end: `r1 grpo --engine URL,URL` against TWO `r1 serve` processes on loopback, both serving a
// tiny random Hugging Face qwen2 directory (HF tokenizer whose `<think>` is several tokens, two eos
// ids in generation_config.json). One run syncs LoRA adapters (`--sync lora`), one full merged
// weights through disk (`--sync disk`). Checks: every step completes, each rollout was sampled from
// the weights version the trainer expected (rollouts.jsonl), the engines' logprobs equal the trainer's
// recomputation to float32 tolerance (max_staleness 0), the TIS metrics are in metrics.jsonl, the
// weights really changed between versions, and both servers answered and end at the last version.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '@r1-ts/tensor-kernels';
import { TINY_HF_SPECIAL, writeTinyQwen2 } from '../serve/tiny_hf_checkpoint';
import { runR1, startServe } from './testing/cli';
import { writeGsm8kJsonl } from './testing/tiny_model';

const dir = mkdtempSync(join(tmpdir(), 'r1-grpo-engine-'));
const model = join(dir, 'qwen2');
const data = join(dir, 'train.jsonl');
const children: ChildProcess[] = [];
let urls: string[] = [];

function grpo(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return runR1(['grpo', ...args]).then((r) => ({ code: r.status, stderr: r.stderr }));
}

const jsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
const get = async (url: string) => (await fetch(url)).json() as Promise<Record<string, unknown>>;

const recipe = [
  'num_generations: 4', 'per_device_train_batch_size: 4', 'gradient_accumulation_steps: 2', 'max_completion_length: 20',
  'max_prompt_length: 128', 'learning_rate: 0.02', 'beta: 0', 'lora_r: 4', 'lora_alpha: 8', 'lora_dropout: 0',
  'save_steps: 3', 'max_steps: 3', 'temperature: 1.0', 'system_prompt: ""', 'seed: 5',
  // the cosine length reward differs between completions of different lengths, so every group has
  // a reward spread and every step moves the weights (a random model never answers correctly)
  'reward_funcs: [cosine]', 'vllm_importance_sampling_mode: token_truncate', 'vllm_importance_sampling_cap: 2',
].join('\n');

beforeAll(async () => {
  // Qwen2.5's eos pair: <|im_end|> (the tokenizer's eos) and <|endoftext|>.
  writeTinyQwen2(model, { seed: 3, generationConfig: { eos_token_id: [TINY_HF_SPECIAL.imEnd, TINY_HF_SPECIAL.endoftext] } }).dispose();
  writeGsm8kJsonl(data, 12);
  writeFileSync(join(dir, 'recipe.yaml'), `${recipe}\n`);
  urls = (await Promise.all([startServe(model), startServe(model)])).map(({ child, url }) => (children.push(child), url));
}, 240_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The checks both sync modes share. */
function checkRun(out: string): void {
  const rows = jsonl(join(out, 'metrics.jsonl'));
  expect(rows.map((r) => r.step)).toEqual([1, 2, 3]);
  for (const r of rows) {
    expect(r.weights_version, `step ${r.step}`).toBe(r.step); // pushed after the step's update
    expect(r['async/staleness_mean']).toBe(0);
    expect(r['async/stale_dropped']).toBe(0);
    // Same weights on both sides (synchronous): only float32 rounding (the server's batched cached
    // decode vs the trainer's one forward) separates the engine's logprobs from the trainer's.
    expect(r['sampling/sampling_logp_difference/max'], `step ${r.step}`).toBeLessThan(1e-4);
    expect(Math.abs(r['sampling/mismatch_kl'])).toBeLessThan(1e-5);
    expect(r['sampling/importance_sampling_ratio/mean']).toBeCloseTo(1, 4);
    expect(r['sampling/is_capped_frac']).toBe(0);
    expect(r.grad_norm, `step ${r.step}`).toBeGreaterThan(0); // the weights change, so a server on an old version would show
  }
  console.log(`${out}: max |Δlogp| per step ${rows.map((r) => r['sampling/sampling_logp_difference/max'].toExponential(2)).join(', ')}; `
    + `grad_norm ${rows.map((r) => r.grad_norm.toFixed(3)).join(', ')}; reward std ${rows.map((r) => r.reward_std?.toExponential(2)).join(', ')}`);
  const rollouts = jsonl(join(out, 'rollouts.jsonl'));
  expect(rollouts).toHaveLength(3 * 8); // 2 prompts × 4 generations a step
  for (const r of rollouts) expect(r.weights_version, `a step-${r.step} rollout`).toBe(r.step - 1);
}

describe('r1 grpo --engine on two r1 serve processes (HF qwen2 checkpoint)', () => {
  it('--sync lora: adapters hot-loaded each step; versions, logprob agreement and TIS metrics', async () => {
    const out = join(dir, 'lora');
    const before = await Promise.all(urls.map((u) => get(`${u}/health`)));
    const r = await grpo(['--model', model, '--dataset', data, '--config', join(dir, 'recipe.yaml'), '-o', out, '--backend', 'cpu',
      '--engine', urls.join(','), '--engine-model', 'tiny', '--sync', 'lora', '--max-staleness', '0']);
    expect(r.code, r.stderr).toBe(0);
    checkRun(out);
    // The trained adapter moved off B = 0.
    const b = [...readSafetensors(join(out, 'adapter', 'adapter_model.safetensors')).tensors].filter(([n]) => n.includes('lora_B'));
    expect(b.some(([, t]) => (t.data as Float32Array).some((v) => v !== 0))).toBe(true);
    for (const [i, u] of urls.entries()) {
      const health = await get(`${u}/health`);
      expect(health.tokens as number, u).toBeGreaterThan(before[i].tokens as number); // both servers sampled
      expect((await get(`${u}/get_weight_version`)).weight_version).toBe('3');
      const models = (await get(`${u}/v1/models`)).data as { id: string }[];
      expect(models.map((m) => m.id)[0]).toBe('tiny');
      expect(models).toHaveLength(2); // the base and the active adapter
    }
  }, 600_000);

  it('--sync disk: a merged float32 checkpoint reloaded each step; same guarantees', async () => {
    const out = join(dir, 'disk');
    const r = await grpo(['--model', model, '--dataset', data, '--config', join(dir, 'recipe.yaml'), '-o', out, '--backend', 'cpu',
      '--engine', urls.join(','), '--engine-model', 'tiny', '--sync', 'disk', '--max-staleness', '0']);
    expect(r.code, r.stderr).toBe(0);
    checkRun(out);
    for (const u of urls) {
      expect((await get(`${u}/get_weight_version`)).weight_version).toBe('3');
      expect(((await get(`${u}/v1/models`)).data as unknown[])).toHaveLength(1); // a disk load drops the adapter
    }
  }, 600_000);
});
