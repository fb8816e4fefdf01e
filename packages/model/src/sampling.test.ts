import { describe, expect, it } from 'vitest';
import { Rng } from '@r1-ts/tensor-kernels';
import { sampleToken } from './sampling';

const logits = new Float32Array([2, 1, 0, -1, 0.5]);
const softmax = (l: Float32Array, t: number) => {
  const e = [...l].map((x) => Math.exp(x / t));
  const z = e.reduce((a, b) => a + b);
  return e.map((x) => x / z);
};

describe('sampleToken', () => {
  it('is greedy at temperature 0', () => {
    expect(sampleToken(logits, { temperature: 0 }, new Rng(0)).id).toBe(0);
  });

  it('samples with the tempered distribution and reports its log-prob', () => {
    const rng = new Rng(3);
    const counts = new Array(5).fill(0);
    const n = 20000;
    const p = softmax(logits, 0.7);
    for (let i = 0; i < n; i++) {
      const s = sampleToken(logits, { temperature: 0.7 }, rng);
      counts[s.id]++;
      expect(s.logProb).toBeCloseTo(Math.log(p[s.id]), 5);
    }
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i])).toBeLessThan(0.015));
  });

  it('restricts to top-k and to the nucleus', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 500; i++) expect([0, 1]).toContain(sampleToken(logits, { topK: 2 }, rng).id);
    // p = [.49,.18,.07,.02,.11] at t=1 (rounded): top-p 0.6 keeps {0, 1}.
    for (let i = 0; i < 500; i++) expect([0, 1]).toContain(sampleToken(logits, { topP: 0.6 }, rng).id);
  });

  it('is reproducible from the seed and rejects bad options', () => {
    const a = Array.from({ length: 50 }, ((r) => () => sampleToken(logits, {}, r).id)(new Rng(9)));
    const b = Array.from({ length: 50 }, ((r) => () => sampleToken(logits, {}, r).id)(new Rng(9)));
    expect(a).toEqual(b);
    expect(() => sampleToken(logits, { topP: 0 }, new Rng(0))).toThrow(/topP must be in \(0, 1\]/);
    expect(() => sampleToken(logits, { temperature: -1 }, new Rng(0))).toThrow(/temperature must be >= 0/);
  });
});
