import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init';
import { RmsNorm } from '../kernel_names';
import { rmsNormSpec } from '../kernels/rms_norm';
import { cpuKernel } from '../kernels/cpu/adapter';
import { attention, attentionWeights, attentionWeightsComposite } from './attention';
import { maskedCrossEntropy, tokenLogProbs, tokenLogProbsComposite } from './cross_entropy';
import { layerNorm, layerNormComposite } from './layer_norm';
import { rmsNorm, rmsNormComposite } from './rms_norm';
import { applyRope, applyRopeComposite } from './rope';
import { siluMul, siluMulComposite } from './swiglu';
import { BACKENDS } from './test_helpers';

/** Kernels the engine runs for f (nested kernel calls inside a backend kernel are not counted). */
async function kernelsRun(f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => f());
  tf.dispose(info.result as tf.Tensor);
  return info.kernels.map((k) => k.name);
}

describe.each(BACKENDS)('fused kernels on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });

  // One small input set per op; every op gets its fused kernel and its composite twin.
  const inputs = () => ({
    x: tf.randomNormal([2, 5, 16]),
    w: tf.randomNormal([16]),
    b: tf.randomNormal([16]),
    rx: tf.randomNormal([2, 5, 3, 16]),
    cos: tf.randomNormal([5, 8]),
    sin: tf.randomNormal([5, 8]),
    logits: tf.randomNormal([2, 5, 16]),
    targets: tf.tensor2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, -1]], [2, 5], 'int32'),
    q: tf.randomNormal([1, 2, 5, 4]),
    k: tf.randomNormal([1, 2, 6, 4]),
    indices: tf.tensor3d([[[0, 1], [1, -1], [2, 3], [-1, -1], [5, 4]]], [1, 5, 2], 'int32'),
  });
  type In = ReturnType<typeof inputs>;
  const ops: [string, (i: In) => tf.Tensor, (i: In) => tf.Tensor, number][] = [
    ['rmsNorm', (i) => rmsNorm(i.x, i.w), (i) => rmsNormComposite(i.x, i.w, 1e-6), 1],
    ['layerNorm', (i) => layerNorm(i.x, i.w, i.b), (i) => layerNormComposite(i.x, i.w, i.b, 1e-6), 1],
    ['applyRope', (i) => applyRope(i.rx, i.cos, i.sin, 'interleaved'), (i) => applyRopeComposite(i.rx, i.cos, i.sin, 'interleaved'), 1],
    ['siluMul', (i) => siluMul(i.x, i.b), (i) => siluMulComposite(i.x, i.b), 1],
    ['siluMul (same shape)', (i) => siluMul(i.x, i.logits), (i) => siluMulComposite(i.x, i.logits), 1],
    ['tokenLogProbs', (i) => tokenLogProbs(i.logits, i.targets), (i) => tokenLogProbsComposite(i.logits, i.targets), 1],
    ['attentionWeights', (i) => attentionWeights(i.q, i.k, { scale: 0.5, indices: i.indices }), (i) => attentionWeightsComposite(i.q, i.k, { scale: 0.5, indices: i.indices }), 2],
  ];

  it('runs on the requested backend', () => {
    expect(tf.getBackend()).toBe(backend);
  });

  it.each(ops.filter(([name]) => name !== 'siluMul'))('%s issues its fused kernel count per forward, fewer than the composite', async (_, fused, composite, expected) => {
    const i = inputs();
    const f = await kernelsRun(() => fused(i));
    const c = await kernelsRun(() => composite(i));
    expect(f.length).toBe(expected);
    expect(f.some((n) => n.startsWith('R1'))).toBe(true);
    expect(c.length).toBeGreaterThan(f.length);
    tf.dispose(Object.values(i));
  });

  it('attention is matMul + MaskedSoftmax + matMul; the backward uses fused kernels', async () => {
    const i = inputs();
    const v = tf.randomNormal([1, 2, 6, 3]);
    expect(await kernelsRun(() => attention(i.q, i.k, v, { scale: 0.5 }))).toEqual(['BatchMatMul', 'R1MaskedSoftmax', 'BatchMatMul']);
    const back = await kernelsRun(() => tf.grads((x: tf.Tensor) => tf.sum(rmsNorm(x, i.w)))([i.x]));
    expect(back.filter((n) => n.startsWith('R1'))).toEqual(['R1RmsNorm', 'R1RmsNormGrad']);
    tf.dispose([...Object.values(i), v]);
  });

  it('keeps the tensor count flat across repeated forward + backward of every op', () => {
    const i = inputs();
    const v = tf.randomNormal([1, 2, 6, 3]);
    const mask = tf.tensor2d([[1, 1, 0, 1, 1], [1, 0, 1, 1, 1]]);
    const step = () =>
      tf.tidy(() => {
        const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, rx: tf.Tensor, logits: tf.Tensor, q: tf.Tensor, k: tf.Tensor, vv: tf.Tensor) => {
          const terms = [
            rmsNorm(x, w), layerNorm(x, w, b), applyRope(rx, i.cos, i.sin, 'half'), siluMul(x, logits),
            tf.expandDims(maskedCrossEntropy(logits, i.targets, mask)),
            attention(q, k, vv, { scale: 0.5, indices: i.indices }),
          ];
          return tf.addN(terms.map((t) => tf.sum(t)));
        };
        const grads = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([i.x, i.w, i.b, i.rx, i.logits, i.q, i.k, v]);
        return grads.length;
      });
    step();
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(i), v, mask]);
  });
});

describe('fallback without the fused kernel', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', quiet: true });
  });

  it('rmsNorm falls back to the composite on a backend lacking R1RmsNorm, with the same values', async () => {
    const x = tf.randomNormal([3, 8]);
    const w = tf.randomNormal([8]);
    const fused = rmsNorm(x, w);
    tf.unregisterKernel(RmsNorm, 'cpu');
    try {
      const names = await kernelsRun(() => rmsNorm(x, w));
      expect(names.length).toBeGreaterThan(1);
      const composite = rmsNorm(x, w);
      const [gx] = tf.grads((a: tf.Tensor) => tf.sum(rmsNorm(a, w)))([x]);
      expect(Math.max(...(tf.sub(composite, fused).abs().dataSync() as Float32Array))).toBeLessThan(1e-5);
      expect(gx.shape).toEqual([3, 8]);
      tf.dispose([composite, gx]);
    } finally {
      tf.registerKernel(cpuKernel(rmsNormSpec));
    }
    tf.dispose([x, w, fused]);
  });
});
