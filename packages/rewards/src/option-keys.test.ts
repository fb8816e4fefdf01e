import { describe, expect, it } from 'vitest';
import {
  combineRewards, createAccuracyReward, createCodeReward, createCosineLengthReward, createPythonCodeReward,
  createRepetitionPenalty, createSoftOverlongPunishment, formatReward, isMathEquivalent, RewardConfigError, warmPythonSandbox,
} from './index.js';

function thrown(f: () => unknown): RewardConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RewardConfigError);
    return e as RewardConfigError;
  }
  throw new Error('expected a RewardConfigError, nothing was thrown');
}

describe('unknown option keys', () => {
  it('a misspelt key throws naming it, the key it meant and the accepted keys', () => {
    const e = thrown(() => createSoftOverlongPunishment({ maxLenght: 100 } as never));
    expect(e.field).toBe('maxLenght');
    expect(e.value).toBe(100);
    expect(e.message).toContain('maxLenght must be an option of createSoftOverlongPunishment');
    expect(e.message).toContain('did you mean "maxLength"?');
    expect(e.message).toContain('accepted: maxLength, bufferLength, length');
  });

  it('a foreign key with no near match names the key and the accepted keys, without a guess', () => {
    const e = thrown(() => createRepetitionPenalty({ temperature: 0.7 } as never));
    expect(e.field).toBe('temperature');
    expect(e.message).not.toContain('did you mean');
    expect(e.message).toContain('accepted: n, maxPenalty, tokenize');
  });

  it('every factory and the math verifier check their keys (inherited option keys included)', () => {
    const cases: [string, () => unknown][] = [
      ['createAccuracyReward', () => createAccuracyReward({ extractor: 'answer' } as never)],
      ['isMathEquivalent', () => isMathEquivalent('1', '1', { point: 3 } as never)],
      ['combineRewards', () => combineRewards([{ name: 'f', fn: formatReward, weight: 1 }], { onerror: 'throw' } as never)],
      ['createCosineLengthReward', () => createCosineLengthReward({ max_len: 10 } as never)],
      ['createCodeReward', () => createCodeReward({ timeout: 10 } as never)],
      ['createPythonCodeReward', () => createPythonCodeReward({ compareMode: 'tokens' } as never)],
      ['warmPythonSandbox', () => warmPythonSandbox({ pool: 2 } as never)],
    ];
    for (const [where, f] of cases) expect(thrown(f).message, where).toContain(`an option of ${where}`);
    expect(thrown(() => createCosineLengthReward({ max_len: 10 } as never)).message).toContain('did you mean "maxLen"?');
    expect(thrown(() => createCodeReward({ timeout: 10 } as never)).message).toContain('did you mean "timeoutMs"?');
  });

  it('valid bags still work, and keys set to undefined are ignored', async () => {
    const overlong = createSoftOverlongPunishment({ maxLength: 10, bufferLength: 5, length: undefined });
    expect(await overlong('x'.repeat(8), { prompt: '' })).toBeCloseTo((10 - 5 - 8) / 5); // in the buffer: (L_max − L_cache − |y|)/L_cache
    const cosine = createCosineLengthReward({ extract: 'answer', points: 4, maxLen: 100 });
    expect(await cosine('<answer>4</answer>', { prompt: '', answer: '4' })).toBeGreaterThan(0.5);
    expect(isMathEquivalent('0.5', '\\frac12', { precision: 3 })).toBe(true);
    const combined = combineRewards([{ name: 'one', fn: () => 1, weight: 2 }], { onError: 'throw' });
    expect((await combined('anything', { prompt: '' })).total).toBe(2);
  });
});
