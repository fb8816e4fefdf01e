import { describe, expect, it } from 'vitest';
import { Rng, nativeKernels } from '@r1-ts/tensor-kernels';
import { selectExperts, selectExpertsJs } from './select';
import type { MoeConfig } from './config';

const base: MoeConfig = {
  hidden_size: 4, n_routed_experts: 6, num_experts_per_tok: 2, n_group: 3, topk_group: 2,
  scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 1,
  moe_intermediate_size: 2, n_shared_experts: 0,
};

describe('selectExperts', () => {
  it('keeps the groups with the best two-score sums (noaux_tc), adds the bias, lists ascending', () => {
    // groups {0,1} {2,3} {4,5}; sums with bias: 0.9+0.1 = 1.0, 0.6+0.6 = 1.2, 0.95+0.0 = 0.95 → groups 1 and 0.
    const s = Float32Array.from([0.9, 0.1, 0.6, 0.6, 0.95, 0.0]);
    expect(Array.from(selectExperts(s, null, 1, base))).toEqual([0, 2]); // best u in groups 0–1: 0.9 (e0), then 0.6 (e2 before e3)
    // A bias moves selection: +0.5 on expert 5 makes group 2 sum 1.45, so groups 2 and 1 are kept and
    // e4 (0.95) and e2 (0.6, before e3 on the tie) win; e0 (0.9) is in a dropped group.
    const bias = Float32Array.from([0, 0, 0, 0, 0, 0.5]);
    expect(Array.from(selectExperts(s, bias, 1, base))).toEqual([2, 4]);
  });

  it('scores groups by their max for the other methods and breaks ties by the lower index', () => {
    const c: MoeConfig = { ...base, topk_method: 'group_limited_greedy', topk_group: 1 };
    const tie = Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(selectExperts(tie, null, 1, c))).toEqual([0, 1]);
    // max of group 2 (0.7) beats group 0's sum-of-two 1.2 under group_limited_greedy.
    const s = Float32Array.from([0.6, 0.6, 0.1, 0.1, 0.7, 0.2]);
    expect(Array.from(selectExperts(s, null, 1, c))).toEqual([4, 5]);
  });

  it('selects over all experts when n_group is 1, token by token', () => {
    const c: MoeConfig = { ...base, n_group: 1, topk_group: 1, num_experts_per_tok: 3, topk_method: 'greedy' };
    const s = Float32Array.from([0.1, 0.9, 0.3, 0.8, 0.2, 0.7, /* token 2 */ 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]);
    expect(Array.from(selectExperts(s, null, 2, c))).toEqual([1, 3, 5, 0, 1, 2]);
  });

  it.runIf(nativeKernels() !== null)('the native selection picks what the JS loop picks (ties, bias, every method, DeepSeek-V3 sizes)', () => {
    const rng = new Rng(7);
    const configs: MoeConfig[] = [
      base,
      { ...base, topk_method: 'group_limited_greedy' },
      { ...base, n_group: 1, topk_group: 1, num_experts_per_tok: 3, topk_method: 'greedy' },
      { ...base, n_routed_experts: 256, num_experts_per_tok: 8, n_group: 8, topk_group: 4 }, // V3/R1
      { ...base, n_routed_experts: 16, num_experts_per_tok: 2, n_group: 16, topk_group: 4 }, // one expert per group
      { ...base, n_routed_experts: 64, num_experts_per_tok: 6, n_group: 1, topk_group: 1, topk_method: 'greedy' }, // V2-Lite
    ];
    for (const c of configs) {
      const E = c.n_routed_experts;
      const T = 300;
      // Scores on a coarse grid so that ties (between experts and between groups) are common.
      const s = Float32Array.from({ length: T * E }, () => Math.round(rng.uniform() * 8) / 8);
      const bias = Float32Array.from({ length: E }, () => (rng.uniform() - 0.5) / 8);
      for (const b of [null, bias]) expect(Array.from(selectExperts(s, b, T, c))).toEqual(Array.from(selectExpertsJs(s, b, T, c)));
    }
  });

  it.runIf(nativeKernels() !== null)('the native selection rejects inconsistent sizes with a RangeError naming them', () => {
    const native = nativeKernels()!;
    expect(() => native.moeRoute(new Float32Array(6), null, new Int32Array(2), 1, 6, 2, 4, 2, true)).toThrow(/moeRoute: bad sizes/);
    expect(() => native.moeRoute(new Float32Array(5), null, new Int32Array(2), 1, 6, 2, 3, 2, true)).toThrow(/moeRoute: scores holds 5 elements/);
  });
});
