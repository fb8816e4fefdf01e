import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { ConfigError } from '../errors';
import { Rng } from '../rng';
import { sparseAttention } from './sparse_attention';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

interface Dims { B: number; H: number; Sq: number; Sk: number; D: number; Dv: number; kSel: number }

/**
 * Float64 reference: for each query the SET of allowed keys {j ∈ indices row, 0 ≤ j < Sk, causal,
 * not padding}, softmax over those, o = Σ p_j v_j; empty set → zeros.
 */
function reference([q, k, v]: Float64Array[], d: Dims, indices: Int32Array, scale: number, causal: boolean, keyMask?: Float32Array): Float64Array {
  const { B, H, Sq, Sk, D, Dv, kSel } = d;
  const o = new Float64Array(B * H * Sq * Dv);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Sq; i++) {
    const set = new Set<number>();
    for (let s = 0; s < kSel; s++) {
      const j = indices[(b * Sq + i) * kSel + s];
      if (j < 0 || j >= Sk) continue;
      if (causal && j > Sk - Sq + i) continue;
      if (keyMask && keyMask[b * Sk + j] === 0) continue;
      set.add(j);
    }
    const keys = [...set];
    if (keys.length === 0) continue;
    const sc = keys.map((j) => {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += q[((b * H + h) * Sq + i) * D + c] * k[((b * H + h) * Sk + j) * D + c];
      return scale * dot;
    });
    const mx = Math.max(...sc);
    const e = sc.map((x) => Math.exp(x - mx));
    const z = e.reduce((a, c) => a + c, 0);
    keys.forEach((j, t) => {
      for (let c = 0; c < Dv; c++) o[((b * H + h) * Sq + i) * Dv + c] += (e[t] / z) * v[((b * H + h) * Sk + j) * Dv + c];
    });
  }
  return o;
}

describe.each(BACKENDS)('sparseAttention on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  const d: Dims = { B: 2, H: 2, Sq: 3, Sk: 5, D: 4, Dv: 3, kSel: 3 };
  // −1 padding, an out-of-range key (7), a duplicate (3, 3), a non-causal key (4 for query 0 when
  // Sq = 3 < Sk = 5 sits at position 2) and row (b=1, i=0) fully masked.
  const indices = Int32Array.from([
    0, 2, -1, 1, 3, 3, 4, 0, 7,
    -1, -1, -1, 4, 1, -1, 2, 3, 0,
  ]);
  const keyMask = Float32Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1]);
  const rng = new Rng(11);
  const q = randn(rng, d.B * d.H * d.Sq * d.D);
  const k = randn(rng, d.B * d.H * d.Sk * d.D);
  const v = randn(rng, d.B * d.H * d.Sk * d.Dv);
  const dy = randn(rng, d.B * d.H * d.Sq * d.Dv);
  const shapes = [[d.B, d.H, d.Sq, d.D], [d.B, d.H, d.Sk, d.D], [d.B, d.H, d.Sk, d.Dv]];

  for (const [causal, withMask] of [[true, false], [false, false], [true, true]] as const) {
    it(`matches the float64 reference and its numerical gradients (causal=${causal}, keyMask=${withMask})`, () => {
      const mask = withMask ? keyMask : undefined;
      const f = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
        sparseAttention(qq, kk, vv, tf.tensor3d(indices, [d.B, d.Sq, d.kSel], 'int32'), {
          scale: 0.7, causal, keyMask: mask ? tf.tensor2d(mask, [d.B, d.Sk]) : undefined,
        });
      const args = [f32(q, shapes[0]), f32(k, shapes[1]), f32(v, shapes[2])];
      const { y, grads } = vjp(f, args, f32(dy, [d.B, d.H, d.Sq, d.Dv]));
      const ref = (xs: Float64Array[]) => reference(xs, d, indices, 0.7, causal, mask);
      expect(relErr(y, ref([q, k, v].map((a) => Float64Array.from(a))))).toBeLessThan(1e-5);
      const num = numericGrads(ref, [q, k, v], dy);
      grads.forEach((g, i) => expect(relErr(g, num[i])).toBeLessThan(1e-4));
      tf.dispose(args);
    });
  }

  // [B, H, S, D] ↔ [B, S, H, D] of a flat array; a shared head tiled to H heads.
  const swap = (a: Float64Array, [B, A1, A2, D]: number[]) => {
    const out = new Float64Array(a.length);
    for (let b = 0; b < B; b++) for (let x = 0; x < A1; x++) for (let y = 0; y < A2; y++) for (let c = 0; c < D; c++) out[((b * A2 + y) * A1 + x) * D + c] = a[((b * A1 + x) * A2 + y) * D + c];
    return out;
  };
  const tileHeads = (a: Float64Array, [B, S, D]: number[], H: number) => {
    const out = new Float64Array(B * H * S * D);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) out.set(a.subarray(b * S * D, (b + 1) * S * D), (b * H + h) * S * D);
    return out;
  };
  const sumHeads = (a: Float64Array, [B, S, D]: number[], H: number) => {
    const out = new Float64Array(B * S * D);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let e = 0; e < S * D; e++) out[b * S * D + e] += a[(b * H + h) * S * D + e];
    return out;
  };

  for (const [layout, shared] of [['bshd', false], ['bhsd', true], ['bshd', true]] as const) {
    it(`matches the reference and its gradients with layout ${layout}, ${shared ? 'one shared key head (MQA)' : 'per-head keys'}`, () => {
      const f64 = (a: Float32Array) => Float64Array.from(a);
      const Hk = shared ? 1 : d.H;
      // Reference inputs in [B, H, S, D]; shared keys are head 0 of k and v tiled.
      const k1 = f64(k).subarray(0, d.B * d.Sk * d.D).slice(), v1 = f64(v).subarray(0, d.B * d.Sk * d.Dv).slice();
      const kRef = shared ? tileHeads(k1, [d.B, d.Sk, d.D], d.H) : f64(k);
      const vRef = shared ? tileHeads(v1, [d.B, d.Sk, d.Dv], d.H) : f64(v);
      const kIn = shared ? k1 : kRef, vIn = shared ? v1 : vRef;
      const sh = (H: number, S: number, D: number) => (layout === 'bshd' ? [d.B, S, H, D] : [d.B, H, S, D]);
      const toLayout = (a: Float64Array, H: number, S: number, D: number) => (layout === 'bshd' ? swap(a, [d.B, H, S, D]) : a);
      const fromLayout = (a: Float64Array, H: number, S: number, D: number) => (layout === 'bshd' ? swap(a, [d.B, S, H, D]) : a);
      const f = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
        sparseAttention(qq, kk, vv, tf.tensor3d(indices, [d.B, d.Sq, d.kSel], 'int32'), { scale: 0.7, causal: true, keyMask: tf.tensor2d(keyMask, [d.B, d.Sk]), layout });
      const t32 = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape, 'float32');
      const args = [
        t32(toLayout(f64(q), d.H, d.Sq, d.D), sh(d.H, d.Sq, d.D)),
        t32(toLayout(kIn, Hk, d.Sk, d.D), sh(Hk, d.Sk, d.D)),
        t32(toLayout(vIn, Hk, d.Sk, d.Dv), sh(Hk, d.Sk, d.Dv)),
      ];
      const { y, grads } = vjp(f, args, t32(toLayout(f64(dy), d.H, d.Sq, d.Dv), sh(d.H, d.Sq, d.Dv)));
      const ref = (xs: Float64Array[]) => reference(xs, d, indices, 0.7, true, keyMask);
      expect(relErr(fromLayout(Float64Array.from(y), d.H, d.Sq, d.Dv), ref([f64(q), kRef, vRef]))).toBeLessThan(1e-5);
      const [gq, gk, gv] = numericGrads(ref, [f64(q), kRef, vRef].map((a) => Float32Array.from(a)), dy);
      expect(relErr(fromLayout(Float64Array.from(grads[0]), d.H, d.Sq, d.D), gq)).toBeLessThan(1e-4);
      const gkWant = shared ? sumHeads(Float64Array.from(gk), [d.B, d.Sk, d.D], d.H) : Float64Array.from(gk);
      const gvWant = shared ? sumHeads(Float64Array.from(gv), [d.B, d.Sk, d.Dv], d.H) : Float64Array.from(gv);
      expect(relErr(fromLayout(Float64Array.from(grads[1]), Hk, d.Sk, d.D), gkWant)).toBeLessThan(1e-4);
      expect(relErr(fromLayout(Float64Array.from(grads[2]), Hk, d.Sk, d.Dv), gvWant)).toBeLessThan(1e-4);
      tf.dispose(args);
    });
  }

  it('gives zeros for a query with no allowed key', () => {
    const o = tf.tidy(() => sparseAttention(f32(q, shapes[0]), f32(k, shapes[1]), f32(v, shapes[2]), tf.tensor3d(indices, [d.B, d.Sq, d.kSel], 'int32'), { scale: 1 }));
    const row = (o.dataSync() as Float32Array).slice(((1 * d.H + 0) * d.Sq + 0) * d.Dv, ((1 * d.H + 0) * d.Sq + 1) * d.Dv);
    expect([...row]).toEqual([0, 0, 0]);
    o.dispose();
  });

  it('keeps the tensor count flat across forward + backward passes', () => {
    const args = [f32(q, shapes[0]), f32(k, shapes[1]), f32(v, shapes[2])];
    const idx = tf.tensor3d(indices, [d.B, d.Sq, d.kSel], 'int32');
    const pass = () => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(sparseAttention(a, b, c, idx, { scale: 1 })))(args).forEach((g) => g.dataSync()));
    pass();
    const before = tf.memory().numTensors;
    pass();
    pass();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...args, idx]);
  });

  it('rejects bad inputs with a ConfigError naming the field', () => {
    const a = tf.ones([1, 1, 2, 2]);
    expect(() => sparseAttention(a, a, a, tf.ones([1, 2, 1]), { scale: 1 })).toThrow(/indices must be int32/);
    expect(() => sparseAttention(a, tf.ones([1, 1, 2, 3]), a, tf.zeros([1, 2, 1], 'int32'), { scale: 1 })).toThrow(ConfigError);
    expect(() => sparseAttention(a, a, a, tf.zeros([1, 3, 1], 'int32'), { scale: 1 })).toThrow(/indices must be \[1, 2, k\]/);
    expect(() => sparseAttention(a, a, a, tf.zeros([1, 2, 1], 'int32'), { scale: NaN })).toThrow(/scale/);
    expect(() => sparseAttention(tf.ones([1, 2, 3, 2]), tf.ones([1, 2, 2, 2]), tf.ones([1, 2, 2, 2]), tf.zeros([1, 2, 1], 'int32'), { scale: 1, layout: 'bshd' })).toThrow(/k must be \[1, Sk, 3 or 1, 2\]/);
    expect(() => sparseAttention(a, a, a, tf.zeros([1, 2, 1], 'int32'), { scale: 1, layout: 'xyz' as 'bshd' })).toThrow(/layout must be/);
    a.dispose();
  });
});
