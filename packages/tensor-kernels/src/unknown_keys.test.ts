import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors';
import { rejectUnknownKeys } from './unknown_keys';

const KEYS = ['temperature', 'topP', 'topK', 'maxNewTokens'];

function messageOf(f: () => void): ConfigError {
  try { f(); } catch (e) { return e as ConfigError; }
  throw new Error('did not throw');
}

describe('rejectUnknownKeys', () => {
  it('accepts known keys and ignores undefined values', () => {
    expect(() => rejectUnknownKeys({ temperature: 1, topK: undefined, extra: undefined }, KEYS, 'x')).not.toThrow();
  });

  it('names the unknown key, the typo it is closest to, and the accepted keys', () => {
    const e = messageOf(() => rejectUnknownKeys({ temprature: 0.6 }, KEYS, 'generate options'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('generate options: unknown key "temprature" (did you mean "temperature"?); accepted: temperature, topP, topK, maxNewTokens');
    expect(e.fields).toEqual(['temprature']);
  });

  it('prefers hints, then a case-insensitive match, and suggests nothing for a far-off key', () => {
    expect(messageOf(() => rejectUnknownKeys({ top_p: 1 }, KEYS, 'o', { top_p: 'topP' })).message).toContain('"top_p" (did you mean "topP"?)');
    expect(messageOf(() => rejectUnknownKeys({ TOPK: 1 }, KEYS, 'o')).message).toContain('"TOPK" (did you mean "topK"?)');
    expect(messageOf(() => rejectUnknownKeys({ level: 1 }, KEYS, 'o')).message).toMatch(/unknown key "level"; accepted/);
    // A swap of two adjacent letters is one edit.
    expect(messageOf(() => rejectUnknownKeys({ tpoK: 1 }, KEYS, 'o')).message).toContain('"tpoK" (did you mean "topK"?)');
    // Short keys get no edit-distance guess: "tp" is 2 edits from "topP" but could be anything.
    expect(messageOf(() => rejectUnknownKeys({ tp: 1 }, KEYS, 'o')).message).not.toContain('did you mean');
  });

  it('lists every unknown key', () => {
    const e = messageOf(() => rejectUnknownKeys({ maxTokens: 1, topp: 1 }, KEYS, 'o'));
    expect(e.message).toMatch(/^o: unknown keys "maxTokens" \(did you mean "maxNewTokens"\?\), "topp" \(did you mean "topP"\?\)/);
    expect(e.fields).toEqual(['maxTokens', 'topp']);
  });
});
