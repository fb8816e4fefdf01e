import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { effectiveLinearWeight, linear, linearLowRankOf, setLinearAdapter, withoutLinearAdapters } from './linear';

// Plain float64 reference: y[n][o] = Σ_i x[n][i]·w[o][i] + b[o].
function reference(x: number[][], w: number[][], b: number[]): number[][] {
  return x.map((row) => w.map((wo, o) => wo.reduce((s, wi, i) => s + wi * row[i], b[o])));
}

describe('linear', () => {
  const x = [[1, 2, 3], [-1, 0.5, 2]];
  const w = [[0.1, 0.2, 0.3], [1, -1, 0.5]];
  const b = [0.25, -2];

  it('computes x·Wᵀ + b over the last axis', () => {
    const y = linear(tf.tensor3d([x]), tf.tensor2d(w), tf.tensor1d(b));
    expect(y.shape).toEqual([1, 2, 2]);
    const want = reference(x, w, b).flat();
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });

  it('adds an attached adapter, and not when adapters are switched off or detached', () => {
    const wv = tf.variable(tf.tensor2d(w));
    setLinearAdapter(wv, (x2) => tf.mul(x2.sum(1, true), tf.ones([1, 2])) as tf.Tensor2D);
    const base = reference(x, w, [0, 0]).flat();
    const rowSums = x.map((r) => r.reduce((a, c) => a + c, 0));
    const adapted = linear(tf.tensor2d(x), wv).dataSync();
    adapted.forEach((v, i) => expect(v).toBeCloseTo(base[i] + rowSums[Math.floor(i / 2)], 5));
    const off = withoutLinearAdapters(() => linear(tf.tensor2d(x), wv)).dataSync();
    off.forEach((v, i) => expect(v).toBeCloseTo(base[i], 5));
    setLinearAdapter(wv, null);
    linear(tf.tensor2d(x), wv).dataSync().forEach((v, i) => expect(v).toBeCloseTo(base[i], 5));
  });

  it('effectiveLinearWeight is W + ΔW of the attached adapter (from the identity, or its low-rank factors)', () => {
    const wv = tf.variable(tf.tensor2d(w));
    expect(effectiveLinearWeight(wv)).toBe(wv);
    // Row sums broadcast to both outputs: ΔW is all ones [2, 3].
    setLinearAdapter(wv, (x2) => tf.mul(x2.sum(1, true), tf.ones([1, 2])) as tf.Tensor2D);
    const ones = w.map((r) => r.map((v) => v + 1)).flat();
    Array.from(effectiveLinearWeight(wv).dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ones[i], 6));
    expect(withoutLinearAdapters(() => effectiveLinearWeight(wv))).toBe(wv);
    // ΔW = 0.5·B·A with B [2, 1] = [1, 2]ᵀ, A [1, 3] = [1, 0, −1]: [[0.5, 0, −0.5], [1, 0, −1]].
    const a = tf.tensor2d([[1, 0, -1]]);
    const b = tf.tensor2d([[1], [2]]);
    const lowRank = Object.assign((x2: tf.Tensor2D) => tf.mul(tf.matMul(tf.matMul(x2, a, false, true), b, false, true), 0.5) as tf.Tensor2D, { lowRank: () => ({ a, b, scale: 0.5 }) });
    setLinearAdapter(wv, lowRank);
    expect(linearLowRankOf(wv)?.scale).toBe(0.5);
    const want = [[0.5, 0, -0.5], [1, 0, -1]].flatMap((r, o) => r.map((d, i) => w[o][i] + d));
    Array.from(effectiveLinearWeight(wv).dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    expect(withoutLinearAdapters(() => linearLowRankOf(wv))).toBeUndefined();
    tf.dispose([a, b]);
    setLinearAdapter(wv, null);
    wv.dispose();
  });

  it('names the argument on a shape mismatch', () => {
    expect(() => linear(tf.ones([2, 4]), tf.ones([3, 5]))).toThrow(/x/);
    expect(() => linear(tf.ones([2, 5]), tf.ones([3, 5]), tf.ones([2]))).toThrow(/bias/);
  });
});
