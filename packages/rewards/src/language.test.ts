import { describe, expect, it } from 'vitest';
import { RewardConfigError } from './errors.js';
import { languageConsistencyReward, targetLanguageFraction } from './language.js';

describe('languageConsistencyReward', () => {
  it.each([
    ['<think>First, add the two numbers together.</think><answer>7</answer>', 'en', 1],
    ['<think>我们先把两个数相加</think><answer>7</answer>', 'en', 0],
    ['<think>我们先把两个数相加</think><answer>7</answer>', 'zh', 1],
    ['<think>First add 3 + 4 = 7.</think>', 'en', 1], // numbers are not counted
    ['<think>12 + 30 = 42</think>', 'en', 0], // no countable word
    ['plain reasoning without tags', undefined, 1],
    ['<think>Первым делом сложим</think>', 'ru', 1],
    ['<think>Первым делом сложим</think>', 'en', 0],
  ])('%j (%s) → %s', (completion, language, expected) => {
    expect(languageConsistencyReward(completion, { prompt: '', language })).toBe(expected);
  });

  it('scores mixed reasoning by the fraction of target-language words', () => {
    // Eight English words and two Chinese words ("猫" and "狗" are one word each).
    const text = 'the cat 猫 and the dog 狗 play all day';
    expect(targetLanguageFraction(text, 'en')).toBeCloseTo(8 / 10, 10);
    expect(targetLanguageFraction(text, 'zh')).toBeCloseTo(2 / 10, 10);
    // Longer mix: every English word is one word; the Chinese sentence has several words, between 2 and 6.
    const mixed = 'we compute the sum 然后我们检查答案 carefully';
    const en = targetLanguageFraction(mixed, 'en')!;
    expect(en).toBeGreaterThan(5 / 11);
    expect(en).toBeLessThan(5 / 7);
    expect(en + targetLanguageFraction(mixed, 'zh')!).toBeCloseTo(1, 10);
  });

  it('throws a RewardConfigError for an unknown language', () => {
    expect(() => languageConsistencyReward('x', { prompt: '', language: 'xx' })).toThrow(RewardConfigError);
    expect(() => languageConsistencyReward('x', { prompt: '', language: 'xx' })).toThrow(/sample.language/);
  });
});
