import { describe, expect, it } from 'vitest';
import { countdownTask } from './countdown.js';
import { verifyCountdown } from './countdown-verify.js';
import { generateSamples } from './generate.js';
import { TaskRng } from './rng.js';

describe('verifyCountdown', () => {
  const numbers = [25, 4, 3, 3];
  it.each([
    ['25*4-3', 97, true, undefined],
    ['(25-3)*4', 88, true, undefined],
    ['25 × 4 − 3'.replace('−', '-'), 97, true, undefined],
    ['3*3+25', 34, true, undefined],
    ['25*4-3 = 97', 97, true, undefined],
    ['25+4', 29, true, undefined],
    ['25*4-3', 96, false, /value 97 is not the target 96/],
    ['25*4-3=96', 97, false, /claims 96/],
    ['25*4-25', 75, false, /number 25 used 2 times, given 1/],
    ['3*3*3', 27, false, /number 3 used 3 times, given 2/],
    ['25*7', 175, false, /number 7 used 1 time, given 0/],
    ['25/(3-3)', 1, false, /division by zero/],
    ['25/4', 6, false, /non-integer intermediate 25\/4=25\/4/],
    ['(25/3)*3', 25, false, /non-integer intermediate 25\/3/],
    ['-3+25', 22, false, /cannot parse/],
    ['25**4', 100, false, /cannot parse/],
    ['25*(4-3', 25, false, /cannot parse: expected '\)'/],
    ['25 4', 29, false, /cannot parse: unexpected '4'/],
    ['2.5*4', 10, false, /cannot parse/],
    ['process.exit(1)', 0, false, /cannot parse/],
    ['', 0, false, /empty/],
    ['(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((3)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))', 3, false, /nested deeper/],
  ])('%s → target %i: valid=%s', (expr, target, valid, reason) => {
    const v = verifyCountdown(expr, numbers, target);
    expect(v.valid).toBe(valid);
    if (reason) expect(v.reason).toMatch(reason);
  });

  it('allows non-integer intermediates on request, requires all numbers on request, limits length', () => {
    expect(verifyCountdown('(25/4)*4', [25, 4, 4], 25, { integerIntermediates: false })).toEqual({ valid: true, value: '25' });
    expect(verifyCountdown('25+4', [25, 4, 3], 29, { useAll: true }).reason).toMatch(/number 3 not used/);
    expect(verifyCountdown('1+'.repeat(600) + '1', [1], 601).reason).toMatch(/longer than 1000/);
    expect(verifyCountdown(42 as unknown as string, [1], 1).valid).toBe(false);
  });
});

describe('countdownTask', () => {
  it.each([2, 3, 4, 5, 6])('count=%i: 1,000 targets reachable, answers verified, steps valid', (count) => {
    const gen = countdownTask({ count });
    const rng = new TaskRng(count);
    const failures: string[] = [];
    const check = (ok: boolean, what: string): void => {
      if (!ok) failures.push(what);
    };
    for (let i = 0; i < 1000; i++) {
      const s = gen.sample(rng);
      const m = /^Make (\d+) from ([\d,]+)\.$/.exec(s.prompt)!;
      const target = Number(m[1]);
      const numbers = m[2].split(',').map(Number);
      check(numbers.length === count && target >= 1 && target <= 999, `sizes: ${s.prompt}`);
      check(verifyCountdown(s.answer, numbers, target, { useAll: true }).valid, `verify: ${s.prompt} ${s.answer}`);
      // Each step `x op y=z` is true and uses available values (given numbers or earlier results) once.
      const done = /^<think>(.*)<\/think><answer>(.*)<\/answer>$/.exec(gen.completion(s))!;
      check(done[2] === s.answer, `answer: ${s.prompt}`);
      const pool = [...numbers];
      const steps = done[1].split(',');
      check(steps.length === count - 1, `step count: ${done[1]}`);
      for (const step of steps) {
        const [, xs, op, ys, zs] = /^(\d+)([+\-*/])(\d+)=(\d+)$/.exec(step) ?? [];
        const [x, y, z] = [Number(xs), Number(ys), Number(zs)];
        const value = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
        check(value === z && Number.isInteger(z) && z > 0, `false or non-positive step ${step} in ${s.prompt}`);
        for (const used of [x, y]) {
          const at = pool.indexOf(used);
          check(at >= 0, `${step} uses an unavailable ${used} in ${s.prompt}`);
          if (at >= 0) pool.splice(at, 1);
        }
        pool.push(z);
      }
      check(pool.length === 1 && pool[0] === target, `steps end at ${pool} in ${s.prompt}`);
      check(gen.completion(s, { verbosity: 'explained' }).includes(`That makes ${target}.`), `explained: ${s.prompt}`);
    }
    expect(failures).toEqual([]);
  });

  it('is deterministic, keys ignore number order, and options are checked', () => {
    const gen = countdownTask({ count: 4, maxNumber: 10, maxTarget: 100 });
    const a = generateSamples(gen, { seed: 1, count: 30 });
    expect(generateSamples(gen, { seed: 1, count: 30 })).toEqual(a);
    for (const s of a) expect((s.meta as { target: number }).target).toBeLessThanOrEqual(100);
    const base = { id: '', task: 'countdown', prompt: '', answer: '', difficulty: 2 };
    expect(gen.key({ ...base, meta: { numbers: [3, 1], target: 4 } })).toBe(gen.key({ ...base, meta: { numbers: [1, 3], target: 4 } }));
    expect(() => countdownTask({ count: 7 })).toThrow(/count must be an integer in \[2, 6\], got 7/);
  });
});
