import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { Rng } from '../rng';
import { siluMul, siluMulComposite, swiglu } from './swiglu';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

const refSiluMul = ([g, u]: Float64Array[]) => g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]);

/** Float64 SwiGLU: x [N, D], gate/up [I, D], down [D, I]. */
function refSwiglu([x, wg, wu, wd]: Float64Array[], N: number, D: number, I: number): Float64Array {
  const y = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    const h = new Float64Array(I);
    for (let i = 0; i < I; i++) {
      let g = 0;
      let u = 0;
      for (let j = 0; j < D; j++) {
        g += x[n * D + j] * wg[i * D + j];
        u += x[n * D + j] * wu[i * D + j];
      }
      h[i] = (g / (1 + Math.exp(-g))) * u;
    }
    for (let j = 0; j < D; j++) for (let i = 0; i < I; i++) y[n * D + j] += h[i] * wd[j * I + i];
  }
  return y;
}

describe.each(BACKENDS)('siluMul and swiglu on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  it.each([
    ['fused', siluMul],
    ['composite fallback', siluMulComposite],
  ] as const)('siluMul (%s) matches a float64 reference, including |gate| up to 30', (_, op) => {
    const rng = new Rng(31);
    const n = 3 * 7;
    const gate = randn(rng, n, 8);
    gate[0] = 30;
    gate[1] = -30;
    const up = randn(rng, n);
    const dy = randn(rng, n);
    const { y, grads } = vjp(op, [f32(gate, [3, 7]), f32(up, [3, 7])], f32(dy, [3, 7]));
    const inputs = [gate, up].map((a) => Float64Array.from(a));
    expect(relErr(y, refSiluMul(inputs))).toBeLessThan(1e-6);
    const g = numericGrads(refSiluMul, inputs, dy);
    expect(relErr(grads[0], g[0])).toBeLessThan(1e-5);
    expect(relErr(grads[1], g[1])).toBeLessThan(1e-5);
  });

  it('siluMul broadcasts (composite path) when shapes differ', () => {
    const y = tf.tidy(() => siluMul(f32([1, -2, 3, 0.5, 0, 2], [2, 3]), f32([2, 3, 4], [3])).dataSync());
    const ref = refSiluMul([Float64Array.from([1, -2, 3, 0.5, 0, 2]), Float64Array.from([2, 3, 4, 2, 3, 4])]);
    expect(relErr(y, ref)).toBeLessThan(1e-6);
  });

  it('swiglu matches a float64 reference, forward and every gradient', () => {
    const rng = new Rng(32);
    const [N, D, I] = [4, 6, 10];
    const arrays = [randn(rng, N * D), randn(rng, I * D, 0.5), randn(rng, I * D, 0.5), randn(rng, D * I, 0.5)];
    const shapes = [[2, 2, D], [I, D], [I, D], [D, I]];
    const dy = randn(rng, N * D);
    const args = arrays.map((a, i) => f32(a, shapes[i]));
    const { y, grads } = vjp(swiglu, args, f32(dy, [2, 2, D]));
    args.forEach((t) => t.dispose());
    const inputs = arrays.map((a) => Float64Array.from(a));
    const ref = (a: Float64Array[]) => refSwiglu(a, N, D, I);
    expect(relErr(y, ref(inputs))).toBeLessThan(1e-6);
    const g = numericGrads(ref, inputs, dy);
    for (let i = 0; i < 4; i++) expect(relErr(grads[i], g[i]), `grad ${i}`).toBeLessThan(1e-5);
  });
});
