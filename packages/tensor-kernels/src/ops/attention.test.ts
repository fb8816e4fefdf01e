import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { Rng } from '../rng';
import { attention, attentionWeights, attentionWeightsComposite } from './attention';
import type { AttentionMaskOptions } from './attention';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

interface Dims { B: number; H: number; Sq: number; Sk: number; D: number; Dv: number }
interface Masks { scale: number; causal: boolean; indices?: Int32Array; k?: number; keyMask?: Float32Array }

/** Float64 masked attention probabilities p [B, H, Sq, Sk]; rows with no allowed key are zeros. */
function refWeights([q, k]: Float64Array[], { B, H, Sq, Sk, D }: Dims, m: Masks): Float64Array {
  const p = new Float64Array(B * H * Sq * Sk);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Sq; i++) {
    const ok = (j: number) => {
      if (m.causal && j > Sk - Sq + i) return false;
      if (m.keyMask && m.keyMask[b * Sk + j] === 0) return false;
      if (m.indices) return m.indices.subarray((b * Sq + i) * m.k!, (b * Sq + i + 1) * m.k!).includes(j);
      return true;
    };
    const s = Array.from({ length: Sk }, (_, j) => {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += q[((b * H + h) * Sq + i) * D + c] * k[((b * H + h) * Sk + j) * D + c];
      return m.scale * dot;
    });
    const allowed = s.map((_, j) => ok(j));
    const mx = Math.max(...s.filter((_, j) => allowed[j]));
    const e = s.map((v, j) => (allowed[j] ? Math.exp(v - mx) : 0));
    const z = e.reduce((a, c) => a + c, 0);
    e.forEach((v, j) => (p[((b * H + h) * Sq + i) * Sk + j] = z > 0 ? v / z : 0));
  }
  return p;
}

/** Float64 attention output p·v [B, H, Sq, Dv]. */
function refAttention([q, k, v]: Float64Array[], dims: Dims, m: Masks): Float64Array {
  const { B, H, Sq, Sk, Dv } = dims;
  const p = refWeights([q, k], dims, m);
  const o = new Float64Array(B * H * Sq * Dv);
  for (let r = 0; r < B * H; r++) for (let i = 0; i < Sq; i++) for (let c = 0; c < Dv; c++) {
    let s = 0;
    for (let j = 0; j < Sk; j++) s += p[(r * Sq + i) * Sk + j] * v[(r * Sk + j) * Dv + c];
    o[(r * Sq + i) * Dv + c] = s;
  }
  return o;
}

describe.each(BACKENDS)('attention on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  const dims: Dims = { B: 2, H: 2, Sq: 3, Sk: 5, D: 4, Dv: 3 };
  const { B, H, Sq, Sk, D, Dv } = dims;
  // Sparse index sets with −1 padding, a duplicate, and row (b=1, i=0) fully masked (all −1).
  const indices = Int32Array.from([
    0, 2, -1, 1, 3, 3, 4, 0, 1,
    -1, -1, -1, 4, 1, -1, 2, 3, 0,
  ]);
  const keyMask = Float32Array.from([1, 1, 1, 0, 1, 1, 1, 1, 1, 0]);
  const variants: [string, Masks][] = [
    ['causal', { scale: 0.5, causal: true }],
    ['unmasked', { scale: 0.7, causal: false }],
    ['causal + sparse (−1 padding, a fully masked row)', { scale: 0.5, causal: true, indices, k: 3 }],
    ['sparse + key padding, not causal', { scale: 1.1, causal: false, indices, k: 3, keyMask }],
    ['causal + key padding', { scale: 0.3, causal: true, keyMask }],
  ];
  const toOpts = (m: Masks): AttentionMaskOptions => ({
    scale: m.scale,
    causal: m.causal,
    indices: m.indices ? tf.tensor(m.indices, [B, Sq, m.k!], 'int32') : undefined,
    keyMask: m.keyMask ? f32(m.keyMask, [B, Sk]) : undefined,
  });

  it.each([
    ['fused', attentionWeights],
    ['composite fallback', attentionWeightsComposite],
  ] as const)('attentionWeights (%s) matches a float64 reference for every mask, with gradients', (_, op) => {
    const rng = new Rng(51);
    for (const [label, m] of variants) {
      const q = randn(rng, B * H * Sq * D);
      const k = randn(rng, B * H * Sk * D);
      const dy = randn(rng, B * H * Sq * Sk);
      const { y, grads } = tf.tidy(() => {
        const opts = toOpts(m);
        return vjp((a, b) => op(a, b, opts), [f32(q, [B, H, Sq, D]), f32(k, [B, H, Sk, D])], f32(dy, [B, H, Sq, Sk]));
      });
      const inputs = [q, k].map((a) => Float64Array.from(a));
      const ref = (a: Float64Array[]) => refWeights(a, dims, m);
      expect(relErr(y, ref(inputs)), label).toBeLessThan(1e-6);
      const g = numericGrads(ref, inputs, dy);
      expect(relErr(grads[0], g[0]), `${label} dq`).toBeLessThan(1e-5);
      expect(relErr(grads[1], g[1]), `${label} dk`).toBeLessThan(1e-5);
      if (m.indices) expect(Array.from(y.subarray((1 * H * Sq + 0) * Sk, (1 * H * Sq + 1) * Sk))).toEqual([0, 0, 0, 0, 0]);
    }
  });

  it('attention = p·v matches a float64 reference with gradients for q, k, v', () => {
    const rng = new Rng(52);
    const m = variants[3][1];
    const arrays = [randn(rng, B * H * Sq * D), randn(rng, B * H * Sk * D), randn(rng, B * H * Sk * Dv)];
    const dy = randn(rng, B * H * Sq * Dv);
    const { y, grads } = tf.tidy(() => {
      const opts = toOpts(m);
      const args = [f32(arrays[0], [B, H, Sq, D]), f32(arrays[1], [B, H, Sk, D]), f32(arrays[2], [B, H, Sk, Dv])];
      return vjp((a, b, c) => attention(a, b, c, opts), args, f32(dy, [B, H, Sq, Dv]));
    });
    const inputs = arrays.map((a) => Float64Array.from(a));
    const ref = (a: Float64Array[]) => refAttention(a, dims, m);
    expect(relErr(y, ref(inputs))).toBeLessThan(1e-6);
    const g = numericGrads(ref, inputs, dy);
    for (let i = 0; i < 3; i++) expect(relErr(grads[i], g[i]), `grad ${i}`).toBeLessThan(1e-5);
  });

  it('rejects mismatched shapes and dtypes', () => {
    tf.tidy(() => {
      const q = tf.ones([1, 2, 3, 4]);
      expect(() => attentionWeights(q, tf.ones([1, 2, 3, 5]), { scale: 1 })).toThrow(/k must be \[1, 2, Sk, 4\]/);
      expect(() => attentionWeights(q, q, { scale: 1, indices: tf.zeros([1, 3, 2]) })).toThrow(/indices must be int32/);
      expect(() => attentionWeights(q, q, { scale: 1, keyMask: tf.ones([1, 4]) })).toThrow(/keyMask must be \[1, 3\]/);
      expect(() => attention(q, q, tf.ones([1, 2, 4, 2]), { scale: 1 })).toThrow(/v must be/);
      expect(() => attentionWeights(q, q, { scale: NaN })).toThrow(/scale/);
    });
  });
});
