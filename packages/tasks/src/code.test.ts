import { describe, expect, it } from 'vitest';
import { codeTask } from './code.js';
import { CODE_TEMPLATES } from './code-templates.js';
import { generateSamples } from './generate.js';
import { TaskRng } from './rng.js';

// Runs a completion's code block in this process. Test-only: the sources are ours, not a model's.
function runTests(source: string, tests: { fn: string; input: unknown[]; expected: unknown }[]): void {
  for (const t of tests) {
    const fn = new Function(`${source}\nreturn ${t.fn};`)() as (...a: unknown[]) => unknown;
    expect(JSON.parse(JSON.stringify(fn(...structuredClone(t.input)))), `${t.fn}(${JSON.stringify(t.input)})`).toEqual(t.expected);
  }
}

describe('codeTask', () => {
  it('has at least 8 templates across three levels', () => {
    expect(CODE_TEMPLATES.length).toBeGreaterThanOrEqual(8);
    expect(new Set(CODE_TEMPLATES.map((t) => t.level))).toEqual(new Set([1, 2, 3]));
  });

  it.each([1, 2, 3])('difficulty %i: 1,000 completions pass their own tests', (difficulty) => {
    const gen = codeTask({ difficulty });
    const rng = new TaskRng(difficulty);
    const names = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = gen.sample(rng);
      names.add((s.meta as { template: string }).template);
      expect(s.language).toBe('javascript');
      expect(s.tests!.length).toBeGreaterThanOrEqual(5);
      const completion = gen.completion(s, { verbosity: i % 2 ? 'explained' : 'compact' });
      const block = /^<think>(?:(?!<\/?think>)[\s\S])+<\/think><answer>```js\n([\s\S]*)\n```<\/answer>$/.exec(completion);
      expect(block).not.toBeNull();
      expect(block![1]).toBe(s.answer);
      if (i < 200) runTests(block![1], s.tests!);
    }
    // The knob selects exactly that level's templates, and all of them are drawn.
    expect(names).toEqual(new Set(CODE_TEMPLATES.filter((t) => t.level === difficulty).map((t) => t.name)));
  });

  it('expected values match hand-computed cases', () => {
    const byName = Object.fromEntries(CODE_TEMPLATES.map((t) => [t.name, t.make(new TaskRng(0))]));
    const call = (name: string, ...args: unknown[]): unknown => (byName[name].reference as (...a: unknown[]) => unknown)(...args);
    expect(call('sumArray', [1, 2, 3])).toBe(6);
    expect(call('factorial', 5)).toBe(120);
    expect(call('fibonacci', 10)).toBe(55);
    expect(call('gcd', 12, 18)).toBe(6);
    expect(call('isPrime', 97)).toBe(true);
    expect(call('isPrime', 91)).toBe(false);
    expect(call('runLength', 'aaab')).toBe('3a1b');
    expect(call('countVowels', 'education')).toBe(5);
    expect(call('reverseString', 'abc')).toBe('cba');
  });

  it('a wrong solution fails the tests (the tests can discriminate)', () => {
    const s = codeTask({ difficulty: 1 }).sample(new TaskRng(4));
    const fn = (s.meta as { fn: string }).fn;
    expect(() => runTests(`function ${fn}() { return 0; }`, s.tests!)).toThrow();
  });

  it('is deterministic and validates options', () => {
    const gen = codeTask({ difficulty: 2, tests: 3 });
    const a = generateSamples(gen, { seed: 2, count: 10 });
    expect(generateSamples(gen, { seed: 2, count: 10 })).toEqual(a);
    expect(() => codeTask({ difficulty: 4 })).toThrow(/difficulty must be an integer in \[1, 3\], got 4/);
    expect(() => codeTask({ tests: -1 })).toThrow(/tests/);
  });
});
