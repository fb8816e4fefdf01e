import { rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import { targetLanguageFraction } from '@r1-ts/rewards';
import type { RewardSample } from '@r1-ts/rewards';

/**
 * Why a sample was rejected (R1 §2.3.3).
 *
 * @example
 * ```ts
 * import { rejectionReason, type RejectionRule } from '@r1-ts/distill';
 * const why: RejectionRule | null = await rejectionReason('<answer>5</answer>', { prompt: '2+2?', answer: '4' }, false);
 * console.log(why); // 'wrong_answer'
 * ```
 */
export type RejectionRule = 'wrong_answer' | 'mixed_language' | 'long_paragraph' | 'code_block';

/**
 * Thresholds of the rejection rules.
 *
 * @example
 * ```ts
 * import { rejectionReason, type RejectionOptions } from '@r1-ts/distill';
 * const strict: RejectionOptions = { minLanguageConsistency: 1, maxParagraphChars: 500 };
 * const long = `<think>${'x'.repeat(600)}</think><answer>4</answer>`;
 * console.log(await rejectionReason(long, { prompt: '2+2?', answer: '4' }, true, strict)); // 'long_paragraph'
 * ```
 */
export interface RejectionOptions {
  /** Minimum fraction of reasoning words in the target language (default 0.95). */
  minLanguageConsistency?: number;
  /** Longest allowed paragraph in characters (default 2000). */
  maxParagraphChars?: number;
}

/**
 * R1's rejection-sampling filters (R1 §2.3.3): drop completions with a wrong answer, mixed
 * languages, over-long paragraphs, or code blocks where the task asked for none. Returns the first
 * rule that rejects, or null when the completion is kept. `correct` is the accuracy verdict.
 *
 * @param completion - The completion text in R1 format (`<think>…</think><answer>…</answer>`).
 * @param sample - The prompt it answers (its language is the target), with `task` when code blocks are allowed.
 * @param correct - Whether the verifier accepted the answer.
 * @param options - Rule thresholds: `minLanguageConsistency` (default 0.95), `maxParagraphChars` (default 2000).
 * @example
 * ```ts
 * import { rejectionReason } from '@r1-ts/distill';
 * const why = await rejectionReason('<think>ok</think><answer>4</answer>', { prompt: '2+2?', answer: '4' }, true);
 * console.log(why); // null
 * ```
 */
export async function rejectionReason(
  completion: string,
  sample: RewardSample & { task?: string },
  correct: boolean,
  options: RejectionOptions = {},
): Promise<RejectionRule | null> {
  rejectUnknownKeys(options, ['minLanguageConsistency', 'maxParagraphChars'], 'rejectionReason options');
  if (!correct) return 'wrong_answer';
  // Reasoning with no words at all (e.g. `7+5=12,4+8+1=13`) is not mixed: only words are judged.
  const think = /<think>([\s\S]*?)(<\/think>|$)/.exec(completion)?.[1] ?? completion;
  const lang = targetLanguageFraction(think, typeof sample.language === 'string' ? sample.language : 'en');
  if (lang !== null && lang < (options.minLanguageConsistency ?? 0.95)) return 'mixed_language';
  const longest = Math.max(0, ...completion.split(/\n\s*\n/).map((p) => p.length));
  if (longest > (options.maxParagraphChars ?? 2000)) return 'long_paragraph';
  const asksForCode = sample.task === 'code' || Array.isArray(sample.tests);
  if (!asksForCode && /```/.test(completion)) return 'code_block';
  return null;
}
