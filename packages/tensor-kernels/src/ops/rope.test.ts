import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { Rng } from '../rng';
import { applyRope, applyRopeComposite } from './rope';
import type { RopeLayout } from './rope';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

/** Float64 RoPE (golden/README §4.2) over x [B, S, H, d] (H = 1 for rank 3). */
function refRope([x, cos, sin]: Float64Array[], B: number, S: number, H: number, d: number, perRow: boolean, layout: RopeLayout): Float64Array {
  const y = new Float64Array(x.length);
  const h = d / 2;
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      for (let hh = 0; hh < H; hh++) {
        const o = ((b * S + s) * H + hh) * d;
        for (let i = 0; i < h; i++) {
          const t = (perRow ? b * S + s : s) * h + i;
          const [ia, ib] = layout === 'interleaved' ? [o + 2 * i, o + 2 * i + 1] : [o + i, o + i + h];
          y[ia] = x[ia] * cos[t] - x[ib] * sin[t];
          y[ib] = x[ia] * sin[t] + x[ib] * cos[t];
        }
      }
    }
  }
  return y;
}

describe.each(BACKENDS)('applyRope on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  const cases: [RopeLayout, number, boolean][] = [];
  for (const layout of ['interleaved', 'half'] as const) for (const rank of [3, 4]) for (const perRow of [false, true]) cases.push([layout, rank, perRow]);

  it.each([
    ['fused', applyRope],
    ['composite fallback', applyRopeComposite],
  ] as const)('%s matches a float64 reference for both layouts, rank 3/4, shared/per-row tables, with gradients', (_, op) => {
    const rng = new Rng(21);
    const [B, S, H, d] = [2, 3, 2, 6];
    for (const [layout, rank, perRow] of cases) {
      const xShape = rank === 4 ? [B, S, H, d] : [B, S, d];
      const tShape = perRow ? [B, S, d / 2] : [S, d / 2];
      const n = B * S * (rank === 4 ? H : 1) * d;
      const nt = tShape.reduce((a, b) => a * b, 1);
      const angles = Array.from({ length: nt }, () => rng.uniform() * 20 - 10);
      const x = randn(rng, n);
      const cos = Float32Array.from(angles, Math.cos);
      const sin = Float32Array.from(angles, Math.sin);
      const dy = randn(rng, n);
      const args = [f32(x, xShape), f32(cos, tShape), f32(sin, tShape)];
      const { y, grads } = vjp((a, c, s) => op(a, c, s, layout), args, f32(dy, xShape));
      args.forEach((t) => t.dispose());
      const ref = (a: Float64Array[]) => refRope(a, B, S, rank === 4 ? H : 1, d, perRow, layout);
      const inputs = [x, cos, sin].map((a) => Float64Array.from(a));
      const label = `${layout} rank ${rank} ${perRow ? 'per-row' : 'shared'}`;
      expect(relErr(y, ref(inputs)), label).toBeLessThan(1e-6);
      const g = numericGrads(ref, inputs, dy);
      for (let i = 0; i < 3; i++) expect(relErr(grads[i], g[i]), `${label} grad ${i}`).toBeLessThan(1e-5);
    }
  });

  it('rejects mismatched tables and odd widths', () => {
    tf.tidy(() => {
      expect(() => applyRope(tf.ones([1, 2, 4]), tf.ones([3, 2]), tf.ones([3, 2]), 'half')).toThrow(/cos must have shape \[2,2\]/);
      expect(() => applyRope(tf.ones([1, 2, 5]), tf.ones([2, 2]), tf.ones([2, 2]), 'half')).toThrow(/even/);
      expect(() => applyRope(tf.ones([1, 2, 4]), tf.ones([2, 2]), tf.ones([2, 2]), 'pairs' as RopeLayout)).toThrow(/layout/);
    });
  });
});
