import { describe, expect, it } from 'vitest';
import { RewardConfigError } from './errors.js';
import { createRepetitionPenalty, repetitionPenalty } from './repetition.js';

describe('repetitionPenalty', () => {
  it.each([
    ['', 0],
    ['too short', 0],
    ['the cat sat on the mat', 0],
    ['a b c a b c', -(1 - 3 / 4)], // trigrams abc bca cab abc: 3 distinct of 4
    ['go go go go go', -(1 - 1 / 3)],
    ['Go, GO! go. go go', -(1 - 1 / 3)], // lower-cased words, punctuation ignored
  ])('%j → %s', (text, expected) => {
    expect(repetitionPenalty(text, { prompt: '' })).toBeCloseTo(expected, 12);
  });

  it('honours n, maxPenalty and a custom tokenizer; validates options', () => {
    const p = createRepetitionPenalty({ n: 2, maxPenalty: -0.5, tokenize: (t) => [...t] });
    expect(p('abab', { prompt: '' })).toBeCloseTo(-0.5 * (1 - 2 / 3), 12);
    expect(() => createRepetitionPenalty({ n: 0 })).toThrow(RewardConfigError);
    expect(() => createRepetitionPenalty({ maxPenalty: 1 })).toThrow(/maxPenalty/);
  });
});
