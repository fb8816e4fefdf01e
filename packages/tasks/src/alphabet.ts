import { R1_TAGS } from './r1-format.js';

/**
 * The characters a character-level tokenizer needs for some texts: every distinct character,
 * sorted by code point, after removing the R1 tags (`<think>` … `</answer>`), which a tokenizer
 * should map to one token each. Build the vocabulary as `[...specials, ...R1_TAGS, ...taskAlphabet(texts)]`.
 *
 * @param texts - Every text the tokenizer must encode (prompts and completions).
 * @param tags - Tags removed before counting, as the tokenizer has them as special tokens. Default: R1's four tags.
 *
 * @example
 * ```ts
 * import { arithmeticTask, coldStartExamples, taskAlphabet } from '@r1-ts/tasks';
 * const ex = coldStartExamples(arithmeticTask({ digits: 3, promptStyle: 'bare' }), { seed: 0, count: 500 });
 * console.log(taskAlphabet(ex.flatMap((e) => [e.prompt, e.completion])).join('')); // +,0123456789=
 * ```
 */
export function taskAlphabet(texts: Iterable<string>, tags: readonly string[] = R1_TAGS): string[] {
  const chars = new Set<string>();
  for (let text of texts) {
    for (const tag of tags) text = text.split(tag).join('\u0000');
    for (const c of text) if (c !== '\u0000') chars.add(c);
  }
  return [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}
