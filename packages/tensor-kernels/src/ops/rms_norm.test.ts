import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { ConfigError } from '../errors';
import { Rng } from '../rng';
import { layerNorm, layerNormComposite } from './layer_norm';
import { rmsNorm, rmsNormComposite } from './rms_norm';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

/** Float64 RMSNorm over rows of width D. */
function refRmsNorm([x, w]: Float64Array[], eps: number): Float64Array {
  const D = w.length;
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += D) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += x[o + j] ** 2;
    for (let j = 0; j < D; j++) y[o + j] = (w[j] * x[o + j]) / Math.sqrt(ss / D + eps);
  }
  return y;
}

/** Float64 LayerNorm with population variance. */
function refLayerNorm([x, w, b]: Float64Array[], eps: number): Float64Array {
  const D = w.length;
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += D) {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += x[o + j] / D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[o + j] - mu) ** 2 / D;
    for (let j = 0; j < D; j++) y[o + j] = (w[j] * (x[o + j] - mu)) / Math.sqrt(v + eps) + b[j];
  }
  return y;
}

describe.each(BACKENDS)('norms on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  it.each([
    ['fused', rmsNorm],
    ['composite fallback', rmsNormComposite],
  ] as const)('rmsNorm (%s) matches a float64 reference, forward and gradients', (_, op) => {
    const rng = new Rng(11);
    for (const [shape, eps, scale] of [[[2, 3, 8], 1e-6, 1], [[5], 1e-5, 30], [[4, 1], 1e-6, 0.01]] as const) {
      const D = shape[shape.length - 1];
      const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
      const x = randn(rng, n, scale);
      const w = randn(rng, D);
      const dy = randn(rng, n);
      const { y, grads } = tf.tidy(() => vjp((a, b) => op(a, b, eps), [f32(x, [...shape]), f32(w, [D])], f32(dy, [...shape])));
      expect(relErr(y, refRmsNorm([Float64Array.from(x), Float64Array.from(w)], eps))).toBeLessThan(1e-6);
      const ref = numericGrads((a) => refRmsNorm(a, eps), [x, w], dy);
      expect(relErr(grads[0], ref[0])).toBeLessThan(1e-5);
      expect(relErr(grads[1], ref[1])).toBeLessThan(1e-5);
    }
  });

  it.each([
    ['fused', layerNorm],
    ['composite fallback', layerNormComposite],
  ] as const)('layerNorm (%s) matches a float64 reference, forward and gradients', (_, op) => {
    const rng = new Rng(12);
    for (const [shape, eps, offset] of [[[2, 3, 8], 1e-6, 0], [[3, 6], 1e-5, 5]] as const) {
      const D = shape[shape.length - 1];
      const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
      const x = randn(rng, n).map((v) => v + offset);
      const w = randn(rng, D);
      const b = randn(rng, D);
      const dy = randn(rng, n);
      const args = [f32(x, [...shape]), f32(w, [D]), f32(b, [D])];
      const { y, grads } = tf.tidy(() => vjp((a, ww, bb) => op(a, ww, bb, eps), args, f32(dy, [...shape])));
      args.forEach((t) => t.dispose());
      const inputs = [x, w, b].map((a) => Float64Array.from(a));
      expect(relErr(y, refLayerNorm(inputs, eps))).toBeLessThan(1e-6);
      const ref = numericGrads((a) => refLayerNorm(a, eps), inputs, dy);
      for (let i = 0; i < 3; i++) expect(relErr(grads[i], ref[i])).toBeLessThan(2e-5);
    }
  });

  it('rejects bad inputs with a ConfigError naming the argument', () => {
    tf.tidy(() => {
      expect(() => rmsNorm(tf.ones([2, 4]), tf.ones([3]))).toThrow(/weight must have shape \[4\].*got \[3\]/);
      expect(() => rmsNorm(tf.ones([2, 4], 'int32'), tf.ones([4]))).toThrow(ConfigError);
      expect(() => rmsNorm(tf.ones([2, 4]), tf.ones([4]), -1)).toThrow(/eps/);
      expect(() => layerNorm(tf.ones([2, 4]), tf.ones([4]), tf.ones([5]))).toThrow(/bias/);
    });
  });
});
