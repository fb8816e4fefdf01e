import { describe, expect, it } from 'vitest';
import { RewardConfigError } from './errors.js';
import { createCosineLengthReward, createSoftOverlongPunishment, softOverlongPunishment } from './length.js';

// Plain reference of the cosine schedule (Yeo et al. 2025, eq. 1), written independently.
function cosineRef(len: number, correct: boolean, L: number): number {
  const t = Math.min(len / L, 1);
  const [r0, rL] = correct ? [1, 0.5] : [-1, -0.5]; // value at length 0 and at L
  return rL + 0.5 * (r0 - rL) * (1 + Math.cos(Math.PI * t));
}

describe('cosineLengthReward', () => {
  const reward = createCosineLengthReward({ maxLen: 100 });
  const sample = { prompt: '', answer: '4' };
  const pad = (n: number, ans: string) => `${'x'.repeat(n - `\\boxed{${ans}}`.length)}\\boxed{${ans}}`;
  it.each([
    [20, '4', true],
    [50, '4', true],
    [100, '4', true],
    [150, '4', true],
    [20, '5', false],
    [50, '5', false],
    [100, '5', false],
    [400, '5', false],
  ])('length %s answer %s', (len, ans, correct) => {
    expect(reward(pad(len, ans), sample)).toBeCloseTo(cosineRef(len, correct, 100), 12);
  });

  it('orders short correct > long correct > long wrong > short wrong; null without answer', () => {
    const v = (len: number, ans: string) => reward(pad(len, ans), sample) as number;
    expect(v(20, '4')).toBeGreaterThan(v(90, '4'));
    expect(v(90, '5')).toBeGreaterThan(v(20, '5'));
    expect(v(90, '4')).toBeGreaterThan(v(90, '5'));
    expect(reward('\\boxed{4}', { prompt: '' })).toBeNull();
  });

  it('uses a custom length function and validates options', () => {
    const words = createCosineLengthReward({ maxLen: 4, length: (t) => t.split(' ').length });
    expect(words('a b \\boxed{4} d', { prompt: '', answer: '4' })).toBeCloseTo(0.5, 12);
    expect(() => createCosineLengthReward({ maxLen: 0 })).toThrow(RewardConfigError);
    expect(() => createCosineLengthReward({ minValueCorrect: 2 })).toThrow(/minValueCorrect/);
  });
});

describe('softOverlongPunishment (DAPO eq. 13)', () => {
  const punish = createSoftOverlongPunishment({ maxLength: 100, bufferLength: 20 });
  it.each([
    [0, 0],
    [80, 0],
    [81, -1 / 20],
    [90, -0.5],
    [100, -1],
    [101, -1],
    [5000, -1],
  ])('length %s → %s', (len, expected) => {
    expect(punish('y'.repeat(len), { prompt: '' })).toBeCloseTo(expected, 12);
  });

  it('defaults to DAPO values and validates options', () => {
    expect(softOverlongPunishment('y'.repeat(16384), { prompt: '' })).toBe(0);
    expect(softOverlongPunishment('y'.repeat(18432), { prompt: '' })).toBeCloseTo(-0.5, 12);
    expect(() => createSoftOverlongPunishment({ maxLength: 10, bufferLength: 20 })).toThrow(/bufferLength/);
    expect(() => createSoftOverlongPunishment({ maxLength: -1 })).toThrow(/maxLength/);
  });
});
