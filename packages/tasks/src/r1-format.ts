const TAG = /<\/?(think|answer)>/;

/**
 * The four R1 output-format tags, in order. A character tokenizer should map each to one token.
 *
 * @example
 * ```ts
 * import { R1_TAGS } from '@r1-ts/tasks';
 * console.log(R1_TAGS.join('')); // <think></think><answer></answer>
 * ```
 */
export const R1_TAGS = ['<think>', '</think>', '<answer>', '</answer>'] as const;

/**
 * Wraps reasoning and result in R1's output format (R1 paper §2.3.1, Table 1):
 * `<think>reasoning</think><answer>result</answer>`, nothing else.
 *
 * @param think - The reasoning, placed between `<think>` and `</think>`.
 * @param answer - The result, placed between `<answer>` and `</answer>`.
 *
 * @example
 * ```ts
 * import { r1Completion } from '@r1-ts/tasks';
 * console.log(r1Completion('2+2=4', '4')); // <think>2+2=4</think><answer>4</answer>
 * ```
 */
export function r1Completion(think: string, answer: string): string {
  return `<think>${think}</think><answer>${answer}</answer>`;
}

/**
 * Splits an R1-format completion into its reasoning and answer; null when it is not exactly
 * `<think>…</think><answer>…</answer>`.
 *
 * @param text - A completion to split.
 *
 * @example
 * ```ts
 * import { parseR1Completion } from '@r1-ts/tasks';
 * console.log(parseR1Completion('<think>1+1=2</think><answer>2</answer>')); // { think: '1+1=2', answer: '2' }
 * ```
 */
export function parseR1Completion(text: string): { think: string; answer: string } | null {
  const m = /^<think>([\s\S]*?)<\/think><answer>([\s\S]*?)<\/answer>$/.exec(text);
  if (!m || TAG.test(m[1]) || TAG.test(m[2])) return null;
  return { think: m[1], answer: m[2] };
}
