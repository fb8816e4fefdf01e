import { describe, expect, it } from 'vitest';
import { generateSamples } from './generate.js';
import { linearEquationTask } from './linear.js';
import { TaskRng } from './rng.js';

// Independent reference: parse `ax+b=cx+d` from the prompt text and solve with plain arithmetic.
function parseEquation(prompt: string): { a: number; b: number; c: number; d: number } {
  const m = /^Solve for x: (-?\d*)x([+-]\d+)=(?:(-?\d*)x)?([+-]?\d+)$/.exec(prompt);
  if (!m) throw new Error(`unexpected prompt ${prompt}`);
  const coef = (s: string | undefined): number => (s === undefined ? 0 : s === '' ? 1 : s === '-' ? -1 : Number(s));
  return { a: coef(m[1]), b: Number(m[2]), c: coef(m[3]), d: Number(m[4]) };
}

function solve(prompt: string): { num: number; den: number } {
  const { a, b, c, d } = parseEquation(prompt);
  let num = d - b;
  let den = a - c;
  const g = (x: number, y: number): number => (y === 0 ? Math.abs(x) : g(y, x % y));
  const k = g(num, den) || 1;
  num /= k;
  den /= k;
  return den < 0 ? { num: -num, den: -den } : { num, den };
}

const show = ({ num, den }: { num: number; den: number }): string => (den === 1 ? `${num}` : `${num}/${den}`);

describe('linearEquationTask', () => {
  it.each([1, 2, 3, 4, 5])('difficulty %i: 1,000 answers are exact and the completions end in them', (difficulty) => {
    const gen = linearEquationTask({ difficulty });
    const rng = new TaskRng(difficulty);
    for (let i = 0; i < 1000; i++) {
      const s = gen.sample(rng);
      const want = show(solve(s.prompt));
      expect(s.answer).toBe(want);
      // x = answer satisfies the equation (exact rational check)
      const { a, b, c, d } = parseEquation(s.prompt);
      const { num, den } = solve(s.prompt);
      expect(a * num + b * den).toBe(c * num + d * den);
      // In the compact steps, consecutive numeric sides of each chain are equal (`20-5=15`, `15/3=5`).
      const think = /^<think>(.*)<\/think>/.exec(gen.completion(s))![1];
      for (const chain of think.split(',')) {
        const numeric = chain.split('=').filter((side) => !side.includes('x'));
        const values = numeric.map((side) => new Function(`return ${side}`)() as number); // test-only: our own strings
        for (let j = 1; j < values.length; j++) expect(values[j], chain).toBeCloseTo(values[j - 1], 12);
      }
      for (const verbosity of ['compact', 'explained'] as const) {
        const m = /^<think>(.*)<\/think><answer>(.*)<\/answer>$/.exec(gen.completion(s, { verbosity }))!;
        expect(m[2]).toBe(want);
        expect(m[1].endsWith(`=${want}`) || m[1].endsWith(`=${want}.`)).toBe(true);
      }
    }
  });

  it('writes the compact steps of the issue format', () => {
    const gen = linearEquationTask();
    const base = { id: '', task: 'linear', prompt: '', answer: '', difficulty: 2 };
    expect(gen.completion({ ...base, meta: { a: 3, b: 5, c: 0, d: 20 } })).toBe('<think>3x=20-5=15,x=15/3=5</think><answer>5</answer>');
    expect(gen.completion({ ...base, meta: { a: -4, b: -22, c: 0, d: 7 } })).toBe('<think>-4x=7+22=29,x=29/(-4)=-29/4</think><answer>-29/4</answer>');
    expect(gen.completion({ ...base, meta: { a: 3, b: 2, c: 5, d: 9 } })).toBe('<think>3x-5x=9-2,-2x=7,x=7/(-2)=-7/2</think><answer>-7/2</answer>');
    expect(gen.completion({ ...base, meta: { a: 3, b: 1, c: 2, d: 5 } })).toBe('<think>3x-2x=5-1,x=4</think><answer>4</answer>');
  });

  it('the difficulty knob changes the problems', () => {
    const draw = (difficulty: number) => generateSamples(linearEquationTask({ difficulty }), { seed: 9, count: 300 });
    for (const s of draw(1)) {
      expect(s.answer).toMatch(/^\d+$/);
      expect(s.prompt).toMatch(/^Solve for x: \d+x\+\d+=\d+$/);
    }
    for (const s of draw(2)) expect(s.answer).toMatch(/^-?\d+$/);
    expect(draw(2).some((s) => s.answer.startsWith('-'))).toBe(true);
    expect(draw(3).some((s) => s.answer.includes('/'))).toBe(true);
    for (const s of draw(4)) expect(s.prompt).toMatch(/=.*x/);
  });

  it('is deterministic per seed and rejects a bad difficulty', () => {
    const gen = linearEquationTask({ difficulty: 3 });
    expect(generateSamples(gen, { seed: 5, count: 20 })).toEqual(generateSamples(gen, { seed: 5, count: 20 }));
    expect(() => linearEquationTask({ difficulty: 6 })).toThrow(/difficulty must be an integer in \[1, 5\], got 6/);
  });
});
