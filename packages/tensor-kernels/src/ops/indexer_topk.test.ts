import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { Rng } from '../rng';
import { IndexerTopK } from '../kernels/indexer_topk';
import { indexerTopK } from './indexer_topk';
import { BACKENDS, randn } from './test_helpers';

/** Float64 reference: scores of the allowed keys, sorted by (score desc, index asc), first topk, ascending. */
function reference(q: Float32Array, w: Float32Array, k: Float32Array, dims: number[], topk: number, scale: number, mask?: number[]): number[] {
  const [B, Sq, Hi, Di, Sk] = dims;
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let t = 0; t < Sq; t++) {
    const cand: { s: number; v: number }[] = [];
    for (let s = 0; s <= Sk - Sq + t; s++) {
      if (mask && mask[b * Sk + s] === 0) continue;
      let v = 0;
      for (let h = 0; h < Hi; h++) {
        let dot = 0;
        for (let c = 0; c < Di; c++) dot += q[((b * Sq + t) * Hi + h) * Di + c] * k[(b * Sk + s) * Di + c];
        v += w[(b * Sq + t) * Hi + h] * Math.max(0, dot);
      }
      cand.push({ s, v: scale * v });
    }
    cand.sort((x, y) => y.v - x.v || x.s - y.s);
    const sel = cand.slice(0, topk).map((c) => c.s).sort((x, y) => x - y);
    for (let j = 0; j < topk; j++) out.push(j < sel.length ? sel[j] : -1);
  }
  return out;
}

describe.each(BACKENDS)('indexerTopK on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  it('selects the reference top-k of the allowed keys (causal, padding, Sq < Sk, ties)', () => {
    const rng = new Rng(9);
    const [B, Sq, Hi, Di, Sk, topk] = [2, 6, 3, 4, 9, 4];
    const q = randn(rng, B * Sq * Hi * Di);
    const w = randn(rng, B * Sq * Hi);
    const k = randn(rng, B * Sk * Di);
    k.fill(0, (1 * Sk + 2) * Di, (1 * Sk + 5) * Di); // three all-zero keys: exact ties at score 0
    const mask = Array.from({ length: B * Sk }, (_, i) => (i === 1 || i === Sk + 7 ? 0 : 1));
    const got = indexerTopK(tf.tensor4d(q, [B, Sq, Hi, Di]), tf.tensor3d(w, [B, Sq, Hi]), tf.tensor3d(k, [B, Sk, Di]), topk, {
      scale: 0.5, keyMask: tf.tensor2d(mask, [B, Sk]),
    });
    expect(Array.from(got.dataSync())).toEqual(reference(q, w, k, [B, Sq, Hi, Di, Sk], topk, 0.5, mask));
    got.dispose();
  });

  it('gives the reference top-k for every chunking of the queries (Sq > Sk, Sq < Sk, padding, topk > keys)', () => {
    const rng = new Rng(21);
    for (const [B, Sq, Hi, Di, Sk, topk] of [[1, 13, 2, 5, 9, 3], [2, 7, 3, 4, 16, 5], [1, 11, 1, 3, 11, 20]]) {
      const q = randn(rng, B * Sq * Hi * Di);
      const w = randn(rng, B * Sq * Hi);
      const k = randn(rng, B * Sk * Di);
      const mask = Array.from({ length: B * Sk }, (_, i) => (i % 5 === 3 ? 0 : 1));
      const want = reference(q, w, k, [B, Sq, Hi, Di, Sk], topk, 0.3, mask);
      for (const chunk of [1, 2, 5, undefined]) {
        const got = tf.tidy(() => indexerTopK(tf.tensor4d(q, [B, Sq, Hi, Di]), tf.tensor3d(w, [B, Sq, Hi]), tf.tensor3d(k, [B, Sk, Di]), topk, {
          scale: 0.3, keyMask: tf.tensor2d(mask, [B, Sk]), chunk,
        }));
        expect(Array.from(got.dataSync()), `dims ${[B, Sq, Hi, Di, Sk, topk]} chunk ${chunk}`).toEqual(want);
        got.dispose();
      }
    }
  });

  it('the fused kernel itself (the cpu path without BLAS) gives the reference top-k', () => {
    const rng = new Rng(5);
    const [B, Sq, Hi, Di, Sk, topk] = [2, 5, 2, 3, 8, 3];
    const q = randn(rng, B * Sq * Hi * Di);
    const w = randn(rng, B * Sq * Hi);
    const k = randn(rng, B * Sk * Di);
    const mask = Array.from({ length: B * Sk }, (_, i) => (i % 4 === 1 ? 0 : 1));
    const got = tf.tidy(() => tf.engine().runKernel(IndexerTopK,
      { q: tf.tensor4d(q, [B, Sq, Hi, Di]), w: tf.tensor3d(w, [B, Sq, Hi]), k: tf.tensor3d(k, [B, Sk, Di]), keyMask: tf.tensor2d(mask, [B, Sk]) },
      { topk, scale: 0.4 } as unknown as tf.NamedAttrMap) as tf.Tensor);
    expect(Array.from(got.dataSync())).toEqual(reference(q, w, k, [B, Sq, Hi, Di, Sk], topk, 0.4, mask));
    got.dispose();
  });

  it('keeps the tensor count flat', () => {
    const args = [tf.randomNormal([1, 9, 2, 4]), tf.randomNormal([1, 9, 2]), tf.randomNormal([1, 9, 4])];
    const pass = () => indexerTopK(args[0], args[1], args[2], 3, { scale: 1, chunk: 2 }).dispose();
    pass();
    const before = tf.memory().numTensors;
    pass();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(args);
  });

  it('rejects a bad topk with a ConfigError naming the field', () => {
    expect(() => indexerTopK(tf.ones([1, 2, 1, 2]), tf.ones([1, 2, 1]), tf.ones([1, 2, 2]), 0, { scale: 1 })).toThrow(/topk must be an integer/);
    expect(() => indexerTopK(tf.ones([1, 2, 1, 2]), tf.ones([1, 2, 1]), tf.ones([1, 2, 2]), 1, { scale: 1, chunk: 0 })).toThrow(/chunk must be an integer/);
  });
});
