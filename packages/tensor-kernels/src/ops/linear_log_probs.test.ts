import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { ConfigError } from '../errors';
import { Rng } from '../rng';
import { tokenLogProbs } from './cross_entropy';
import { setLinearAdapter } from './linear';
import { linearEntropy, linearTokenLogProbs } from './linear_log_probs';
import { BACKENDS, f32, numericGrads, randn, relErr, vjp } from './test_helpers';

/** Float64 log softmax(x·Wᵀ/τ)[t] per row, written out loop by loop; a target outside [0, V) gives 0. */
function refLogProbs([x, w]: Float64Array[], targets: Int32Array, V: number, D: number, tau: number): Float64Array {
  return Float64Array.from(targets, (t, n) => {
    if (t < 0 || t >= V) return 0;
    const logits = Array.from({ length: V }, (_, v) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[n * D + d] * w[v * D + d];
      return s / tau;
    });
    const m = Math.max(...logits);
    return logits[t] - m - Math.log(logits.reduce((a, l) => a + Math.exp(l - m), 0));
  });
}

function refEntropy(x: Float32Array, w: Float32Array, N: number, V: number, D: number, tau: number): Float64Array {
  return Float64Array.from({ length: N }, (_, n) => {
    const logits = Array.from({ length: V }, (_, v) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[n * D + d] * w[v * D + d];
      return s / tau;
    });
    const m = Math.max(...logits);
    const z = logits.reduce((a, l) => a + Math.exp(l - m), 0);
    return -logits.reduce((a, l) => a + (Math.exp(l - m) / z) * (l - m - Math.log(z)), 0);
  });
}

describe.each(BACKENDS)('linearTokenLogProbs and linearEntropy on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  const [B, S, D, V] = [2, 5, 6, 13];
  const setup = (seed: number) => {
    const rng = new Rng(seed);
    const x = randn(rng, B * S * D);
    const w = randn(rng, V * D, 0.7);
    const targets = Int32Array.from({ length: B * S }, () => rng.int(0, V - 1));
    targets[3] = -1; // padding: 0 and no gradient
    targets[7] = V; // out of range likewise
    const dy = randn(rng, B * S);
    return { x, w, targets, dy };
  };

  it.each([
    [1, undefined],
    [0.7, 3], // chunks of 3 rows over 10: the last one is short
    [1.3, 1],
    [1, 64], // one chunk larger than N
  ])('values and gradients (x and W) match a float64 reference at τ = %s, chunkRows %s', (tau, chunkRows) => {
    const { x, w, targets, dy } = setup(7);
    const tt = tf.tensor(targets, [B, S], 'int32');
    const opts = chunkRows === undefined ? { temperature: tau } : { temperature: tau, chunkRows };
    const before = tf.memory().numTensors;
    const { y, grads } = vjp((a, b) => linearTokenLogProbs(a, b, tt, opts), [f32(x, [B, S, D]), f32(w, [V, D])], f32(dy, [B, S]));
    expect(tf.memory().numTensors).toBe(before + 3); // the vjp's own x, w and dy
    const f = (xs: Float64Array[]) => refLogProbs(xs, targets, V, D, tau);
    const ref = f([Float64Array.from(x), Float64Array.from(w)]);
    expect(relErr(y, ref)).toBeLessThan(1e-5);
    expect(y[3]).toBe(0);
    expect(y[7]).toBe(0);
    const [gx, gw] = numericGrads(f, [x, w], dy);
    expect(relErr(grads[0], gx)).toBeLessThan(1e-4);
    expect(relErr(grads[1], gw)).toBeLessThan(1e-4);
    for (let d = 0; d < D; d++) expect(grads[0][3 * D + d]).toBe(0);
    tt.dispose();
  });

  it('equals the unfused head + tokenLogProbs under tf.variableGrads with a frozen head, and leaves no tensors behind', () => {
    const { x, w, targets } = setup(11);
    const head = tf.variable(f32(w, [V, D]), false); // frozen: only the projection below trains
    const proj = tf.variable(f32(randn(new Rng(3), D * D, 0.4), [D, D]));
    const xt = f32(x, [B, S, D]);
    const tt = tf.tensor(targets, [B, S], 'int32');
    const mask = tf.tensor2d([[1, 1, 0, 1, 1], [1, 0, 1, 1, 1]]);
    const loss = (fused: boolean) => () => {
      const h = tf.matMul(tf.reshape(xt, [B * S, D]), proj).reshape([B, S, D]);
      const lp = fused ? linearTokenLogProbs(h, head, tt, { chunkRows: 4 }) : tf.sum(tf.mul(tf.logSoftmax(tf.matMul(h, head, false, true)), tf.oneHot(tf.clipByValue(tt, 0, V - 1), V)), -1).mul(tf.logicalAnd(tf.greaterEqual(tt, 0), tf.less(tt, V)).toFloat());
      return tf.div(tf.neg(tf.sum(tf.mul(lp, mask))), tf.sum(mask)) as tf.Scalar;
    };
    const a = tf.variableGrads(loss(true), [proj]);
    const b = tf.variableGrads(loss(false), [proj]);
    expect(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0])).toBeLessThan(1e-5);
    expect(relErr(a.grads[proj.name].dataSync(), b.grads[proj.name].dataSync())).toBeLessThan(1e-5);
    tf.dispose([a.value, b.value, a.grads[proj.name], b.grads[proj.name]]);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const r = tf.variableGrads(loss(true), [proj]);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    }
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([head, proj, xt, tt, mask]);
  });

  it('without a tape returns the same values and computes no gradient rows', () => {
    const { x, w, targets } = setup(5);
    const [xt, wt, tt] = [f32(x, [B * S, D]), f32(w, [V, D]), tf.tensor(targets, [B * S], 'int32')];
    const before = tf.memory().numTensors;
    const lp = linearTokenLogProbs(xt, wt, tt, { chunkRows: 4 });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(relErr(lp.dataSync(), refLogProbs([Float64Array.from(x), Float64Array.from(w)], targets, V, D, 1))).toBeLessThan(1e-5);
    tf.dispose([lp, xt, wt, tt]);
  });

  it('linearEntropy matches a float64 reference, chunked, and stays off the gradient tape', () => {
    const { x, w } = setup(9);
    const [xt, wt] = [f32(x, [B, S, D]), f32(w, [V, D])];
    for (const [tau, chunkRows] of [[1, 3], [0.6, 100]]) {
      const h = linearEntropy(xt, wt, { temperature: tau, chunkRows });
      expect(h.shape).toEqual([B, S]);
      expect(relErr(h.dataSync(), refEntropy(x, w, B * S, V, D, tau))).toBeLessThan(1e-5);
      h.dispose();
    }
    // Under a tape it contributes nothing to a gradient (and keeps no chunk for one).
    const g = tf.grad((a: tf.Tensor) => tf.add(tf.sum(a), tf.sum(linearEntropy(a, wt))))(xt);
    expect([...g.dataSync()].every((v) => v === 1)).toBe(true);
    tf.dispose([g, xt, wt]);
  });

  it('applies a linear adapter attached to the head (LoRA on lm_head), with gradients to the adapter', () => {
    const { x, w, targets } = setup(13);
    const [xt, wt, tt] = [f32(x, [B, S, D]), f32(w, [V, D]), tf.tensor(targets, [B, S], 'int32')];
    const a = tf.variable(f32(randn(new Rng(4), 2 * D, 0.3), [2, D]));
    const b = tf.variable(f32(randn(new Rng(5), V * 2, 0.3), [V, 2]));
    setLinearAdapter(wt, (x2) => tf.matMul(tf.matMul(x2, a, false, true), b, false, true) as tf.Tensor2D);
    try {
      const plain = (tau: number) => tokenLogProbs(tf.div(tf.add(tf.matMul(xt.reshape([B * S, D]), wt, false, true), tf.matMul(tf.matMul(xt.reshape([B * S, D]), a, false, true), b, false, true)), tau).reshape([B, S, V]), tt);
      const fused = linearTokenLogProbs(xt, wt, tt, { temperature: 0.8, chunkRows: 3 });
      expect(relErr(fused.dataSync(), plain(0.8).dataSync())).toBeLessThan(1e-5);
      const gf = tf.variableGrads(() => tf.sum(linearTokenLogProbs(xt, wt, tt)) as tf.Scalar, [a, b]);
      const gp = tf.variableGrads(() => tf.sum(plain(1)) as tf.Scalar, [a, b]);
      expect(relErr(gf.grads[b.name].dataSync(), gp.grads[b.name].dataSync())).toBeLessThan(1e-5);
      expect(relErr(gf.grads[a.name].dataSync(), gp.grads[a.name].dataSync())).toBeLessThan(1e-5);
      const ent = linearEntropy(xt, wt, { temperature: 0.8 });
      const logits = tf.div(tf.add(tf.matMul(xt.reshape([B * S, D]), wt, false, true), tf.matMul(tf.matMul(xt.reshape([B * S, D]), a, false, true), b, false, true)), 0.8);
      const lsm = tf.logSoftmax(logits);
      const want = tf.neg(tf.sum(tf.mul(tf.exp(lsm), lsm), -1));
      expect(ent.shape).toEqual([B, S]);
      expect(relErr(ent.dataSync(), want.dataSync())).toBeLessThan(1e-5);
      tf.dispose([fused, ent, logits, lsm, want, gf.value, gp.value, ...Object.values(gf.grads), ...Object.values(gp.grads)]);
    } finally {
      setLinearAdapter(wt, null);
      tf.dispose([xt, wt, tt, a, b]);
    }
  });

  it('rejects bad arguments with a ConfigError naming the field', () => {
    const [x, w, t] = [tf.zeros([2, 4]), tf.zeros([8, 4]), tf.zeros([2], 'int32')];
    expect(() => linearTokenLogProbs(x, tf.zeros([8, 3]), t)).toThrow(/x must have shape \[\.\.\., 3\]/);
    expect(() => linearTokenLogProbs(x, w, tf.zeros([3], 'int32'))).toThrow(/targets must have shape \[2\]/);
    expect(() => linearTokenLogProbs(x, w, t, { temperature: 0 })).toThrow(ConfigError);
    expect(() => linearTokenLogProbs(x, w, t, { chunkRows: 1.5 })).toThrow(/chunkRows must be an integer/);
    expect(() => linearEntropy(x, w, { chunk: 2 } as never)).toThrow(/^linearEntropy options: unknown key "chunk"; accepted: temperature, chunkRows$/);
    expect(() => linearTokenLogProbs(x, w, t, { temprature: 2 } as never)).toThrow(/unknown key "temprature" \(did you mean "temperature"\?\)/);
    tf.dispose([x, w, t]);
  });
});
