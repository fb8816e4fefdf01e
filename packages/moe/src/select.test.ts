import { describe, expect, it } from 'vitest';
import { selectExperts } from './select';
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
});
