import { describe, expect, it } from 'vitest';
import { accuracyReward } from './accuracy.js';
import { combineRewards } from './combine.js';
import { RewardConfigError } from './errors.js';
import { formatReward } from './format.js';
import type { RewardFunction } from './types.js';

describe('combineRewards', () => {
  const reward = combineRewards([
    { name: 'accuracy', fn: accuracyReward, weight: 1 },
    { name: 'format', fn: formatReward, weight: 0.5 },
  ]);

  it.each([
    ['<think>1+1</think><answer>2</answer>', { prompt: '', answer: '2' }, 1.5, { accuracy: 1, format: 1 }],
    ['<think>1+1</think><answer>3</answer>', { prompt: '', answer: '2' }, 0.5, { accuracy: 0, format: 1 }],
    ['\\boxed{2}', { prompt: '', answer: '2' }, 1, { accuracy: 1, format: 0 }],
    ['\\boxed{2}', { prompt: '' }, 0, { accuracy: null, format: 0 }], // null excluded from the total
  ])('%j', async (completion, sample, total, byFunction) => {
    expect(await reward(completion, sample)).toEqual({ total, byFunction });
  });

  it('total is null when every component is null; async and throwing components', async () => {
    const never: RewardFunction = () => null;
    const slow: RewardFunction = async () => 0.25;
    const broken: RewardFunction = () => {
      throw new Error('bad');
    };
    expect(await combineRewards([{ fn: never, weight: 1 }])('', { prompt: '' })).toEqual({ total: null, byFunction: { never: null } });
    const r = await combineRewards([{ fn: slow, weight: 2 }, { fn: broken, weight: 1 }])('', { prompt: '' });
    expect(r).toEqual({ total: 0.5, byFunction: { slow: 0.25, broken: 0 }, errors: { broken: 'Error: bad' } });
    await expect(combineRewards([{ fn: broken, weight: 1 }], { onError: 'throw' })('', { prompt: '' })).rejects.toThrow('bad');
  });

  it.each([
    [[], 'rewards'],
    [[{ fn: formatReward, weight: -1 }], 'rewards[0].weight'],
    [[{ fn: formatReward, weight: Number.NaN }], 'rewards[0].weight'],
    [[{ fn: 'x', weight: 1 }], 'rewards[0].fn'],
    [[{ fn: formatReward, weight: 1 }, { fn: formatReward, weight: 1 }], 'rewards[1].name'],
  ])('rejects %o naming %s', (list, field) => {
    expect(() => combineRewards(list as never)).toThrow(RewardConfigError);
    expect(() => combineRewards(list as never)).toThrow(field);
  });
});
