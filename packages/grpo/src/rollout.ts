import { R1Error } from '@r1-ts/tensor-kernels';
import type { Completion, Policy, SamplingOptions } from './policy';
import { scoreCompletions } from './rewards';
import type { PromptSample, RewardFunction } from './rewards';

/** One prompt with its G scored completions. */
export interface Group<S> {
  sample: S;
  completions: Completion[];
  /** perFunction[k][j]: reward k of completion j. */
  perFunction: (number | null)[][];
  /** Weighted total per completion. */
  total: (number | null)[];
}

/** Samples G completions for each sample and scores them (one rollout round). */
export async function sampleGroups<S extends PromptSample>(
  policy: Policy,
  samples: readonly S[],
  G: number,
  sampling: SamplingOptions,
  fns: ReadonlyArray<RewardFunction<S>>,
  weights: readonly number[],
): Promise<Group<S>[]> {
  const prompts = samples.flatMap((s) => Array.from({ length: G }, () => s.prompt));
  const completions = await policy.generate(prompts, sampling);
  if (!Array.isArray(completions) || completions.length !== prompts.length) {
    throw new R1Error('E_POLICY', `Policy.generate returned ${Array.isArray(completions) ? completions.length : typeof completions} completions for ${prompts.length} prompts`);
  }
  completions.forEach((c, i) => {
    if (c.logProbs.length !== c.completionIds.length) {
      throw new R1Error('E_POLICY', `completion ${i}: ${c.logProbs.length} log-probs for ${c.completionIds.length} tokens`);
    }
  });
  const repeated = samples.flatMap((s) => Array.from({ length: G }, () => s));
  const scored = await scoreCompletions(fns, weights, completions.map((c) => c.text), repeated);
  return samples.map((sample, g) => ({
    sample,
    completions: completions.slice(g * G, g * G + G),
    perFunction: scored.perFunction.map((col) => col.slice(g * G, g * G + G)),
    total: scored.total.slice(g * G, g * G + G),
  }));
}

/** True when a group carries no learning signal: its non-null total rewards are all equal (or none). */
export function hasZeroRewardStd(group: Group<unknown>): boolean {
  const v = group.total.filter((r): r is number => r !== null);
  return v.every((r) => r === v[0]);
}
