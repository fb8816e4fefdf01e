import { describe, expect, it } from 'vitest';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { groupRelativeAdvantages } from './advantages';

// Plain float64 reference, written independently: two-pass mean/var over the valid entries.
function reference(r: (number | null)[], G: number, scale: 'group' | 'batch' | 'none'): number[] {
  const stats = (xs: number[]) => {
    let s = 0;
    for (const x of xs) s += x;
    const m = s / xs.length;
    let v = 0;
    for (const x of xs) v += (x - m) ** 2;
    return { m, sd: xs.length > 1 ? Math.sqrt(v / (xs.length - 1)) : 0 };
  };
  const all = r.filter((x): x is number => x !== null);
  const batchSd = stats(all).sd;
  const out: number[] = [];
  for (let g = 0; g < r.length / G; g++) {
    const grp = r.slice(g * G, (g + 1) * G);
    const vals = grp.filter((x): x is number => x !== null);
    const { m, sd } = stats(vals);
    const flat = vals.length === 0 || Math.max(...vals) === Math.min(...vals);
    for (const x of grp) {
      if (x === null || flat) out.push(0);
      else out.push((x - m) / (scale === 'group' ? sd + 1e-4 : scale === 'batch' ? batchSd + 1e-4 : 1));
    }
  }
  return out;
}

describe('groupRelativeAdvantages', () => {
  const rewards = [0.3, 1.2, -0.5, 0.9, 0.7, 0.7, 0.7, 0.7, 2, null, -1, 0.25, null, null, 1, 1];
  it.each(['group', 'batch', 'none'] as const)('matches a float64 reference (%s)', (scale) => {
    const got = groupRelativeAdvantages(rewards, 4, { scaleRewards: scale });
    const want = reference(rewards, 4, scale);
    got.forEach((a, i) => expect(a).toBeCloseTo(want[i], 12));
  });

  it('gives 0 to all-equal groups and to null rewards', () => {
    const got = groupRelativeAdvantages([0.1, 0.1, 0.1, null, 1, 0], 3);
    expect(got.slice(0, 3)).toEqual([0, 0, 0]);
    expect(got[3]).toBe(0);
    expect(got[4]).toBeCloseTo(0.5 / (Math.SQRT1_2 + 1e-4), 12);
  });

  it('is zero-mean per group and unit-std (up to ε) with group scaling', () => {
    const r = [3, 1, 4, 1, 5, 9, 2, 6];
    const a = groupRelativeAdvantages(r, 8);
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(0, 12);
    const sd = Math.sqrt(a.reduce((x, y) => x + y * y, 0) / 7);
    expect(sd).toBeCloseTo(1, 3);
  });

  it('rejects a length that is not a multiple of the group size, and non-finite rewards', () => {
    expect(() => groupRelativeAdvantages([1, 2, 3], 2)).toThrow(ConfigError);
    expect(() => groupRelativeAdvantages([1, NaN], 2)).toThrow(/rewards\[1\]/);
    expect(() => groupRelativeAdvantages([1, 2], 0)).toThrow(/groupSize/);
  });
});
