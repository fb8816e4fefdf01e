// Several rewards into one scalar per completion, each component kept for logging (R1 §2.2.2 sums
// accuracy and format; §2.3.2 adds language consistency).
import { checkNumber, RewardConfigError } from './errors.js';
import type { RewardFunction, RewardSample } from './types.js';
import { checkOptionKeys } from './option-keys.js';

/**
 * One component of {@link combineRewards}: a reward function, its weight (≥ 0; 0 logs the value
 * without counting it) and the name it is logged under (default: the function's name).
 *
 * @example
 * ```ts
 * import { accuracyReward, type WeightedReward } from '@r1-ts/rewards';
 * const component: WeightedReward = { name: 'accuracy', fn: accuracyReward, weight: 1 };
 * ```
 */
export interface WeightedReward {
  name?: string;
  fn: RewardFunction;
  weight: number;
}

/**
 * The result of a combined reward: the weighted total and every component's own value.
 *
 * @example
 * ```ts
 * import type { CombinedReward } from '@r1-ts/rewards';
 * const r: CombinedReward = { total: 1.5, byFunction: { accuracy: 1, format: 1 } };
 * ```
 */
export interface CombinedReward {
  /** Σ weight·value over the components whose value is not null; null when every value is null. */
  total: number | null;
  /** Each component's value (before weighting), by name. */
  byFunction: Record<string, number | null>;
  /** Components that threw or returned a non-finite number (their value counts as 0), by name. */
  errors?: Record<string, string>;
}

/**
 * Options of {@link combineRewards}.
 *
 * @example
 * ```ts
 * import type { CombineRewardsOptions } from '@r1-ts/rewards';
 * const strict: CombineRewardsOptions = { onError: 'throw' };
 * ```
 */
export interface CombineRewardsOptions {
  /** `'zero'` (default): a component that throws scores 0 and its message lands in `errors`; `'throw'`: rethrow. */
  onError?: 'zero' | 'throw';
}

/**
 * Combines weighted rewards. The total is the weighted sum Σᵢ wᵢ·rᵢ over the components whose value
 * is not null — weights are not renormalised, exactly like TRL's `reward_weights` with a NaN-skipping
 * sum — and null when all are null. Throws {@link RewardConfigError} for an empty list, a negative or
 * non-finite weight, a missing function or a duplicate name.
 *
 * @param rewards - The components: each a `name`, a reward function `fn` and its `weight`.
 * @param options - `onError`: `zero` (default: a component that throws scores 0 and its message lands in `errors`) or `throw`.
 *
 * @example
 * ```ts
 * import { combineRewards, accuracyReward, formatReward } from '@r1-ts/rewards';
 * const reward = combineRewards([
 *   { name: 'accuracy', fn: accuracyReward, weight: 1 },
 *   { name: 'format', fn: formatReward, weight: 0.5 },
 * ]);
 * const r = await reward('<think>1+1</think><answer>2</answer>', { prompt: '1+1?', answer: '2' });
 * // r = { total: 1.5, byFunction: { accuracy: 1, format: 1 } }
 * ```
 */
export function combineRewards(
  rewards: readonly WeightedReward[],
  options: CombineRewardsOptions = {},
): (completion: string, sample: RewardSample) => Promise<CombinedReward> {
  checkOptionKeys('combineRewards', options, { onError: true });
  if (!Array.isArray(rewards) || rewards.length === 0) throw new RewardConfigError('rewards', rewards, 'a non-empty array of { fn, weight }');
  const onError = options.onError ?? 'zero';
  if (onError !== 'zero' && onError !== 'throw') throw new RewardConfigError('onError', onError, "'zero' or 'throw'");
  const names = rewards.map((r, i) => {
    if (typeof r?.fn !== 'function') throw new RewardConfigError(`rewards[${i}].fn`, r?.fn, 'a reward function');
    checkNumber(`rewards[${i}].weight`, r.weight, { min: 0 });
    const name = r.name ?? (r.fn.name || `reward${i}`);
    if (typeof name !== 'string' || name === '') throw new RewardConfigError(`rewards[${i}].name`, name, 'a non-empty string');
    return name;
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new RewardConfigError(`rewards[${names.lastIndexOf(dup)}].name`, dup, 'unique across components');

  return async (completion, sample) => {
    const byFunction: Record<string, number | null> = {};
    const errors: Record<string, string> = {};
    let total: number | null = null;
    const values = await Promise.all(
      rewards.map(async (r, i) => {
        try {
          const v = await r.fn(completion, sample);
          if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`returned ${String(v)}, expected a finite number or null`);
          return v;
        } catch (e) {
          if (onError === 'throw') throw e;
          errors[names[i]] = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          return 0;
        }
      }),
    );
    values.forEach((v, i) => {
      byFunction[names[i]] = v;
      if (v !== null) total = (total ?? 0) + rewards[i].weight * v;
    });
    return Object.keys(errors).length > 0 ? { total, byFunction, errors } : { total, byFunction };
  };
}
