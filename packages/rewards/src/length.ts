// Length shaping: open-r1's cosine-scaled reward (Yeo et al. 2025, "Demystifying Long Chain-of-Thought
// Reasoning", eq. 1) and DAPO's soft overlong punishment (Yu et al. 2025, eq. 13).
import { checkAccuracyOptions, judgeAnswer, type AccuracyRewardOptions } from './accuracy.js';
import { checkNumber, RewardConfigError } from './errors.js';
import type { RewardFunction } from './types.js';
import { checkOptionKeys } from './option-keys.js';

/**
 * Options of {@link createCosineLengthReward}; accuracy options (`extract`, `points`, …) decide
 * correctness.
 *
 * @example
 * ```ts
 * import type { CosineLengthRewardOptions } from '@r1-ts/rewards';
 * const options: CosineLengthRewardOptions = { maxLen: 4096, length: (t) => t.split(/\s+/).length };
 * ```
 */
export interface CosineLengthRewardOptions extends AccuracyRewardOptions {
  /** Reward of a wrong answer of length 0 (default −1). */
  minValueWrong?: number;
  /** Reward of a wrong answer of length ≥ maxLen (default −0.5). */
  maxValueWrong?: number;
  /** Reward of a correct answer of length ≥ maxLen (default 0.5). */
  minValueCorrect?: number;
  /** Reward of a correct answer of length 0 (default 1). */
  maxValueCorrect?: number;
  /** Length at which the cosine reaches its end (default 1000). */
  maxLen?: number;
  /** Length of a completion: characters by default, or e.g. a tokenizer's token count. */
  length?: (completion: string) => number;
}

const chars = (text: string) => text.length;

/**
 * Builds the cosine-scaled length reward: with t = min(len / maxLen, 1),
 * `r = min + ½ (max − min)(1 + cos(π t))`, where (min, max) are (minValueCorrect, maxValueCorrect)
 * for a correct answer — so short correct beats long correct — and (maxValueWrong, minValueWrong) for
 * a wrong one — so long wrong beats short wrong. Lengths beyond maxLen are clamped. `null` when the
 * sample has no reference answer.
 *
 * @param options - The reward range for wrong answers (`minValueWrong`, `maxValueWrong`) and correct ones (`minValueCorrect`, `maxValueCorrect`), `maxLen`, the `length` function, and the accuracy options (`extract`, ...).
 *
 * @example
 * ```ts
 * import { createCosineLengthReward } from '@r1-ts/rewards';
 * const reward = createCosineLengthReward({ maxLen: 100 });
 * reward('\\boxed{4}', { prompt: '', answer: '4' }); // ≈ 0.999 (short and correct)
 * ```
 */
export function createCosineLengthReward(options: CosineLengthRewardOptions = {}): RewardFunction {
  checkOptionKeys('createCosineLengthReward', options, {
    extract: true, points: true, seed: true, tolerance: true, precision: true,
    minValueWrong: true, maxValueWrong: true, minValueCorrect: true, maxValueCorrect: true, maxLen: true, length: true,
  });
  const extract = checkAccuracyOptions(options);
  const minWrong = checkNumber('minValueWrong', options.minValueWrong ?? -1);
  const maxWrong = checkNumber('maxValueWrong', options.maxValueWrong ?? -0.5);
  const minCorrect = checkNumber('minValueCorrect', options.minValueCorrect ?? 0.5);
  const maxCorrect = checkNumber('maxValueCorrect', options.maxValueCorrect ?? 1);
  const maxLen = checkNumber('maxLen', options.maxLen ?? 1000, { min: 0, exclusiveMin: true });
  if (minWrong > maxWrong) throw new RewardConfigError('minValueWrong', minWrong, `<= maxValueWrong (${maxWrong})`);
  if (minCorrect > maxCorrect) throw new RewardConfigError('minValueCorrect', minCorrect, `<= maxValueCorrect (${maxCorrect})`);
  const length = options.length ?? chars;
  const cosineLengthReward: RewardFunction = (completion, sample) => {
    const correct = judgeAnswer(completion, sample, extract, options);
    if (correct === null) return null;
    const t = Math.min(Math.max(length(completion), 0) / maxLen, 1);
    const cosine = Math.cos(Math.PI * t);
    const [lo, hi] = correct ? [minCorrect, maxCorrect] : [maxWrong, minWrong];
    return lo + 0.5 * (hi - lo) * (1 + cosine);
  };
  return cosineLengthReward;
}

/**
 * The cosine-scaled length reward with open-r1's defaults (−1, −0.5, 0.5, 1, maxLen 1000 characters).
 *
 * @example
 * ```ts
 * import { cosineLengthReward } from '@r1-ts/rewards';
 * cosineLengthReward('\\boxed{5}', { prompt: '', answer: '4' }); // ≈ -1 (short and wrong)
 * ```
 */
export const cosineLengthReward: RewardFunction = createCosineLengthReward();

/**
 * Options of {@link createSoftOverlongPunishment}.
 *
 * @example
 * ```ts
 * import type { SoftOverlongOptions } from '@r1-ts/rewards';
 * const options: SoftOverlongOptions = { maxLength: 1024, bufferLength: 256 };
 * ```
 */
export interface SoftOverlongOptions {
  /** L_max: lengths above it get −1 (default 20480, DAPO's value). */
  maxLength?: number;
  /** L_cache: the punishment ramps linearly over the last `bufferLength` before L_max (default 4096). */
  bufferLength?: number;
  /** Length of a completion: characters by default, or e.g. a tokenizer's token count. */
  length?: (completion: string) => number;
}

/**
 * Builds DAPO's soft overlong punishment (eq. 13): 0 when |y| ≤ L_max − L_cache,
 * (L_max − L_cache − |y|) / L_cache inside the buffer, −1 when |y| > L_max.
 *
 * @param options - `maxLength` L_max (default 20480), `bufferLength` L_cache (default 4096, at most L_max), and the `length` function (default: characters).
 *
 * @example
 * ```ts
 * import { createSoftOverlongPunishment } from '@r1-ts/rewards';
 * const punish = createSoftOverlongPunishment({ maxLength: 100, bufferLength: 20 });
 * punish('x'.repeat(90), { prompt: '' }); // -0.5
 * ```
 */
export function createSoftOverlongPunishment(options: SoftOverlongOptions = {}): RewardFunction {
  checkOptionKeys('createSoftOverlongPunishment', options, { maxLength: true, bufferLength: true, length: true });
  const maxLength = checkNumber('maxLength', options.maxLength ?? 20480, { min: 0, exclusiveMin: true });
  const buffer = checkNumber('bufferLength', options.bufferLength ?? 4096, { min: 0, exclusiveMin: true });
  if (buffer > maxLength) throw new RewardConfigError('bufferLength', buffer, `<= maxLength (${maxLength})`);
  const length = options.length ?? chars;
  const softOverlongPunishment: RewardFunction = (completion) => {
    const len = length(completion);
    if (len <= maxLength - buffer) return 0;
    if (len <= maxLength) return (maxLength - buffer - len) / buffer;
    return -1;
  };
  return softOverlongPunishment;
}

/**
 * The soft overlong punishment with DAPO's values (L_max 20480, L_cache 4096), in characters.
 *
 * @example
 * ```ts
 * import { softOverlongPunishment } from '@r1-ts/rewards';
 * softOverlongPunishment('short answer', { prompt: '' }); // 0
 * ```
 */
export const softOverlongPunishment: RewardFunction = createSoftOverlongPunishment();
