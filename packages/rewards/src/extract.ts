/**
 * How {@link extractAnswer} finds the final answer in a completion: the last `\boxed{…}`/`\fbox{…}`
 * then the last `<answer>…</answer>` block (`'boxed-then-answer'`, the default), only one of the two,
 * or your own function (return `null` when there is no answer).
 *
 * @example
 * ```ts
 * import type { AnswerExtractor } from '@r1-ts/rewards';
 * const lastLine: AnswerExtractor = (text) => text.trim().split('\n').pop() ?? null;
 * ```
 */
export type AnswerExtractor = 'boxed-then-answer' | 'answer' | 'boxed' | ((completion: string) => string | null);

/**
 * Contents of the last well-formed `\boxed{…}` or `\fbox{…}` (braces balanced, nested braces kept),
 * or `null` if there is none.
 *
 * @example
 * ```ts
 * import { lastBoxed } from '@r1-ts/rewards';
 * lastBoxed('so \\boxed{1} or rather \\boxed{\\frac{1}{2}}'); // '\\frac{1}{2}'
 * ```
 */
export function lastBoxed(text: string): string | null {
  const starts: number[] = [];
  for (const m of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) starts.push(m.index! + m[0].length);
  for (let s = starts.length - 1; s >= 0; s--) {
    let depth = 1;
    for (let i = starts[s]; i < text.length; i++) {
      const c = text[i];
      if (c === '\\') {
        i++; // an escaped brace (\{ \}) does not count
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return text.slice(starts[s], i);
    }
  }
  return null;
}

/**
 * Contents of the last complete `<answer>…</answer>` block, trimmed, or `null`.
 *
 * @example
 * ```ts
 * import { answerBlock } from '@r1-ts/rewards';
 * answerBlock('<think>…</think><answer> 42 </answer>'); // '42'
 * ```
 */
export function answerBlock(text: string): string | null {
  const end = text.lastIndexOf('</answer>');
  if (end < 0) return null;
  const start = text.lastIndexOf('<answer>', end);
  if (start < 0) return null;
  return text.slice(start + '<answer>'.length, end).trim();
}

/**
 * The final answer of a completion according to `mode` (see {@link AnswerExtractor}), or `null` when
 * nothing can be extracted. An empty extraction counts as none.
 *
 * @example
 * ```ts
 * import { extractAnswer } from '@r1-ts/rewards';
 * extractAnswer('<answer>x = \\boxed{5}</answer>'); // '5'
 * extractAnswer('<answer>7</answer>', 'boxed'); // null
 * ```
 */
export function extractAnswer(completion: string, mode: AnswerExtractor = 'boxed-then-answer'): string | null {
  let found: string | null;
  if (typeof mode === 'function') found = mode(completion);
  else if (mode === 'boxed') found = lastBoxed(completion);
  else if (mode === 'answer') found = answerBlock(completion);
  else found = lastBoxed(completion) ?? answerBlock(completion);
  return found !== null && found.trim() !== '' ? found.trim() : null;
}
