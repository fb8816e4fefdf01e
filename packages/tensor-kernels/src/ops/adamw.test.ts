import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { Rng } from '../rng';
import { adamwUpdate, scaleAll, sumOfSquares } from './adamw';
import { BACKENDS, randn, relErr } from './test_helpers';

describe.each(BACKENDS)('multi-tensor optimizer ops on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  const rng = new Rng(5);
  const shapes = [[3, 4], [5]];
  const arrays = () => shapes.map((s) => randn(rng, s.reduce((a, b) => a * b, 1)));

  it('adamwUpdate matches a float64 AdamW step for every parameter', () => {
    const [p, g, m] = [arrays(), arrays(), arrays()];
    const v = arrays().map((a) => a.map((x) => x * x));
    const h = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, step: 3, decays: [0.1, 0] };
    const T = (a: Float32Array[]) => a.map((x, i) => tf.tensor(x, shapes[i]));
    const out = adamwUpdate(T(p), T(g), T(m), T(v), h);
    const c1 = 1 - 0.9 ** 3;
    const c2 = 1 - 0.95 ** 3;
    out.forEach((r, i) => {
      const m2 = m[i].map((x, e) => 0.9 * x + 0.1 * g[i][e]);
      const v2 = v[i].map((x, e) => 0.95 * x + 0.05 * g[i][e] ** 2);
      const p2 = Array.from(p[i], (x, e) => x * (1 - 0.01 * h.decays[i]) - (0.01 * (m2[e] / c1)) / (Math.sqrt(v2[e] / c2) + 1e-8));
      expect(relErr(r.m.dataSync(), Array.from(m2))).toBeLessThan(1e-6);
      expect(relErr(r.v.dataSync(), Array.from(v2))).toBeLessThan(1e-6);
      expect(relErr(r.p.dataSync(), p2)).toBeLessThan(1e-6);
    });
    tf.dispose(out.flatMap((r) => [r.p, r.m, r.v]));
  });

  it('sumOfSquares and scaleAll cover every tensor', () => {
    const a = arrays();
    const ts = a.map((x, i) => tf.tensor(x, shapes[i]));
    let ref = 0;
    a.forEach((x) => x.forEach((y) => (ref += y * y)));
    const s = sumOfSquares(ts);
    expect(Math.abs(s.dataSync()[0] - ref) / ref).toBeLessThan(1e-6);
    const scaled = scaleAll(ts, -0.5);
    scaled.forEach((t, i) => expect(relErr(t.dataSync(), Array.from(a[i], (x) => -0.5 * x))).toBeLessThan(1e-7));
    tf.dispose([...ts, s, ...scaled]);
  });

  it('rejects mismatched lists with a ConfigError naming the field', () => {
    const a = tf.ones([2]);
    const h = { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, step: 1, decays: [0] };
    expect(() => adamwUpdate([a], [], [a], [a], h)).toThrow(/grads must have one tensor per parameter/);
    expect(() => adamwUpdate([a], [tf.ones([3])], [a], [a], h)).toThrow(/grads\[0\]/);
    expect(() => adamwUpdate([a], [a], [a], [a], { ...h, step: 0 })).toThrow(/step/);
    a.dispose();
  });
});
