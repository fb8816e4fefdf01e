// Accuracy reward (R1 §2.2.2): 1 when the completion's final answer is mathematically equivalent to
// the reference, else 0.
import { RewardConfigError } from './errors.js';
import { extractAnswer, type AnswerExtractor } from './extract.js';
import { equivalenceContext, readAnswerValues, valuesEqual, type MathEquivalenceOptions } from './equivalence.js';
import type { RewardFunction, RewardSample } from './types.js';
import { checkOptionKeys } from './option-keys.js';

/**
 * Options of {@link createAccuracyReward}.
 *
 * @example
 * ```ts
 * import { createAccuracyReward, type AccuracyRewardOptions } from '@r1-ts/rewards';
 * const options: AccuracyRewardOptions = { extract: 'answer', points: 8 };
 * const reward = createAccuracyReward(options);
 * ```
 */
export interface AccuracyRewardOptions extends MathEquivalenceOptions {
  /** Where the final answer is read from (default `'boxed-then-answer'`). */
  extract?: AnswerExtractor;
}

const EXTRACT_MODES = ['boxed-then-answer', 'answer', 'boxed'];

/** Checks accuracy options eagerly; returns the extractor. Shared with the cosine length reward. */
export function checkAccuracyOptions(options: AccuracyRewardOptions): AnswerExtractor {
  const extract = options.extract ?? 'boxed-then-answer';
  if (typeof extract !== 'function' && !EXTRACT_MODES.includes(extract)) {
    throw new RewardConfigError('extract', extract, `one of ${EXTRACT_MODES.map((m) => `'${m}'`).join(', ')} or a function`);
  }
  equivalenceContext(options); // validates points/seed/tolerance/precision now rather than per call
  return extract;
}

/**
 * Whether a completion answers a sample correctly: `null` without a reference answer or when the
 * reference cannot be read (as open-r1 does), `false` when no answer can be extracted, else the
 * equivalence verdict.
 */
export function judgeAnswer(completion: string, sample: RewardSample, extract: AnswerExtractor, options: MathEquivalenceOptions): boolean | null {
  if (typeof sample.answer !== 'string' || sample.answer.trim() === '') return null;
  const golds = readAnswerValues(sample.answer);
  if (golds.length === 0) return null;
  const predicted = extractAnswer(completion, extract);
  if (predicted === null) return false;
  const ctx = equivalenceContext(options);
  const preds = readAnswerValues(predicted);
  return golds.some((g) => preds.some((p) => valuesEqual(g, p, ctx)));
}

/**
 * Builds an accuracy reward: 1 if the extracted final answer is mathematically equivalent to
 * `sample.answer` (see {@link isMathEquivalent}), 0 if it is not or nothing can be extracted, `null`
 * when the sample has no reference answer or one that cannot be read. Throws
 * {@link RewardConfigError} for bad options.
 *
 * @param options - `extract`: how the final answer is taken from the completion (default `boxed-then-answer`), plus the equivalence check's `points`, `seed`, `tolerance` and `precision`.
 *
 * @example
 * ```ts
 * import { createAccuracyReward } from '@r1-ts/rewards';
 * const reward = createAccuracyReward({ extract: 'answer' });
 * reward('<think>…</think><answer>\\frac{1}{2}</answer>', { prompt: 'Half?', answer: '0.5' }); // 1
 * ```
 */
export function createAccuracyReward(options: AccuracyRewardOptions = {}): RewardFunction {
  checkOptionKeys('createAccuracyReward', options, { extract: true, points: true, seed: true, tolerance: true, precision: true });
  const extract = checkAccuracyOptions(options);
  const accuracyReward: RewardFunction = (completion, sample) => {
    const verdict = judgeAnswer(completion, sample, extract, options);
    return verdict === null ? null : verdict ? 1 : 0;
  };
  return accuracyReward;
}

/**
 * The accuracy reward with default options: boxed answer(s), else the `<answer>` block, else an
 * anchored or final math answer; 6 seeded points, floats rounded to 6 decimals.
 *
 * @example
 * ```ts
 * import { accuracyReward } from '@r1-ts/rewards';
 * accuracyReward('The total is \\boxed{1{,}000}.', { prompt: '', answer: '1000' }); // 1
 * accuracyReward('no answer here', { prompt: '', answer: '1000' }); // 0
 * accuracyReward('\\boxed{3}', { prompt: '' }); // null
 * ```
 */
export const accuracyReward: RewardFunction = createAccuracyReward();
