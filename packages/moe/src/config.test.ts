import { describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@r1-ts/tensor-kernels';
import { validateMoeConfig } from './config';
import type { MoeConfig } from './config';
import { DenseMlp, Expert } from './expert';
import { Gate } from './gate';
import { MoE } from './moe';
import { tinyConfig } from '../test/util';

/** Expects a ConfigError whose fields and message name `field`. */
function expectConfigError(fn: () => unknown, field: string, fragment: string) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).fields).toContain(field);
    expect((e as Error).message).toContain(field);
    expect((e as Error).message).toContain(fragment);
    return;
  }
  throw new Error(`expected a ConfigError for ${field}`);
}

const bad: [string, Partial<Record<keyof MoeConfig, unknown>>, string, string][] = [
  ['negative hidden_size', { hidden_size: -3 }, 'hidden_size', 'got -3'],
  ['zero experts', { n_routed_experts: 0 }, 'n_routed_experts', 'positive integer'],
  ['fractional K', { num_experts_per_tok: 1.5 }, 'num_experts_per_tok', 'got 1.5'],
  ['negative expert width', { moe_intermediate_size: -1 }, 'moe_intermediate_size', 'positive integer'],
  ['negative shared experts', { n_shared_experts: -1 }, 'n_shared_experts', 'non-negative integer'],
  ['n_group 0', { n_group: 0 }, 'n_group', 'positive integer'],
  ['E not divisible by n_group', { n_group: 3 }, 'n_group', 'divisible'],
  ['topk_group > n_group', { topk_group: 5 }, 'topk_group', 'got 5'],
  ['K > experts in kept groups', { num_experts_per_tok: 5 }, 'num_experts_per_tok', 'kept groups'],
  ['unknown scoring_func', { scoring_func: 'relu' }, 'scoring_func', '"relu"'],
  ['unknown topk_method', { topk_method: 'top2' }, 'topk_method', '"top2"'],
  ['norm_topk_prob not boolean', { norm_topk_prob: 'yes' }, 'norm_topk_prob', 'boolean'],
  ['non-positive scaling', { routed_scaling_factor: 0 }, 'routed_scaling_factor', 'got 0'],
  ['missing field', { hidden_size: undefined }, 'hidden_size', 'positive integer'],
  ['negative init std', { initializer_range: -1 }, 'initializer_range', 'got -1'],
];

describe('MoE config validation', () => {
  it.each(bad)('%s → ConfigError', (_, change, field, fragment) => {
    const config = { ...tinyConfig, ...change } as MoeConfig;
    expectConfigError(() => validateMoeConfig(config), field, fragment);
    expectConfigError(() => new MoE(config, new Rng(0)), field, fragment);
    expectConfigError(() => new Gate(config, new Rng(0)), field, fragment);
  });

  it('accepts K equal to the experts in the kept groups and zero shared experts', () => {
    expect(validateMoeConfig({ ...tinyConfig, num_experts_per_tok: 4, n_shared_experts: 0 })).toBeTruthy();
  });

  it('checks the dense MLP sizes', () => {
    expectConfigError(() => new DenseMlp({ hidden_size: 8, intermediate_size: -2 }, new Rng(0)), 'intermediate_size', 'got -2');
    expectConfigError(() => new Expert({ hidden_size: 0, intermediate_size: 4 }, new Rng(0)), 'hidden_size', 'got 0');
  });
});
