import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { AdamW, clipGradNorm, GradAccumulator, lrSchedule, valueAndNamedGrads } from './optim';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

/** Plain-JS AdamW, written from Loshchilov & Hutter's algorithm, as the reference. */
function adamwReference(p0: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mh = m[i] / (1 - b1 ** t);
      const vh = v[i] / (1 - b2 ** t);
      p[i] = p[i] * (1 - lr * wd) - (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return p;
}

describe('AdamW', () => {
  it('matches a plain reference with decoupled weight decay', () => {
    const w = tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]));
    const opt = new AdamW(new Map([['layer.weight', w]]), { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
    const gs = [[0.1, -0.2, 0.3, 0.05], [-0.4, 0.1, 0.2, 0.0], [0.3, 0.3, -0.1, 0.2]];
    for (const g of gs) opt.step(new Map([['layer.weight', tf.tensor2d(g, [2, 2])]]));
    const ref = adamwReference([1, -2, 0.5, 3], gs, 0.01, 0.9, 0.95, 1e-8, 0.1);
    const got = [...w.dataSync()];
    got.forEach((x, i) => expect(x).toBeCloseTo(ref[i], 6));
  });

  it('saves and restores its state exactly, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const opt = new AdamW(new Map([['w', w]]), { lr: 0.1, weightDecay: 0 });
    opt.step(new Map([['w', tf.tensor1d([1, 0, -1])]]));
    const { tensors, step } = opt.stateTensors();
    const stored = new Map(Object.entries(tensors).map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.dataSync() as Float32Array }]));
    const w2 = tf.tidy(() => tf.variable(w.clone()));
    const opt2 = new AdamW(new Map([['w', w2]]), { lr: 0.1, weightDecay: 0 });
    opt2.loadState(stored, step);
    opt.step(new Map([['w', tf.tensor1d([0.5, 0.5, 0.5])]]));
    opt2.step(new Map([['w', tf.tensor1d([0.5, 0.5, 0.5])]]));
    expect([...w2.dataSync()]).toEqual([...w.dataSync()]);
    opt.disposeState();
    opt2.disposeState();
    w.dispose();
    w2.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('training utilities', () => {
  it('computes named gradients and clips by global norm', () => {
    const a = tf.variable(tf.tensor1d([3]));
    const b = tf.variable(tf.tensor1d([4]));
    const { loss, grads } = valueAndNamedGrads(() => tf.sum(tf.add(tf.square(a), tf.square(b))) as tf.Scalar, new Map([['a', a], ['b', b]]));
    expect(loss).toBe(25);
    expect(grads.get('a')!.dataSync()[0]).toBe(6);
    const norm = clipGradNorm(grads, 5);
    expect(norm).toBeCloseTo(10, 5);
    expect(grads.get('a')!.dataSync()[0]).toBeCloseTo(3, 4);
    expect(grads.get('b')!.dataSync()[0]).toBeCloseTo(4, 4);
  });

  it('schedules warm-up then cosine decay', () => {
    const lr = lrSchedule({ peak: 1, warmup: 4, total: 14, decay: 'cosine', minRatio: 0 });
    expect(lr(0)).toBeCloseTo(0.25);
    expect(lr(3)).toBeCloseTo(1);
    expect(lr(9)).toBeCloseTo(0.5);
    expect(lr(14)).toBeCloseTo(0);
    expect(() => lrSchedule({ peak: -1 })).toThrow(/lr peak must be > 0/);
  });

  it('averages accumulated gradients', () => {
    const acc = new GradAccumulator();
    acc.add(new Map([['w', tf.tensor1d([1, 2])]]));
    acc.add(new Map([['w', tf.tensor1d([3, 6])]]));
    expect(acc.size).toBe(2);
    expect([...acc.take().get('w')!.dataSync()]).toEqual([2, 4]);
    expect(acc.size).toBe(0);
  });
});
