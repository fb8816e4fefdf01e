import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { Rng } from '../rng';
import { maskedCrossEntropy, tokenLogProbs, tokenLogProbsComposite } from './cross_entropy';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

/** Float64 log softmax(logits)[target] per row; a target outside [0, V) gives 0. */
function refLogProbs([logits]: Float64Array[], targets: Int32Array, V: number): Float64Array {
  return Float64Array.from(targets, (t, n) => {
    if (t < 0 || t >= V) return 0;
    const row = logits.subarray(n * V, (n + 1) * V);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    return row[t] - m - Math.log(s);
  });
}

describe.each(BACKENDS)('tokenLogProbs and maskedCrossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  it.each([
    ['fused', tokenLogProbs],
    ['composite fallback', tokenLogProbsComposite],
  ] as const)('tokenLogProbs (%s) matches a float64 reference with logits near ±100 and −1 targets', (_, op) => {
    const rng = new Rng(41);
    const [B, S, V] = [2, 3, 11];
    for (const scale of [1, 40]) {
      const logits = randn(rng, B * S * V, scale);
      logits[3] = 100;
      logits[V + 2] = -100;
      const targets = Int32Array.from({ length: B * S }, () => rng.int(0, V - 1));
      targets[4] = -1; // padding: 0 and no gradient
      const dy = randn(rng, B * S);
      const tt = tf.tensor(targets, [B, S], 'int32');
      const { y, grads } = vjp((l) => op(l, tt), [f32(logits, [B, S, V])], f32(dy, [B, S]));
      tt.dispose();
      const ref = (a: Float64Array[]) => refLogProbs(a, targets, V);
      const input = [Float64Array.from(logits)];
      expect(relErr(y, ref(input))).toBeLessThan(1e-6);
      expect(y[4]).toBe(0);
      expect(relErr(grads[0], numericGrads(ref, input, dy)[0])).toBeLessThan(1e-5);
      expect(Array.from(grads[0].subarray(4 * V, 5 * V))).toEqual(new Array(V).fill(0));
    }
  });

  it('maskedCrossEntropy = −Σ m·logp / Σ m, with its gradient', () => {
    const rng = new Rng(42);
    const [N, V] = [6, 7];
    const logits = randn(rng, N * V, 3);
    const targets = Int32Array.from({ length: N }, () => rng.int(0, V - 1));
    const mask = Float32Array.from([1, 0, 1, 1, 0, 1]);
    const ref = ([l]: Float64Array[]) => {
      const lp = refLogProbs([l], targets, V);
      let s = 0;
      for (let n = 0; n < N; n++) s -= mask[n] * lp[n];
      return [s / 4];
    };
    const tt = tf.tensor(targets, [2, 3], 'int32');
    const mt = f32(mask, [2, 3]);
    const { y, grads } = vjp((l) => maskedCrossEntropy(l, tt, mt), [f32(logits, [2, 3, V])], tf.scalar(1));
    const input = [Float64Array.from(logits)];
    expect(relErr(y, ref(input))).toBeLessThan(1e-6);
    expect(relErr(grads[0], numericGrads(ref, input, [1])[0])).toBeLessThan(1e-5);
    tf.dispose([tt, mt]);
  });

  it('rejects float targets and mismatched shapes', () => {
    tf.tidy(() => {
      expect(() => tokenLogProbs(tf.zeros([2, 3]), tf.zeros([2]))).toThrow(/targets must be int32, got float32/);
      expect(() => tokenLogProbs(tf.zeros([2, 3]), tf.zeros([3], 'int32'))).toThrow(/one entry per row/);
      expect(() => maskedCrossEntropy(tf.zeros([2, 3]), tf.zeros([2], 'int32'), tf.ones([3]))).toThrow(/mask/);
    });
  });
});
