// N-gram repetition penalty (open-r1; Demystifying Long CoT, Yeo et al. 2025 §4).
import { checkNumber, RewardConfigError } from './errors.js';
import type { RewardFunction } from './types.js';
import { checkOptionKeys } from './option-keys.js';

/**
 * Options of {@link createRepetitionPenalty}.
 *
 * @example
 * ```ts
 * import type { RepetitionPenaltyOptions } from '@r1-ts/rewards';
 * const options: RepetitionPenaltyOptions = { n: 4, maxPenalty: -0.5 };
 * ```
 */
export interface RepetitionPenaltyOptions {
  /** N-gram size (default 3). */
  n?: number;
  /** Penalty for a fully repetitive text, ≤ 0 (default −1). */
  maxPenalty?: number;
  /** Splits text into tokens (default: lower-cased `Intl.Segmenter` word-like segments). */
  tokenize?: (text: string) => string[];
}

let segmenter: Intl.Segmenter | undefined;

function words(text: string): string[] {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'word' });
  const out: string[] = [];
  for (const { segment, isWordLike } of segmenter.segment(text)) if (isWordLike) out.push(segment.toLowerCase());
  return out;
}

/**
 * Builds a repetition penalty: `maxPenalty · (1 − distinct n-grams / total n-grams)` over the
 * completion's tokens, so 0 for text without a repeated n-gram and `maxPenalty` in the limit of one
 * n-gram repeated forever; 0 for text shorter than `n` tokens.
 *
 * @param options - `n`: n-gram size (default 3); `maxPenalty`: the penalty at full repetition (default −1, must be ≤ 0); `tokenize`: how the completion is split into tokens (default: lower-cased words).
 *
 * @example
 * ```ts
 * import { createRepetitionPenalty } from '@r1-ts/rewards';
 * const penalty = createRepetitionPenalty({ n: 2, maxPenalty: -1 });
 * penalty('a b a b a b', { prompt: '' }); // 5 bigrams, 2 distinct: -(1 - 2/5) = -0.6
 * ```
 */
export function createRepetitionPenalty(options: RepetitionPenaltyOptions = {}): RewardFunction {
  checkOptionKeys('createRepetitionPenalty', options, { n: true, maxPenalty: true, tokenize: true });
  const n = checkNumber('n', options.n ?? 3, { min: 1, integer: true });
  const maxPenalty = checkNumber('maxPenalty', options.maxPenalty ?? -1);
  if (maxPenalty > 0) throw new RewardConfigError('maxPenalty', maxPenalty, 'a finite number <= 0');
  const tokenize = options.tokenize ?? words;
  const repetitionPenalty: RewardFunction = (completion) => {
    const tokens = tokenize(completion);
    if (tokens.length < n) return 0;
    const seen = new Set<string>();
    const total = tokens.length - n + 1;
    for (let i = 0; i < total; i++) seen.add(tokens.slice(i, i + n).join('\u0000'));
    const value = maxPenalty * (1 - seen.size / total);
    return value === 0 ? 0 : value; // no -0
  };
  return repetitionPenalty;
}

/**
 * The repetition penalty with n = 3 and maxPenalty = −1.
 *
 * @example
 * ```ts
 * import { repetitionPenalty } from '@r1-ts/rewards';
 * repetitionPenalty('the cat sat on the mat', { prompt: '' }); // 0
 * ```
 */
export const repetitionPenalty: RewardFunction = createRepetitionPenalty();
