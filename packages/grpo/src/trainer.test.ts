import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, initBackend } from '@r1-ts/tensor-kernels';
import { GrpoTrainer } from './trainer';
import type { GrpoTrainerOptions } from './options';
import type { TrainerEvent } from './events';
import type { PolicyLossMetrics } from './policy_loss';
import { EOS, ToyPolicy, fractionB } from './testing/toy_policy';

type Sample = { prompt: number[]; easy?: boolean };
const dataset: Sample[] = [{ prompt: [0] }, { prompt: [1] }, { prompt: [2] }];

function make(over: Partial<GrpoTrainerOptions<Sample>> = {}, policy = new ToyPolicy()) {
  const trainer = new GrpoTrainer<Sample>({
    policy, dataset, rewardFunctions: [fractionB], numGenerations: 6, promptsPerStep: 3,
    maxCompletionLength: 5, learningRate: 0.1, beta: 0, seed: 7, quiet: true, ...over,
  });
  return { trainer, policy };
}

const firstUpdates = (events: TrainerEvent[]) =>
  events.filter((e): e is Extract<TrainerEvent, { type: 'optimizer_step' }> => e.type === 'optimizer_step');

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

describe('GrpoTrainer on a toy bigram policy', () => {
  it('raises the reward over 30 steps', async () => {
    const { trainer, policy } = make();
    const history = await trainer.train(30);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const early = mean(history.slice(0, 5).map((m) => m.reward));
    const late = mean(history.slice(-5).map((m) => m.reward));
    console.log(`toy GRPO: reward ${early.toFixed(3)} (steps 1-5) → ${late.toFixed(3)} (steps 26-30)`);
    expect(late).toBeGreaterThan(early + 0.25);
    expect(policy.optimizerSteps).toBe(30);
    for (const key of ['reward_std', 'rewards/fractionB/mean', 'rewards/fractionB/std', 'frac_reward_zero_std', 'entropy',
      'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'completions/mean_length',
      'completions/min_length', 'completions/max_length', 'completions/clipped_ratio', 'tokens/s', 'loss', 'grad_norm']) {
      expect(Number.isFinite(history[29][key]), key).toBe(true);
    }
    expect(history[29].kl).toBeUndefined(); // β = 0: no reference model
    trainer.dispose();
    policy.dispose();
  });

  it('has ratio exactly 1 on the first update of each step (μ = 1, no refresh)', async () => {
    const events: TrainerEvent[] = [];
    const { trainer, policy } = make({ beta: 0.04, onEvent: (e) => events.push(e) });
    await trainer.train(3);
    const ups = firstUpdates(events);
    expect(ups.length).toBe(3);
    for (const u of ups) {
      const m: PolicyLossMetrics = u.metrics;
      expect(m.ratioMean).toBe(1);
      expect(m.ratioMin).toBe(1);
      expect(m.ratioMax).toBe(1);
      expect([m.clipRatioLow, m.clipRatioHigh, m.clipRatioRegion]).toEqual([0, 0, 0]);
    }
    expect(ups[0].metrics.kl).toBeCloseTo(0, 6); // reference = initial policy
    expect(ups[2].metrics.kl).toBeGreaterThan(0);
    trainer.dispose();
    policy.dispose();
  });

  it('calls afterOptimizerStep once per update (μ × mini-batches) and moves the ratio after the first', async () => {
    const events: TrainerEvent[] = [];
    const { trainer, policy } = make({ numIterations: 2, miniBatchSize: 6, microBatchSize: 3, onEvent: (e) => events.push(e) });
    await trainer.step();
    expect(policy.optimizerSteps).toBe(2 * 3);
    const ups = firstUpdates(events);
    expect(ups[0].metrics.ratioMean).toBe(1);
    expect(ups.slice(1).some((u) => u.metrics.ratioMean !== 1)).toBe(true);
    trainer.dispose();
    policy.dispose();
  });

  it('keeps the tensor count flat over 50 steps (β > 0, refresh, μ = 2, micro-batches, entropy)', async () => {
    const { trainer, policy } = make({
      beta: 0.04, refModelSyncSteps: 7, numIterations: 2, miniBatchSize: 9, microBatchSize: 4, numGenerations: 3,
      oldLogProbs: 'recompute', maskTruncatedCompletions: true, dynamicSampling: true,
    });
    await trainer.step();
    const before = tf.memory().numTensors;
    await trainer.train(49);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    policy.dispose();
  });

  it('accumulates micro-batch gradients to the mini-batch gradient for every loss type', async () => {
    for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
      const run = async (microBatchSize: number) => {
        const optimizer = tf.train.sgd(0.5);
        const { trainer, policy } = make({ lossType, microBatchSize, optimizer, maxGradNorm: 0 });
        await trainer.step();
        const w = policy.table.dataSync().slice();
        trainer.dispose();
        optimizer.dispose();
        policy.dispose();
        return w;
      };
      const whole = await run(18);
      const split = await run(5);
      // bnpo normalises per micro-batch (as in TRL), so only the others are exact.
      if (lossType !== 'bnpo') for (let i = 0; i < whole.length; i++) expect(split[i]).toBeCloseTo(whole[i], 5);
    }
  });

  it('masks truncated completions (overlong filtering)', async () => {
    const events: TrainerEvent[] = [];
    const { trainer, policy } = make({ maskTruncatedCompletions: true, onEvent: (e) => events.push(e) });
    const { rollouts } = await trainer.step();
    const finished = rollouts.filter((r) => !r.truncated).reduce((a, r) => a + r.length, 0);
    expect(rollouts.some((r) => r.truncated)).toBe(true);
    expect(firstUpdates(events)[0].metrics.tokens).toBe(finished);
    trainer.dispose();
    policy.dispose();
  });
});

describe('dynamic sampling and null rewards', () => {
  // easy prompts: every completion scores 1 (zero reward std, no signal)
  const byPrompt = (c: string, s: Sample) => (s.easy ? 1 : fractionB(c));

  it('drops zero-variance groups and refills the batch from more prompts', async () => {
    const mixed: Sample[] = [{ prompt: [0], easy: true }, { prompt: [1] }, { prompt: [2], easy: true }, { prompt: [0] }];
    const policy = new ToyPolicy();
    const trainer = new GrpoTrainer<Sample>({
      policy, dataset: mixed, rewardFunctions: [byPrompt], numGenerations: 4, promptsPerStep: 2, maxCompletionLength: 4,
      beta: 0, dynamicSampling: true, dynamicSamplingMaxTries: 6, seed: 3, quiet: true,
    });
    const { metrics, rollouts } = await trainer.step();
    expect(metrics['dynamic_sampling/dropped_groups']).toBeGreaterThan(0);
    expect(metrics['dynamic_sampling/tries']).toBeGreaterThan(1);
    const easy = rollouts.filter((r) => r.sample.easy);
    expect(easy.every((r) => r.advantage === 0)).toBe(true);
    expect(rollouts.length).toBe(4 * (2 + metrics['dynamic_sampling/dropped_groups']));
    expect(metrics.frac_reward_zero_std).toBeGreaterThan(0);
    trainer.dispose();
    policy.dispose();
  });

  it('gives up after the bounded tries and skips the update when no group has signal', async () => {
    const policy = new ToyPolicy();
    const trainer = new GrpoTrainer<Sample>({
      policy, dataset: [{ prompt: [0], easy: true }], rewardFunctions: [byPrompt], numGenerations: 2, promptsPerStep: 2,
      maxCompletionLength: 3, dynamicSampling: true, dynamicSamplingMaxTries: 3, quiet: true,
    });
    const { metrics } = await trainer.step();
    expect(metrics['dynamic_sampling/tries']).toBe(3);
    expect(metrics.loss).toBeUndefined();
    expect(trainer.optimizerStepCount).toBe(0);
    expect(policy.optimizerSteps).toBe(0);
    trainer.dispose();
    policy.dispose();
  });

  it('handles null rewards: advantage 0, excluded from the means', async () => {
    const onlyWithB = (c: string) => (c.includes('b') ? fractionB(c) : null);
    const policy = new ToyPolicy();
    const trainer = new GrpoTrainer<Sample>({
      policy, dataset, rewardFunctions: [onlyWithB], rewardWeights: [2], numGenerations: 6, promptsPerStep: 3,
      maxCompletionLength: 4, beta: 0, seed: 1, quiet: true,
    });
    const { metrics, rollouts } = await trainer.step();
    const nulls = rollouts.filter((r) => r.rewards.onlyWithB === null);
    expect(nulls.length).toBeGreaterThan(0);
    for (const r of nulls) {
      expect(r.reward).toBeNull();
      expect(r.advantage).toBe(0);
    }
    const valid = rollouts.map((r) => r.rewards.onlyWithB).filter((x): x is number => x !== null);
    const mean = valid.reduce((a, b) => a + b, 0) / valid.length;
    expect(metrics['rewards/onlyWithB/mean']).toBeCloseTo(mean, 12);
    expect(metrics.reward).toBeCloseTo(2 * mean, 12);
    expect(Number.isFinite(metrics.loss)).toBe(true);
    trainer.dispose();
    policy.dispose();
  });
});

describe('option validation', () => {
  const policy = new ToyPolicy();
  afterAll(() => policy.dispose());
  const base: GrpoTrainerOptions<Sample> = { policy, dataset, rewardFunctions: [fractionB], beta: 0, quiet: true };
  const cases: [string, Partial<GrpoTrainerOptions<Sample>>, string][] = [
    ['G < 2', { numGenerations: 1 }, 'numGenerations'],
    ['ε_low ≤ 0', { epsilonLow: 0 }, 'epsilonLow'],
    ['ε_high ≤ 0', { epsilonHigh: -0.1 }, 'epsilonHigh'],
    ['empty reward list', { rewardFunctions: [] }, 'rewardFunctions'],
    ['weights length mismatch', { rewardWeights: [1, 2] }, 'rewardWeights'],
    ['non-finite weight', { rewardWeights: [NaN] }, 'rewardWeights.0'],
    ['μ = 0', { numIterations: 0 }, 'numIterations'],
    ['negative β', { beta: -1 }, 'beta'],
    ['top-p 0', { topP: 0 }, 'topP'],
    ['unknown loss type', { lossType: 'ppo' as never }, 'lossType'],
    ['empty dataset', { dataset: [] }, 'dataset'],
    ['micro > mini', { miniBatchSize: 4, microBatchSize: 8 }, 'microBatchSize'],
    ['not a policy', { policy: {} as never }, 'policy'],
  ];
  it.each(cases)('%s → ConfigError naming the field', (_, over, field) => {
    let err: unknown;
    try {
      new GrpoTrainer<Sample>({ ...base, ...over });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).fields).toContain(field);
    expect((err as Error).message).toContain(field.split('.')[0]);
  });

  it('rejects unknown keys with a ConfigError naming each and the option meant (level → importanceSampling)', () => {
    let err: unknown;
    try {
      new GrpoTrainer<Sample>({ ...base, level: 'sequence', lerningRate: 1e-3 } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).fields).toEqual(['level', 'lerningRate']);
    expect((err as Error).message).toMatch(/unknown keys "level" \(did you mean "importanceSampling"\?\), "lerningRate"/);
    expect((err as Error).message).toMatch(/accepted: .*importanceSampling/);
  });

  it('reports the resolved objective once, as an event and (unless quiet) one printed line', () => {
    const events: TrainerEvent[] = [];
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const t = new GrpoTrainer<Sample>({ ...base, quiet: false, importanceSampling: 'sequence', epsilonLow: 3e-4, epsilonHigh: 4e-4, onEvent: (e) => events.push(e) });
    const resolved = events.filter((e) => e.type === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ objective: 'GSPO', options: { importanceSampling: 'sequence', epsilonLow: 3e-4, beta: 0 } });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0][0]).toMatch(/^\[r1-ts\/grpo\] GSPO \(importanceSampling 'sequence'\): epsilonLow 0.0003, epsilonHigh 0.0004, beta 0 /);
    new GrpoTrainer<Sample>({ ...base, quiet: false, importanceSampling: 'sequence', epsilonLow: 3e-4, epsilonHigh: 4e-4 }).dispose();
    expect(info).toHaveBeenCalledTimes(1); // the same line is printed once per process
    info.mockRestore();
    t.dispose();
  });

  it('warns once through onEvent when a sequence ratio meets a length-weighted aggregation', () => {
    const events: TrainerEvent[] = [];
    const t = new GrpoTrainer<Sample>({ ...base, importanceSampling: 'sequence', lossType: 'dapo', onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'warning').length).toBe(1);
    t.dispose();
  });

  it('the toy policy ends completions with EOS', () => {
    expect(EOS).toBe(3);
  });
});
