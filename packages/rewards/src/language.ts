// Language-consistency reward (R1 §2.3.2): the proportion of target-language words in the chain of
// thought. R1 adds it to the accuracy reward to stop language mixing.
import { RewardConfigError } from './errors.js';
import type { RewardFunction } from './types.js';

// A word belongs to a language when every letter in it is in one of the language's scripts.
const SCRIPTS: Record<string, RegExp> = {
  en: /^\p{Script=Latin}$/u,
  fr: /^\p{Script=Latin}$/u,
  de: /^\p{Script=Latin}$/u,
  es: /^\p{Script=Latin}$/u,
  it: /^\p{Script=Latin}$/u,
  pt: /^\p{Script=Latin}$/u,
  zh: /^\p{Script=Han}$/u,
  ja: /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc]$/u,
  ko: /^[\p{Script=Hangul}\p{Script=Han}]$/u,
  ru: /^\p{Script=Cyrillic}$/u,
  ar: /^\p{Script=Arabic}$/u,
};

/**
 * Language codes {@link languageConsistencyReward} understands (the primary subtag: `'zh-CN'` is
 * `'zh'`). Languages that share a script (en, fr, de, …) are not told apart from each other.
 *
 * @example
 * ```ts
 * import { SUPPORTED_LANGUAGES } from '@r1-ts/rewards';
 * SUPPORTED_LANGUAGES.includes('zh'); // true
 * ```
 */
export const SUPPORTED_LANGUAGES: readonly string[] = Object.freeze(Object.keys(SCRIPTS));

let segmenter: Intl.Segmenter | undefined;

/**
 * Fraction of the words of `text` written in `language`'s script, or `null` when the text has no
 * countable words. Words are `Intl.Segmenter` word segments with `isWordLike`; segments with no
 * letter (numbers, symbols) are not counted. Throws {@link RewardConfigError} for an unknown language.
 *
 * @param text - The text whose words are counted.
 * @param language - A language code (`en`, `zh`, `ja-JP`, ...); only the part before `-`/`_` is used. Unknown codes are a RewardConfigError.
 *
 * @example
 * ```ts
 * import { targetLanguageFraction } from '@r1-ts/rewards';
 * targetLanguageFraction('one two three 四', 'en'); // 0.75
 * ```
 */
export function targetLanguageFraction(text: string, language: string): number | null {
  const script = SCRIPTS[language.toLowerCase().split(/[-_]/)[0]];
  if (!script) throw new RewardConfigError('sample.language', language, `one of ${SUPPORTED_LANGUAGES.join(', ')}`);
  segmenter ??= new Intl.Segmenter('en', { granularity: 'word' });
  let total = 0;
  let target = 0;
  for (const { segment, isWordLike } of segmenter.segment(text)) {
    if (!isWordLike) continue;
    const letters = segment.match(/\p{L}/gu);
    if (!letters) continue;
    total++;
    if (letters.every((c) => script.test(c))) target++;
  }
  return total === 0 ? null : target / total;
}

/** The chain of thought: the `<think>` block's content, else the whole completion. */
export function reasoningOf(completion: string): string {
  const start = completion.indexOf('<think>');
  if (start < 0) return completion;
  const end = completion.indexOf('</think>', start);
  return completion.slice(start + '<think>'.length, end < 0 ? undefined : end);
}

/**
 * Fraction of the reasoning's words (the `<think>` content, or the whole completion without one) in
 * the target language `sample.language` (default `'en'`): 1 for pure English reasoning with target
 * English, about ⅔ for two English words and one Chinese word, 0 for pure Chinese. Reasoning with
 * no countable word scores 0.
 *
 * @param completion - The model's output; only its `<think>` content counts when it has one.
 * @param sample - The prompt's sample; `sample.language` is the target language code (default `en`).
 *
 * @example
 * ```ts
 * import { languageConsistencyReward } from '@r1-ts/rewards';
 * languageConsistencyReward('<think>First add the numbers.</think><answer>7</answer>', { prompt: '' }); // 1
 * languageConsistencyReward('<think>我们先计算</think><answer>7</answer>', { prompt: '', language: 'zh' }); // 1
 * ```
 */
export const languageConsistencyReward: RewardFunction = (completion, sample) => {
  const language = sample.language ?? 'en';
  if (typeof language !== 'string') throw new RewardConfigError('sample.language', language, 'a language code string');
  return targetLanguageFraction(reasoningOf(completion), language) ?? 0;
};
