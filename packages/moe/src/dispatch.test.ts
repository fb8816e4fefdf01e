import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import { groupByExpert, permuteRows } from './dispatch';

describe('groupByExpert', () => {
  it('sorts pairs by expert, stable, with counts and offsets', () => {
    const g = groupByExpert(Int32Array.from([2, 0, 2, 1, 0, 2]), 4);
    expect(Array.from(g.counts)).toEqual([2, 1, 3, 0]);
    expect(Array.from(g.offsets)).toEqual([0, 2, 3, 6, 6]);
    expect(Array.from(g.perm)).toEqual([1, 4, 3, 0, 2, 5]);
    g.perm.forEach((pair, pos) => expect(g.inverse[pair]).toBe(pos));
  });
});

describe.each(['cpu', 'wasm'] as const)('permuteRows on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('reorders rows and sends gradients back through the inverse permutation', () => {
    const perm = Int32Array.from([2, 0, 1]);
    const inverse = Int32Array.from([1, 2, 0]);
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const w = tf.tensor2d([[1, 10], [100, 1000], [1e4, 1e5]]);
    const y = permuteRows(x, perm, inverse);
    expect(Array.from(y.dataSync())).toEqual([5, 6, 1, 2, 3, 4]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(permuteRows(a as tf.Tensor2D, perm, inverse), w)))(x);
    // d/dx[i] = w[position of row i] = w[inverse[i]]
    expect(Array.from(g.dataSync())).toEqual([100, 1000, 1e4, 1e5, 1, 10]);
    tf.dispose([x, w, y, g]);
  });
});
