import type { PromptInput } from './policy';

/**
 * A training example: a prompt plus whatever the reward functions need (reference answer, tests, …).
 *
 * @example
 * ```ts
 * import type { PromptSample } from '@r1-ts/grpo';
 * const sample: PromptSample & { answer: string } = { prompt: '3+4=', answer: '7' };
 * ```
 */
export interface PromptSample {
  /** The prompt, as text or token ids (passed to {@link Policy.generate}). */
  prompt: PromptInput;
}

/**
 * A reward function (the shape `@r1-ts/rewards` exports): scores one completion of `sample`;
 * `null` = not applicable (left out of the baseline, advantage 0 if every function says null).
 *
 * @example
 * ```ts
 * import type { RewardFunction } from '@r1-ts/grpo';
 * const exactAnswer: RewardFunction<{ prompt: string; answer: string }> = (completion, sample) =>
 *   completion.trim() === sample.answer ? 1 : 0;
 * console.log(exactAnswer(' 42', { prompt: '40+2=', answer: '42' })); // 1
 * ```
 */
export type RewardFunction<S = PromptSample> = (completion: string, sample: S) => number | null | Promise<number | null>;

/**
 * Rewards of a batch of completions: one column per function, and their weighted sum.
 *
 * @example
 * ```ts
 * import { scoreCompletions } from '@r1-ts/grpo';
 * const r = await scoreCompletions([(c: string) => c.length], [1], ['ab'], [{ prompt: '' }]);
 * console.log(r.perFunction[0][0], r.total[0]); // 2 2
 * ```
 */
export interface ScoredRewards {
  /** perFunction[k][i] = reward k of completion i (null when not applicable). */
  perFunction: (number | null)[][];
  /** Σ_k weight_k · reward_k over the non-null rewards; null when every function returned null. */
  total: (number | null)[];
}

/**
 * Scores completions with every reward function (awaited in parallel) and combines them with the
 * weights, as TRL does (a null reward is skipped, like its NaN-sum).
 *
 * @param fns - The reward functions; each is called as `fn(completion, sample)` and may return a number, null (no opinion) or a promise of either.
 * @param weights - One weight per function (same length as `fns`), multiplied into its reward before summing.
 * @param completions - The completions to score, one per sample.
 * @param samples - The sample (prompt, gold answer, tests, …) each completion answers; same length as `completions`.
 *
 * @example
 * ```ts
 * import { scoreCompletions } from '@r1-ts/grpo';
 * const short = (c: string) => (c.length < 5 ? 1 : 0);
 * const hasA = (c: string) => (c.includes('a') ? 1 : null);
 * const r = await scoreCompletions([short, hasA], [1, 0.5], ['abc', 'xyzxyz'], [{ prompt: '' }, { prompt: '' }]);
 * console.log(r.total); // [1.5, 0]
 * ```
 */
export async function scoreCompletions<S>(
  fns: ReadonlyArray<RewardFunction<S>>,
  weights: readonly number[],
  completions: readonly string[],
  samples: readonly S[],
): Promise<ScoredRewards> {
  const perFunction = await Promise.all(
    fns.map((fn, k) =>
      Promise.all(completions.map(async (c, i) => {
        const r = await fn(c, samples[i]);
        if (r !== null && (typeof r !== 'number' || !Number.isFinite(r))) {
          throw new TypeError(`reward function ${fn.name || k} returned ${String(r)} for completion ${i}; expected a finite number or null`);
        }
        return r;
      }))),
  );
  const total = completions.map((_, i) => {
    let sum = 0;
    let any = false;
    perFunction.forEach((col, k) => {
      const r = col[i];
      if (r !== null) {
        sum += weights[k] * r;
        any = true;
      }
    });
    return any ? sum : null;
  });
  return { perFunction, total };
}

/** Mean and Bessel-corrected std of the non-null values (NaN when there are none). */
export function nanMeanStd(values: ReadonlyArray<number | null>): { mean: number; std: number } {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return { mean: NaN, std: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length < 2 ? 0 : Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1));
  return { mean, std };
}
