import { describe, expect, it } from 'vitest';
import { syntheticFacts } from './facts.js';
import { generateSamples } from './generate.js';
import { generalTask } from './general.js';
import { preferencePairs } from './preference.js';

describe('generalTask', () => {
  it('answers each kind correctly, without <think>', () => {
    const facts = syntheticFacts({ seed: 0, size: 16 });
    const gen = generalTask();
    const samples = generateSamples(gen, { seed: 1, count: 400 });
    expect(new Set(samples.map((s) => s.task))).toEqual(new Set(['general/greeting', 'general/echo', 'general/uppercase', 'general/facts']));
    for (const s of samples) {
      expect(gen.completion(s)).toBe(s.answer);
      expect(s.answer).not.toMatch(/<think>|<answer>/);
      let m: RegExpExecArray | null;
      if ((m = /^Repeat: (.+)$/.exec(s.prompt))) expect(s.answer).toBe(m[1]);
      else if ((m = /^Uppercase: (.+)$/.exec(s.prompt))) expect(s.answer).toBe(m[1].toUpperCase());
      else if ((m = /^What color is the (\w+)\?$/.exec(s.prompt))) expect(s.answer).toBe(`The ${m[1]} is ${facts.find((f) => f.name === m![1])!.color}.`);
      else if ((m = /^Where does the (\w+) live\?$/.exec(s.prompt))) expect(s.answer).toBe(`The ${m[1]} lives in ${facts.find((f) => f.name === m![1])!.home}.`);
      else if ((m = /^How many legs does the (\w+) have\?$/.exec(s.prompt))) expect(s.answer).toMatch(new RegExp(`^The ${m[1]} has ${facts.find((f) => f.name === m![1])!.legs} legs?\\.$`));
      else expect(s.answer).toBe(`${s.prompt} How can I help you?`);
    }
  });

  it('fact tables are deterministic with unique names; kinds are validated', () => {
    const a = syntheticFacts({ seed: 3, size: 50 });
    expect(syntheticFacts({ seed: 3, size: 50 })).toEqual(a);
    expect(new Set(a.map((f) => f.name)).size).toBe(50);
    expect(syntheticFacts({ seed: 4, size: 50 })).not.toEqual(a);
    expect(() => generalTask({ kinds: ['poetry' as never] })).toThrow(/kinds must be a non-empty array/);
    expect(generateSamples(generalTask({ kinds: ['echo'] }), { seed: 0, count: 20 }).every((s) => s.task === 'general/echo')).toBe(true);
  });
});

describe('preferencePairs', () => {
  it('chosen is the reference response, rejected differs and is wrong or unhelpful', () => {
    const gen = generalTask();
    const refs = new Map(generateSamples(gen, { seed: 9, count: 5000 }).map((s) => [s.prompt, s.answer]));
    const pairs = preferencePairs({ seed: 2, count: 500 });
    expect(new Set(pairs.map((p) => p.why))).toEqual(new Set(['wrong', 'unhelpful']));
    expect(new Set(pairs.map((p) => p.kind)).size).toBe(4);
    for (const p of pairs) {
      expect(p.rejected).not.toBe(p.chosen);
      if (refs.has(p.prompt)) expect(p.chosen).toBe(refs.get(p.prompt));
      if (p.kind === 'uppercase' && p.why === 'wrong') expect(p.rejected).toBe(p.chosen.toLowerCase());
      if (p.kind === 'facts' && p.why === 'wrong') expect(p.rejected.split(' ').slice(0, 2)).toEqual(p.chosen.split(' ').slice(0, 2));
    }
    expect(preferencePairs({ seed: 2, count: 50 })).toEqual(pairs.slice(0, 50));
    expect(() => preferencePairs({ seed: 0, count: -1 })).toThrow(/count/);
  });
});
