import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import { memoryOf } from './memory';
import { randn } from '../../test/util';

/** op(a)·op(b) in float64, row-major. */
function refMatMul(a: Float32Array, b: Float32Array, [ar, ac]: number[], [br, bc]: number[], ta: boolean, tb: boolean): Float64Array {
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const n = tb ? br : bc;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * ac + i] : a[i * ac + p]) * (tb ? b[j * bc + p] : b[p * bc + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

describe.each(['cpu', 'wasm'] as const)('kernel memory on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  describe.each([false, true])('transposing in JS: %s', (transposeInJs) => {
    it.each([[false, false], [true, false], [false, true], [true, true]])('matMul transposeA %s transposeB %s, sigmoid, no buffer left', (ta, tb) => {
      const mem = memoryOf(tf.engine().backend, backend, transposeInJs);
      const before = tf.engine().backend.numDataIds();
      const aShape = ta ? [37, 5] : [5, 37];
      const bShape = tb ? [3, 37] : [37, 3];
      const aData = randn(5 * 37, 1);
      const bData = randn(37 * 3, 2);
      const a = mem.alloc(aShape);
      const b = mem.alloc(bShape);
      mem.f32(a).set(aData);
      mem.f32(b).set(bData);
      const c = mem.matMul(a, b, ta, tb);
      expect(c.shape).toEqual([5, 3]);
      const ref = refMatMul(aData, bData, aShape, bShape, ta, tb);
      mem.f32(c).forEach((v, i) => expect(v).toBeCloseTo(ref[i], 4));
      const s = mem.sigmoid(a);
      mem.f32(s).forEach((v, i) => expect(v).toBeCloseTo(1 / (1 + Math.exp(-aData[i])), 6));
      mem.free(a, b, c, s);
      expect(tf.engine().backend.numDataIds()).toBe(before);
    });
  });
});
