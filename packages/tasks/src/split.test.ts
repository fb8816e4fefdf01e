import { describe, expect, it } from 'vitest';
import { arithmeticTask } from './arithmetic.js';
import { countdownTask } from './countdown.js';
import { generalTask } from './general.js';
import { coldStartExamples, mixTasks } from './generate.js';
import { linearEquationTask } from './linear.js';
import { TaskRng } from './rng.js';
import { makeSplit } from './split.js';

describe('makeSplit', () => {
  it.each([
    ['arithmetic 2-digit', arithmeticTask({ digits: 2, ops: ['+', '*'] })],
    ['linear', linearEquationTask({ difficulty: 2 })],
    ['countdown', countdownTask({ count: 3 })],
  ])('%s: train and eval are disjoint and duplicate-free', (_name, gen) => {
    const { train, eval: held } = makeSplit(gen, { seed: 1, train: 1500, eval: 300 });
    expect(train).toHaveLength(1500);
    expect(held).toHaveLength(300);
    const trainKeys = new Set(train.map((s) => gen.key(s)));
    const evalKeys = new Set(held.map((s) => gen.key(s)));
    expect(trainKeys.size).toBe(1500);
    expect(evalKeys.size).toBe(300);
    for (const k of evalKeys) expect(trainKeys.has(k)).toBe(false);
  });

  it('commuted problems count as one: a+b in eval means b+a is never in train', () => {
    const gen = arithmeticTask({ digits: 1 });
    const { train, eval: held } = makeSplit(gen, { seed: 0, train: 40, eval: 15 }); // 55 = all unordered pairs
    const pairs = [...train, ...held].map((s) => (s.meta as { a: string; b: string }).a + (s.meta as { b: string }).b);
    const unordered = new Set(pairs.map((p) => [...p].sort().join('')));
    expect(unordered.size).toBe(55);
  });

  it('eval stays the same when only the train size changes; exclude keeps keys out', () => {
    const gen = arithmeticTask({ digits: 3 });
    const a = makeSplit(gen, { seed: 5, train: 10, eval: 20 });
    const b = makeSplit(gen, { seed: 5, train: 500, eval: 20 });
    expect(b.eval).toEqual(a.eval);
    const banned = a.eval.map((s) => gen.key(s));
    const c = makeSplit(gen, { seed: 5, train: 100, eval: 20, exclude: banned });
    for (const s of [...c.train, ...c.eval]) expect(banned).not.toContain(gen.key(s));
  });

  it('throws when the problem space is too small', () => {
    expect(() => makeSplit(arithmeticTask({ digits: 1 }), { seed: 0, train: 50, eval: 10 })).toThrow(/60 distinct arithmetic problems asked, only 55 found/);
    expect(() => makeSplit(arithmeticTask(), { seed: 0, train: -1, eval: 1 })).toThrow(/train must be an integer/);
  });
});

describe('mixTasks and coldStartExamples', () => {
  it('mixes by weight, routes completions and prefixes keys', () => {
    const mix = mixTasks([
      { generator: arithmeticTask({ digits: 2 }), weight: 3 },
      { generator: countdownTask({ count: 3 }), weight: 1 },
      { generator: generalTask({ kinds: ['echo'] }) },
    ]);
    const rng = new TaskRng(0);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const s = mix.sample(rng);
      const family = s.task.split('/')[0];
      counts[family] = (counts[family] ?? 0) + 1;
      expect(mix.key(s).startsWith(`${family}|`)).toBe(true);
      const c = mix.completion(s);
      if (family === 'general') expect(c).toBe(s.answer);
      else expect(c.endsWith(`<answer>${s.answer}</answer>`)).toBe(true);
    }
    expect(counts.arithmetic / 2000).toBeGreaterThan(0.55);
    expect(counts.arithmetic / 2000).toBeLessThan(0.65);
    expect(counts.countdown / 2000).toBeGreaterThan(0.15);
    expect(() => mixTasks([{ generator: arithmeticTask() }, { generator: arithmeticTask() }])).toThrow(/two generators of task arithmetic/);
    expect(() => mixTasks([{ generator: arithmeticTask(), weight: 0 }])).toThrow(/parts\[0\]\.weight/);
  });

  it('cold-start examples pair prompts with their worked completions', () => {
    const ex = coldStartExamples(linearEquationTask(), { seed: 1, count: 5, verbosity: 'explained' });
    expect(ex).toHaveLength(5);
    for (const e of ex) {
      expect(e.prompt).toBe(e.sample.prompt);
      expect(e.completion).toMatch(/^<think>.+\.<\/think><answer>.+<\/answer>$/);
    }
  });
});
