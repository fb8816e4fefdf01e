import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend, readSafetensors, toTensor } from '@r1-ts/tensor-kernels';
import { GrpoTrainer, groupRelativeAdvantages } from '@r1-ts/grpo';
import type { TrainerEvent } from '@r1-ts/grpo';
import { ToyPolicy, fractionB } from '../../grpo/src/testing/toy_policy';
import { GspoTrainer, gspoDefaults, gspoObjective, gspoTokenObjective } from './index';

const fixture = resolve(__dirname, '../../../test/fixtures/golden/grpo.safetensors');

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('gspoObjective', () => {
  it('matches the golden GSPO loss and gradient (both forms)', () => {
    const file = readSafetensors(fixture);
    const extra = JSON.parse(file.metadata.extra);
    const t = (name: string) => toTensor(file.tensors.get(name)!) as tf.Tensor2D;
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < b.length; i++) {
        num += (a[i] - b[i]) ** 2;
        den += b[i] ** 2;
      }
      return Math.sqrt(num / den);
    };
    const rewards = Array.from(file.tensors.get('input.rewards')!.data as Float32Array);
    const advantages = groupRelativeAdvantages(rewards, extra.num_generations);
    const [logp, oldLogp, mask] = [t('input.logp'), t('input.old_logp'), t('input.mask')];
    expect(gspoDefaults.epsilonLow).toBe(extra.gspo_epsilon_low);
    expect(gspoDefaults.epsilonHigh).toBe(extra.gspo_epsilon_high);
    for (const objective of [gspoObjective, gspoTokenObjective]) {
      const { value, grads } = tf.valueAndGrads((lp: tf.Tensor) => objective({ logp: lp as tf.Tensor2D, oldLogp, mask, advantages }).loss)([logp]);
      expect(rel(value.dataSync(), file.tensors.get('output.loss.gspo')!.data as Float32Array)).toBeLessThan(1e-4);
      expect(rel(grads[0].dataSync(), file.tensors.get('grad.loss.gspo')!.data as Float32Array)).toBeLessThan(1e-4);
      tf.dispose([value, grads]);
    }
    tf.dispose([logp, oldLogp, mask]);
  });

  it('warns once when overrides weight sequences by length', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const logp = tf.tensor2d([[-1, -2]]);
    const mask = tf.ones([1, 2]) as tf.Tensor2D;
    for (let i = 0; i < 3; i++) gspoObjective({ logp, oldLogp: logp, mask, advantages: [1] }, { lossType: 'bnpo' }).loss.dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    gspoObjective({ logp, oldLogp: logp, mask, advantages: [1] }).loss.dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    tf.dispose([logp, mask]);
  });
});

describe('GspoTrainer', () => {
  const dataset = [{ prompt: [0] }, { prompt: [1] }, { prompt: [2] }];
  const base = { dataset, rewardFunctions: [fractionB], numGenerations: 6, promptsPerStep: 3, maxCompletionLength: 5, learningRate: 0.1, seed: 7, quiet: true };

  it('is the GRPO trainer with GSPO defaults, and the one-option swap resolves the same', () => {
    const p = new ToyPolicy();
    const a = new GspoTrainer({ policy: p, ...base });
    const b = new GrpoTrainer({ policy: p, ...base, ...gspoDefaults });
    expect(a).toBeInstanceOf(GrpoTrainer);
    expect(a.options).toEqual(b.options);
    expect(a.options.importanceSampling).toBe('sequence');
    expect(a.options.beta).toBe(0);
    const c = new GspoTrainer({ policy: p, ...base, importanceSampling: 'sequence_token', epsilonLow: undefined });
    expect(c.options.importanceSampling).toBe('sequence_token');
    expect(c.options.epsilonLow).toBe(3e-4);
    [a, b, c].forEach((t) => t.dispose());
    p.dispose();
  });

  it("says what changed: a GRPO config's beta and epsilons are warned about, not kept silently; resolved says GSPO", () => {
    const p = new ToyPolicy();
    const events: TrainerEvent[] = [];
    const grpoConfig = { ...base, beta: 0.04, epsilonLow: 0.2, onEvent: (e: TrainerEvent) => events.push(e) };
    const t = new GspoTrainer({ policy: p, ...grpoConfig });
    expect(events[0]).toMatchObject({ type: 'resolved', objective: 'GSPO', options: { importanceSampling: 'sequence', beta: 0.04 } });
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^GspoTrainer: epsilonLow 0.2 from your options replaces GSPO's default 0.0003/);
    expect(warnings[1]).toMatch(/^GspoTrainer: beta 0.04 from your options replaces GSPO's default 0; .*no KL term/);
    // GSPO-token is still GSPO: no warning for it.
    const events2: TrainerEvent[] = [];
    const u = new GspoTrainer({ policy: p, ...base, importanceSampling: 'sequence_token', onEvent: (e) => events2.push(e) });
    expect(events2.filter((e) => e.type === 'warning')).toEqual([]);
    expect(events2[0]).toMatchObject({ type: 'resolved', objective: 'GSPO-token' });
    [t, u].forEach((x) => x.dispose());
    p.dispose();
  });

  it('raises the toy reward over 30 steps (μ = 2, two mini-batches: the tight clip is active)', async () => {
    const policy = new ToyPolicy();
    const trainer = new GspoTrainer({ policy, ...base, numIterations: 2, miniBatchSize: 9 });
    const history = await trainer.train(30);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const early = mean(history.slice(0, 5).map((m) => m.reward));
    const late = mean(history.slice(-5).map((m) => m.reward));
    console.log(`toy GSPO: reward ${early.toFixed(3)} (steps 1-5) → ${late.toFixed(3)} (steps 26-30)`);
    expect(late).toBeGreaterThan(early + 0.25);
    expect(Math.max(...history.map((m) => m['clip_ratio/region_mean']))).toBeGreaterThan(0);
    trainer.dispose();
    policy.dispose();
  });
});
