import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { linear, setLinearAdapter, withoutLinearAdapters } from './linear';

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

  it('names the argument on a shape mismatch', () => {
    expect(() => linear(tf.ones([2, 4]), tf.ones([3, 5]))).toThrow(/x/);
    expect(() => linear(tf.ones([2, 5]), tf.ones([3, 5]), tf.ones([2]))).toThrow(/bias/);
  });
});
