// The R1 recipe on pretrained models: a tiny random llama checkpoint as the policy and a tiny qwen2
// as the student (each with its own tokenizer.json and chat template), every stage of the quick
// preset end to end; the stage checkpoints are Hugging Face directories loadPretrained reads.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPretrained } from '@r1-ts/model';
import { resolveRecipeConfig } from './config';
import { recipeStages, runRecipe } from './recipe';
import type { RecipeSummary } from './recipe';
import { writeTinyHf } from '../test/tiny_hf';

const POLICY_STAGES = ['pretrain', 'cold-start', 'reasoning-rl', 'rejection-sft', 'rl-all', 'r1-zero'];
const STUDENT_STAGES = ['pretrain-student', 'distill', 'student-rl'];

describe('r1 run with a pretrained llama policy and a pretrained qwen2 student', () => {
  let root: string;
  let out: string;
  let summary: RecipeSummary;
  const logs: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'r1-pretrained-'));
    writeTinyHf(join(root, 'llama'), 'llama', 1);
    writeTinyHf(join(root, 'qwen2'), 'qwen2', 2);
    out = join(root, 'run');
    // attention: dsa is asked for: the dense policy skips the DSA stages by rule (and says so).
    const cfg = resolveRecipeConfig('quick', { backend: 'cpu', attention: 'dsa', policy: { pretrained: join(root, 'llama') }, student: { pretrained: join(root, 'qwen2') } });
    expect(recipeStages(cfg)).not.toContain('dsa-warmup');
    summary = await runRecipe(cfg, { out, onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } });
  }, 600_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs every stage, evaluates each, writes the report, and says what it did by rule', () => {
    const stages = recipeStages(resolveRecipeConfig('quick', { policy: { pretrained: 'x' } }));
    expect(Object.keys(summary.checkpoints).sort()).toEqual([...stages].sort());
    expect(Object.keys(summary.eval).sort()).toEqual([...POLICY_STAGES, 'distill', 'student-rl'].sort());
    for (const e of Object.values(summary.eval)) expect(e.problems).toBe(8);
    expect(summary.report && existsSync(summary.report)).toBe(true);
    expect(summary.notes.join('\n')).toMatch(/policy: pretrained llama .*stage pretrain imports it/);
    expect(summary.notes.join('\n')).toMatch(/llama is dense: no MoE bias balancing, no MTP loss, DSA stages \(dsa-warmup, dsa-sparse\) skipped/);
    expect(summary.notes.join('\n')).toMatch(/student: pretrained qwen2/);
    expect(logs).toEqual(expect.arrayContaining(summary.notes));
    const html = readFileSync(summary.report!, 'utf8');
    expect(html).toContain(`<dt>policy</dt><dd>pretrained: ${join(root, 'llama')}</dd>`);
    expect(html).toContain(`<dt>pretrained student</dt><dd>${join(root, 'qwen2')}</dd>`);
    expect(html).toContain(`<dt>by rule</dt><dd>${summary.notes.join('; ')}</dd>`);
  });

  it('writes Hugging Face checkpoints of each role that loadPretrained reads, with the source tokenizer files', () => {
    for (const [stages, family] of [[POLICY_STAGES, 'llama'], [STUDENT_STAGES, 'qwen2']] as const) {
      for (const stage of stages) {
        const dir = summary.checkpoints[stage];
        const loaded = loadPretrained(dir);
        expect(loaded.modelType, stage).toBe(family);
        expect(loaded.tokenizer?.chatTemplate, stage).toContain(family === 'llama' ? '[INST]' : '<|im_start|>');
        expect(readFileSync(join(dir, 'tokenizer.json'))).toEqual(readFileSync(join(root, family, 'tokenizer.json')));
        expect(readdirSync(dir)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'generation_config.json', 'checksums.json']));
        loaded.model.dispose();
      }
    }
  });

  it('trains: the SFT stages change the weights they start from; each RL stage takes its steps', () => {
    const weights = (stage: string) => {
      const { model } = loadPretrained(summary.checkpoints[stage], { tokenizer: false });
      const w = model.namedParameters().get('model.layers.0.mlp.down_proj.weight')!.dataSync().slice();
      model.dispose();
      return w;
    };
    expect(weights('cold-start')).not.toEqual(weights('pretrain'));
    expect(weights('distill')).not.toEqual(weights('pretrain-student'));
    // A random model earns the same (zero) reward on every completion of a group, so RL's advantages
    // and updates are zero here; that the stages ran their steps is what this run can show.
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const cfg = resolveRecipeConfig('quick');
    for (const [stage, steps] of [['reasoning-rl', cfg.reasoningRl.steps], ['rl-all', cfg.rlAll.steps], ['student-rl', cfg.studentRl.steps], ['r1-zero', cfg.r1Zero.steps]] as const) {
      expect(metrics.filter((m) => m.stage === stage).map((m) => m.step), stage).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    }
  });

  it('prompts went through each model\'s chat template and the rule rewards scored <think>/<answer> as text', () => {
    const samples = readFileSync(join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(samples.some((s) => s.stage === 'reasoning-rl')).toBe(true);
    for (const s of samples) expect(Object.keys(s.rewards)).toEqual(expect.arrayContaining(['accuracy', 'format', 'language']));
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const stage of ['reasoning-rl', 'rl-all', 'student-rl', 'r1-zero']) {
      expect(metrics.some((m) => m.stage === stage && typeof m['rewards/format/mean'] === 'number'), stage).toBe(true);
    }
  });

  it('resumes a finished run without redoing a stage', async () => {
    const again = await runRecipe(resolveRecipeConfig('quick'), { out, resume: true });
    expect(again.checkpoints).toEqual(summary.checkpoints);
    expect(again.notes).toEqual(summary.notes);
  }, 120_000);

  it('a run stopped after reasoning RL and resumed ends with the same weights and evaluation', async () => {
    const out2 = join(root, 'run2');
    const cfg = resolveRecipeConfig('quick', { backend: 'cpu', attention: 'dsa', policy: { pretrained: join(root, 'llama') }, student: { pretrained: join(root, 'qwen2') } });
    await runRecipe(cfg, { out: out2, stopAfter: 'reasoning-rl' });
    expect(existsSync(join(out2, 'rl-all'))).toBe(false);
    const resumed = await runRecipe(resolveRecipeConfig('quick'), { out: out2, resume: true });
    for (const stage of ['rl-all', 'distill', 'student-rl']) {
      const dir = (s: RecipeSummary) => s.checkpoints[stage];
      expect(readFileSync(join(dir(resumed), 'model.safetensors')), stage).toEqual(readFileSync(join(dir(summary), 'model.safetensors')));
    }
    expect(JSON.stringify(resumed.eval)).toBe(JSON.stringify(summary.eval));
  }, 600_000);
});
