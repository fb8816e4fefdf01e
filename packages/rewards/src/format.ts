// Format rewards (R1 §2.2.2 "format rewards"; open-r1's format and tag-count rewards).
import type { RewardFunction } from './types.js';

const FORMAT = /^\s*<think>(?:(?!<\/?think>|<\/?answer>)[\s\S])*<\/think>\s*<answer>(?:(?!<\/?think>|<\/?answer>)[\s\S])*<\/answer>\s*$/;

/**
 * 1 when the completion is exactly `<think>…</think>` followed by `<answer>…</answer>` (whitespace
 * allowed before, between and after; no other text outside the blocks; no nested or repeated tags
 * inside them), else 0.
 *
 * @param completion - The model's output, scored as a whole.
 *
 * @example
 * ```ts
 * import { formatReward } from '@r1-ts/rewards';
 * formatReward('<think>2+2=4</think>\n<answer>4</answer>', { prompt: '' }); // 1
 * formatReward('Sure! <think>…</think><answer>4</answer>', { prompt: '' }); // 0
 * ```
 */
export const formatReward: RewardFunction = (completion) => (FORMAT.test(completion) ? 1 : 0);

const TAGS = ['<think>', '</think>', '<answer>', '</answer>'];

/**
 * 0.25 for each of `<think>`, `</think>`, `<answer>`, `</answer>` that occurs exactly once; a softer
 * signal than {@link formatReward} early in training.
 *
 * @param completion - The model's output.
 *
 * @example
 * ```ts
 * import { tagCountReward } from '@r1-ts/rewards';
 * tagCountReward('<think>a</think><answer>b</answer>', { prompt: '' }); // 1
 * tagCountReward('<think>a</think>', { prompt: '' }); // 0.5
 * ```
 */
export const tagCountReward: RewardFunction = (completion) => {
  let score = 0;
  for (const tag of TAGS) if (completion.split(tag).length === 2) score += 0.25;
  return score;
};
