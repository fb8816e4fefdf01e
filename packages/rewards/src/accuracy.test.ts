import { describe, expect, it } from 'vitest';
import { accuracyReward, createAccuracyReward } from './accuracy.js';
import { RewardConfigError } from './errors.js';
import { isMathEquivalent } from './equivalence.js';

// [predicted, reference, equivalent?] — written by hand, not produced by the code under test.
const table: Array<[string, string, boolean]> = [
  ['1,000', '1000', true],
  ['1 000', '1000', true],
  ['1{,}000', '1000', true],
  ['1\\,000', '1000', true],
  ['0.5', '.5', true],
  ['0.5', '1/2', true],
  ['\\frac12', '0.5', true],
  ['\\dfrac{1}{2}', '\\frac{2}{4}', true],
  ['\\tfrac{3}{4}', '0.75', true],
  ['50\\%', '0.5', true],
  ['50%', '50', true],
  ['\\sqrt{8}', '2\\sqrt{2}', true],
  ['\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt3}{2}', true],
  ['-3', '-3.0', true],
  ['-\\frac{1}{2}', '-0.5', true],
  ['x^2-1', '(x-1)(x+1)', true],
  ['2x+3', '3+2x', true],
  ['\\sin^2 x + \\cos^2 x', '1', true],
  ['\\{1,2\\}', '\\{2,1\\}', true],
  ['1, 2', '2, 1', true],
  ['(1,2)', '(1,2)', true],
  ['[1,2)', '[1, 2)', true],
  ['5 \\text{ cm}', '5', true],
  ['\\$5', '5', true],
  ['$42$.', '42', true],
  ['x = 5', '5', true],
  ['90^\\circ', '90', true],
  ['\\text{Monday}', 'monday', true],
  ['\\pi/2', '\\frac{\\pi}{2}', true],
  ['12345678901234567890', '12345678901234567890', true],
  // non-equivalences
  ['50%', '5', false],
  ['0.33', '\\frac13', false],
  ['x^2+1', '(x-1)(x+1)', false],
  ['\\sqrt{x^2}', 'x', false],
  ['y^2', 'x^2', false],
  ['(1,2)', '(2,1)', false],
  ['[1,2)', '[1,2]', false],
  ['\\{1,2\\}', '\\{1,2,3\\}', false],
  ['-3', '3', false],
  ['\\pi', '3.14159', false],
  ['12345678901234567890', '12345678901234567891', false],
  ['Monday', 'Mondya', false],
  ['1000', '100', false],
  ['(1,2)', '1', false],
];

describe('isMathEquivalent', () => {
  it.each(table)('%s vs %s → %s', (a, b, expected) => {
    expect(isMathEquivalent(a, b)).toBe(expected);
    expect(isMathEquivalent(b, a)).toBe(expected); // symmetric
  });

  it('is deterministic across seeds for true identities and repeated calls', () => {
    for (const seed of [1, 2, 3]) expect(isMathEquivalent('(a+b)^2', 'a^2+2ab+b^2', { seed })).toBe(true);
    expect(isMathEquivalent('x^3', 'x^2', { seed: 5 })).toBe(isMathEquivalent('x^3', 'x^2', { seed: 5 }));
  });

  it('never throws on what the compute engine cannot evaluate (found by a demo run: `G!` made the engine throw)', () => {
    for (const s of ['G!', '(G)!', 'GG!', '3G!']) {
      expect(() => isMathEquivalent(s, '1'), s).not.toThrow();
      expect(isMathEquivalent(s, '1'), s).toBe(false);
      expect(isMathEquivalent('1', s), s).toBe(false);
    }
    expect(isMathEquivalent('G!', 'G!')).toBe(true); // undecidable by the engine: equal as text
  });
});

describe('accuracyReward', () => {
  const sample = { prompt: 'Compute.', answer: '\\frac{1}{2}' };
  it.each([
    ['The answer is \\boxed{0.5}.', 1],
    ['\\boxed{1} no wait \\boxed{\\dfrac{1}{2}}', 1],
    ['\\fbox{.5}', 1],
    ['<think>…</think><answer>1/2</answer>', 1],
    ['<think>…</think><answer>0.25</answer>', 0],
    ['\\boxed{\\frac{1}{2}', 0], // unbalanced: nothing extractable
    ['I have no idea', 0],
    ['<answer></answer>', 0],
  ])('%s → %s', (completion, expected) => {
    expect(accuracyReward(completion, sample)).toBe(expected);
  });

  it('returns null without a reference answer, reads a boxed reference', () => {
    expect(accuracyReward('\\boxed{1}', { prompt: '' })).toBeNull();
    expect(accuracyReward('\\boxed{7}', { prompt: '', answer: 'so \\boxed{7}' })).toBe(1);
  });

  it('honours the extract option', () => {
    const c = '\\boxed{3} <answer>4</answer>';
    expect(createAccuracyReward({ extract: 'answer' })(c, { prompt: '', answer: '4' })).toBe(1);
    expect(createAccuracyReward({ extract: 'boxed' })(c, { prompt: '', answer: '4' })).toBe(0);
    expect(createAccuracyReward({ extract: (t) => t.split(' ')[0] })('4 apples', { prompt: '', answer: '4' })).toBe(1);
  });

  it('rejects bad options with a RewardConfigError naming the field', () => {
    expect(() => createAccuracyReward({ extract: 'last' as never })).toThrow(RewardConfigError);
    expect(() => createAccuracyReward({ points: 0 })).toThrow(/points/);
    expect(() => createAccuracyReward({ tolerance: -1 })).toThrow(/tolerance/);
  });
});
