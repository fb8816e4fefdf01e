// Pretrained roles of a run (policy.pretrained, student.pretrained): config validation, errors
// before anything is written, Hugging Face stage checkpoints that reload bit for bit, and the SFT
// and RL stage loops on a pretrained llama with a flat tensor count.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, initBackend } from '@r1-ts/tensor-kernels';
import { loadPretrained } from '@r1-ts/model';
import { formatReward } from '@r1-ts/rewards';
import { modelSizes, resolveRecipeConfig } from './config';
import { buildRunData, coldStartData } from './corpus';
import { pretrainedModels, pretrainedNotes, recipeRoles } from './models';
import { runRecipe, stageModelConfig } from './recipe';
import { runRlStage } from './rl_stage';
import { RunDir } from './rundir';
import { runSftStage } from './sft_stage';
import type { StageContext } from './sft_stage';
import { writeTinyHf } from '../test/tiny_hf';

let root: string;
let llama: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  root = mkdtempSync(join(tmpdir(), 'r1-models-'));
  llama = join(root, 'llama');
  writeTinyHf(llama, 'llama', 1);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('recipe config: policy.pretrained and student.pretrained', () => {
  it('accepts a directory for each role and leaves the presets without one', () => {
    const cfg = resolveRecipeConfig('quick', { policy: { pretrained: '/m/llama' }, student: { pretrained: '/m/qwen' } });
    expect(cfg.policy).toEqual({ pretrained: '/m/llama' });
    expect(cfg.student.pretrained).toBe('/m/qwen');
    expect(cfg.student.hidden_size).toBe(16); // the preset's sizes stay (used by the reward model)
    expect(modelSizes(cfg, 'student')).not.toHaveProperty('pretrained');
    expect(stageModelConfig(cfg, 'student', 40)).not.toHaveProperty('pretrained');
    const quick = resolveRecipeConfig('quick');
    expect(quick.policy).toBeUndefined();
    expect(quick.student.pretrained).toBeUndefined();
  });

  it('rejects unknown keys, empty paths and wrong types, naming the field', () => {
    const err = (layer: unknown) => {
      try {
        resolveRecipeConfig('quick', layer);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err({ policy: { pretrained: '/m', lora_r: 8 } })).toMatch(/config\.policy: unknown key\(s\) "lora_r"/);
    expect(err({ policy: { pretrained: '' } })).toMatch(/config\.policy\.pretrained: a Hugging Face checkpoint directory/);
    expect(err({ student: { pretrained: 3 } })).toMatch(/config\.student\.pretrained/);
    expect(err({ teacher: { pretrained: '/m' } })).toMatch(/config\.teacher: unknown key\(s\) "pretrained"/);
  });

  it('a directory that is not a checkpoint with a tokenizer is a ConfigError before anything is written', async () => {
    const out = join(root, 'never');
    const bare = join(root, 'bare');
    rmSync(bare, { recursive: true, force: true });
    writeTinyHf(bare, 'qwen2');
    rmSync(join(bare, 'tokenizer.json'));
    await expect(runRecipe(resolveRecipeConfig('quick', { backend: 'cpu', policy: { pretrained: join(root, 'nope') } }), { out }))
      .rejects.toThrow(/config\.policy\.pretrained: .*nope has no config\.json/);
    await expect(runRecipe(resolveRecipeConfig('quick', { backend: 'cpu', student: { pretrained: bare } }), { out }))
      .rejects.toThrow(/config\.student\.pretrained: .*bare has no tokenizer\.json \(prompts are rendered with the model's tokenizer and chat template\)/);
    const other = join(root, 'gpt2');
    rmSync(other, { recursive: true, force: true });
    writeTinyHf(other, 'qwen2');
    writeFileSync(join(other, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(other, 'config.json'), 'utf8')), model_type: 'gpt2' }));
    await expect(runRecipe(resolveRecipeConfig('quick', { backend: 'cpu', policy: { pretrained: other } }), { out }))
      .rejects.toThrow(/config\.policy\.pretrained: .*config\.json has model_type "gpt2", expected one of llama, qwen2, qwen3, deepseek_v2, deepseek_v3, deepseek_v32/);
    expect(existsSync(out)).toBe(false);
  });

  it('records a relative checkpoint path by its absolute path in run.json, and imports it as pretrain/ckpt-0', async () => {
    const out = join(root, 'relative-run');
    const rel = relative(process.cwd(), llama);
    expect(isAbsolute(rel)).toBe(false);
    const s = await runRecipe(resolveRecipeConfig('quick', { backend: 'cpu', policy: { pretrained: rel } }), { out, stopAfter: 'pretrain' });
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.policy).toEqual({ pretrained: llama });
    expect(s.checkpoints.pretrain).toBe(join(out, 'pretrain', 'ckpt-0'));
    const imported = loadPretrained(s.checkpoints.pretrain, { tokenizer: false }).model;
    const source = loadPretrained(llama, { tokenizer: false }).model;
    for (const [name, v] of source.namedParameters()) expect(imported.namedParameters().get(name)!.dataSync(), name).toEqual(v.dataSync());
    imported.dispose();
    source.dispose();
  });

  it('says in the notes what is skipped by rule for a dense pretrained policy', () => {
    const cfg = resolveRecipeConfig('quick', { attention: 'dsa', policy: { pretrained: llama } });
    const notes = pretrainedNotes(cfg, recipeRoles(cfg, buildRunData(cfg).tokenizer));
    expect(notes).toEqual([
      `policy: pretrained llama from ${llama}; stage pretrain imports it (no pretraining), config.teacher sizes unused`,
      'policy: llama is dense: no MoE bias balancing, no MTP loss, DSA stages (dsa-warmup, dsa-sparse) skipped',
    ]);
  });
});

describe('stages on a pretrained llama role', () => {
  const role = () => pretrainedModels(llama, 'policy.pretrained');
  const context = (dir: string, events: number[]): StageContext => {
    const models = role();
    return {
      run: new RunDir(dir), tokenizer: models.tokenizer, seed: 0, models,
      // The live tensor count after each step (the progress event follows the step's update).
      emit: (e) => { if (e.type === 'progress') events.push(tf.memory().numTensors); },
    };
  };

  it('the role renders prompts with the checkpoint\'s chat template, and <think>/<answer> stay plain text the format reward reads', () => {
    const { tokenizer } = role();
    expect(tokenizer.applyChatTemplate([{ role: 'user', content: '12+30=' }], { addGenerationPrompt: true })).toBe('<s>[INST] 12+30= [/INST]');
    const reply = '<think>12+30=42</think><answer>42</answer>';
    const ids = tokenizer.encode(reply);
    expect(ids.length).toBeGreaterThan(20); // the tags are characters, not single tokens
    expect(formatReward(tokenizer.decode(ids, { skipSpecial: true }), { prompt: '12+30=' })).toBe(1);
  });

  it('SFT: a stage checkpoint is a Hugging Face directory that reloads bit for bit; the tensor count is flat across steps', () => {
    const dir = mkdtempSync(join(root, 'sft-'));
    const events: number[] = [];
    const ctx = context(dir, events);
    const data = coldStartData(buildRunData(resolveRecipeConfig('quick')), 8);
    const init = () => loadPretrained(llama, { tokenizer: false }).model;
    const before = tf.memory().numTensors;
    const ckpt = runSftStage(ctx, 'cold-start', init, data, { steps: 5, batchSize: 2, lr: 1e-2, checkpointEvery: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(events).toHaveLength(5);
    expect(new Set(events.slice(1)).size).toBe(1);
    const saved = loadPretrained(ckpt);
    const again = ctx.models!.load(ckpt);
    const base = init();
    const w = (m: typeof base) => m.namedParameters().get('model.layers.0.self_attn.q_proj.weight')!.dataSync();
    expect(saved.modelType).toBe('llama');
    expect(w(again)).toEqual(w(saved.model));
    expect(w(again)).not.toEqual(w(base));
    expect(readFileSync(join(ckpt, 'tokenizer_config.json'), 'utf8')).toBe(readFileSync(join(llama, 'tokenizer_config.json'), 'utf8'));
    for (const m of [saved.model, again, base]) m.dispose();
  });

  it('SFT: a corrupted stage checkpoint is skipped on resume (its manifest no longer matches)', () => {
    const dir = mkdtempSync(join(root, 'resume-'));
    const ctx = context(dir, []);
    const data = coldStartData(buildRunData(resolveRecipeConfig('quick')), 4);
    const init = () => loadPretrained(llama, { tokenizer: false }).model;
    runSftStage(ctx, 'cold-start', init, data, { steps: 2, batchSize: 2, lr: 1e-2, checkpointEvery: 1 });
    writeFileSync(join(dir, 'cold-start', 'ckpt-2', 'model.safetensors'), 'cut');
    const skipped: string[] = [];
    expect(ctx.run.latestCheckpoint('cold-start', (d) => skipped.push(d))?.step).toBe(1);
    expect(skipped).toEqual([join(dir, 'cold-start', 'ckpt-2')]);
  });

  it('RL: GRPO updates the pretrained policy and saves its reference; the tensor count is flat across steps', async () => {
    const dir = mkdtempSync(join(root, 'rl-'));
    const events: number[] = [];
    const ctx = context(dir, events);
    const init = () => loadPretrained(llama, { tokenizer: false }).model;
    // A reward that differs within a group (completion length), so every step has an advantage.
    const length = { name: 'length', fn: (c: string) => c.length / 10, weight: 1 };
    const prompts = ['1+2=', '3+4=', '5+6=', '7+8='].map((prompt) => ({ prompt }));
    const c = { steps: 4, promptsPerStep: 2, numGenerations: 2, lr: 1e-2, beta: 0.04, temperature: 1, topP: 1, maxCompletionLength: 6, epsilonLow: 0.2, epsilonHigh: 0.28, dynamicSampling: false, checkpointEvery: 2 };
    const before = tf.memory().numTensors;
    const ckpt = await runRlStage(ctx, 'reasoning-rl', init, prompts, [length], c, 'grpo');
    expect(tf.memory().numTensors).toBe(before);
    expect(events).toHaveLength(4);
    expect(new Set(events.slice(1)).size).toBe(1);
    expect(existsSync(join(ckpt, 'reference.safetensors'))).toBe(true);
    const trained = loadPretrained(ckpt, { tokenizer: false }).model;
    const base = init();
    const w = (m: typeof base) => m.namedParameters().get('model.layers.0.mlp.up_proj.weight')!.dataSync();
    expect(w(trained)).not.toEqual(w(base));

    // Stopped after step 2 and resumed from that checkpoint (trainer state + reference): the same weights.
    const dirB = mkdtempSync(join(root, 'rl-b-'));
    await runRlStage(context(dirB, []), 'reasoning-rl', init, prompts, [length], { ...c, steps: 2 }, 'grpo');
    const resumedSteps: number[] = [];
    const resumed = await runRlStage(context(dirB, resumedSteps), 'reasoning-rl', init, prompts, [length], c, 'grpo');
    expect(resumedSteps).toHaveLength(2); // steps 3 and 4 only: it continued from ckpt-2
    const b = loadPretrained(resumed, { tokenizer: false }).model;
    expect(w(b)).toEqual(w(trained));
    for (const m of [trained, base, b]) m.dispose();
  });
});
