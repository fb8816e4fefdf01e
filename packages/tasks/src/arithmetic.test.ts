import { describe, expect, it } from 'vitest';
import { arithmeticTask } from './arithmetic.js';
import { TaskConfigError } from './errors.js';
import { generateSamples } from './generate.js';
import { TaskRng } from './rng.js';

// Independent reference: parse the prompt and compute with plain JS numbers (exact below 2^53).
function reference(prompt: string): number {
  const m = /^(?:What is )?(\d+)([+\-*])(\d+)[?=]$/.exec(prompt);
  if (!m) throw new Error(`unexpected prompt ${prompt}`);
  const [a, b] = [Number(m[1]), Number(m[3])];
  return m[2] === '+' ? a + b : m[2] === '-' ? a - b : a * b;
}

// Every compact step must be a true equation `x op y (op z)=w` over small integers.
function falseSteps(think: string): string[] {
  return think.split(',').filter((step) => {
    const m = /^(\d+)([+\-*])(\d+)(?:([+-])(\d+))?=(\d+)$/.exec(step);
    if (!m) return true;
    const [, x, op, y, op2, z, w] = m;
    let v = op === '+' ? Number(x) + Number(y) : op === '-' ? Number(x) - Number(y) : Number(x) * Number(y);
    if (op2) v = op2 === '+' ? v + Number(z) : v - Number(z);
    return v !== Number(w);
  });
}

// Independent column-method reference for + and −, and a consistency check for ×: the steps must
// actually compute the answer, not merely be true equations.
function expectedThink(a: string, b: string, op: string): string | null {
  const da = [...a].reverse().map(Number);
  const db = [...b].reverse().map(Number);
  const steps: string[] = [];
  let c = 0;
  if (op === '+') {
    da.forEach((x, i) => {
      const y = db[i] ?? 0;
      steps.push(c ? `${x}+${y}+1=${x + y + 1}` : `${x}+${y}=${x + y}`);
      c = x + y + c >= 10 ? 1 : 0;
    });
    return steps.join(',');
  }
  if (op === '-') {
    da.forEach((x, i) => {
      const y = db[i] ?? 0;
      const borrow = x - c < y;
      const top = borrow ? x + 10 : x;
      steps.push(`${borrow ? '1' : ''}${x}-${y}${c ? '-1' : ''}=${top - y - c}`);
      c = borrow ? 1 : 0;
    });
    return steps.join(',');
  }
  return null;
}

function checkProduct(a: string, b: string, think: string, answer: string): boolean {
  const steps = think.split(',');
  const factors = steps.filter((t) => t.startsWith(`${a}*`)).map((t) => t.slice(a.length + 1).split('=')[0]);
  const rebuilt = factors.reduce((sum, f) => sum + Number(f), 0);
  const last = steps[steps.length - 1].split('=')[1];
  return rebuilt === Number(b) && factors.length === b.length && last === answer;
}

describe('arithmeticTask', () => {
  it('reproduces the issue example 347+285 exactly', () => {
    const gen = arithmeticTask({ digits: 3 });
    const sample = { id: 'x', task: 'arithmetic', prompt: 'What is 347+285?', answer: '632', difficulty: 3, meta: { a: '347', b: '285', op: '+' } };
    expect(gen.completion(sample)).toBe('<think>7+5=12,4+8+1=13,3+2+1=6</think><answer>632</answer>');
    const sub = { ...sample, prompt: 'What is 532-285?', answer: '247', meta: { a: '532', b: '285', op: '-' } };
    expect(gen.completion(sub)).toBe('<think>12-5=7,13-8-1=4,5-2-1=2</think><answer>247</answer>');
    const borrowChain = { ...sample, meta: { a: '1000', b: '1', op: '-' } };
    expect(gen.completion(borrowChain)).toBe('<think>10-1=9,10-0-1=9,10-0-1=9,1-0-1=0</think><answer>999</answer>');
  });

  it('same seed gives the same samples; another seed differs', () => {
    const gen = arithmeticTask({ digits: 4, ops: ['+', '-', '*'] });
    const a = generateSamples(gen, { seed: 11, count: 50 });
    expect(generateSamples(gen, { seed: 11, count: 50 })).toEqual(a);
    expect(generateSamples(gen, { seed: 12, count: 50 })).not.toEqual(a);
    // Pinned first draws: a change in the stream (pure-rand or this code) must be deliberate.
    expect(generateSamples(arithmeticTask({ digits: 3 }), { seed: 1, count: 2 }).map((s) => s.prompt)).toEqual([
      'What is 117+492?',
      'What is 886+977?',
    ]);
  });

  it.each([1, 2, 3, 5, 7])('digits=%i: operands have exactly that many digits', (digits) => {
    const gen = arithmeticTask({ digits, ops: ['+', '-', '*'] });
    for (const s of generateSamples(gen, { seed: digits, count: 200 })) {
      const { a, b } = s.meta as { a: string; b: string };
      expect(a.length).toBe(digits);
      expect(b.length).toBe(digits);
      expect(s.difficulty).toBe(digits);
      if (digits > 1) expect(a[0]).not.toBe('0');
    }
  });

  it.each(['+', '-', '*'] as const)('op %s: 1,000 compact and explained completions are correct by construction', (op) => {
    for (const digits of [1, 3, 7]) {
      const gen = arithmeticTask({ digits, ops: [op] });
      const rng = new TaskRng(100 + digits);
      const failures: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const s = gen.sample(rng);
        const want = String(reference(s.prompt));
        if (s.answer !== want) failures.push(`answer ${s.answer} for ${s.prompt}`);
        const m = /^<think>(.*)<\/think><answer>(.*)<\/answer>$/.exec(gen.completion(s));
        if (!m || m[2] !== want) failures.push(`completion for ${s.prompt}`);
        else {
          failures.push(...falseSteps(m[1]).map((step) => `false step ${step} in ${s.prompt}`));
          const { a, b } = s.meta as { a: string; b: string };
          const ref = expectedThink(a, b, op);
          if (ref !== null ? m[1] !== ref : !checkProduct(a, b, m[1], want)) failures.push(`steps ${m[1]} for ${s.prompt}`);
        }
        if (!gen.completion(s, { verbosity: 'explained' }).endsWith(`=${want}.</think><answer>${want}</answer>`)) failures.push(`explained for ${s.prompt}`);
      }
      expect(failures).toEqual([]);
    }
  });

  it('handles 30-digit operands exactly (BigInt)', () => {
    const gen = arithmeticTask({ digits: 30, ops: ['*'] });
    const s = gen.sample(new TaskRng(0));
    const { a, b } = s.meta as { a: string; b: string };
    expect(s.answer).toBe((BigInt(a) * BigInt(b)).toString());
    expect(gen.completion(s).endsWith(`<answer>${s.answer}</answer>`)).toBe(true);
  });

  it('3-digit addition is short for a tiny model (≤ 32 tokens with tags as one token)', () => {
    const gen = arithmeticTask({ digits: 3, promptStyle: 'bare' });
    for (const s of generateSamples(gen, { seed: 3, count: 200 })) {
      const tokens = gen.completion(s).replace(/<\/?(think|answer)>/g, '#').length;
      expect(tokens).toBeLessThanOrEqual(32);
      expect(s.prompt).toMatch(/^\d{3}\+\d{3}=$/);
    }
  });

  it('subtraction never goes negative; keys treat + and * as commutative', () => {
    const gen = arithmeticTask({ digits: 2, ops: ['-'] });
    for (const s of generateSamples(gen, { seed: 4, count: 300 })) expect(Number(s.answer)).toBeGreaterThanOrEqual(0);
    const add = arithmeticTask({ digits: 2 });
    const base = { id: '', task: 'arithmetic', prompt: '', answer: '', difficulty: 2 };
    expect(add.key({ ...base, meta: { a: '12', b: '34', op: '+' } })).toBe(add.key({ ...base, meta: { a: '34', b: '12', op: '+' } }));
    expect(add.key({ ...base, meta: { a: '34', b: '12', op: '-' } })).not.toBe(add.key({ ...base, meta: { a: '12', b: '34', op: '+' } }));
  });

  it('rejects bad options and foreign samples with TaskConfigError naming the field', () => {
    expect(() => arithmeticTask({ digits: 0 })).toThrow(/digits must be an integer in \[1, 30\], got 0/);
    expect(() => arithmeticTask({ digits: 2.5 })).toThrow(TaskConfigError);
    expect(() => arithmeticTask({ ops: [] })).toThrow(/ops/);
    expect(() => arithmeticTask({ ops: ['/' as never] })).toThrow(/ops/);
    expect(() => arithmeticTask({ promptStyle: 'long' as never })).toThrow(/promptStyle/);
    expect(() => arithmeticTask().completion({ id: 'q', task: 'x', prompt: '', answer: '', difficulty: 0 })).toThrow(/meta/);
  });
});
