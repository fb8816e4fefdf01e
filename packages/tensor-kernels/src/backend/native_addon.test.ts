// The native addon's kernel loops against the JS loops they replace: every fused kernel spec run twice
// on the same inputs (native on, then off), including the edge cases each JS loop handles — masked and
// empty softmax rows, causal offsets, ±100 logits and −1 targets, |gate| up to 30, weight decay on and
// off. AdamW must agree bit for bit; the rest to float32 rounding. Both paths stay tested this way.
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, nativeKernels, useNativeKernels } from './native_addon';
import { arr, maxRelDiff, run, values } from './native_test_util';
import type { KernelArray, KernelSpec } from '../kernels/kernel_spec';
import { sizeOf } from '../kernels/kernel_spec';
import { rmsNormGradSpec, rmsNormSpec } from '../kernels/rms_norm';
import { maskedSoftmaxGradSpec, maskedSoftmaxSpec } from '../kernels/masked_softmax';
import { siluMulGradSpec, siluMulSpec } from '../kernels/silu_mul';
import { tokenLogProbsGradSpec, tokenLogProbsSpec } from '../kernels/token_log_probs';
import { adamWUpdateSpec, scaleAllSpec, sumOfSquaresSpec } from '../kernels/adamw';





const built = loadNativeAddon() !== null;
const initially = nativeKernels() !== null;

describe.runIf(built)('native kernel loops agree with the JS loops', () => {
  afterAll(() => void useNativeKernels(initially));
  const both = (spec: KernelSpec, inputs: Record<string, KernelArray>, attrs: Record<string, unknown> = {}) => [run(spec, inputs, attrs, true), run(spec, inputs, attrs, false)];

  it('rmsNorm and its gradient', () => {
    const D = 48;
    const x = arr([3, 7, D], values(3 * 7 * D, 1, -3, 3));
    const weight = arr([D], values(D, 2, 0.5, 1.5));
    const dy = arr([3, 7, D], values(3 * 7 * D, 3));
    const attrs = { eps: 1e-6 };
    const [n, j] = both(rmsNormSpec, { x, weight }, attrs);
    expect(maxRelDiff(n, j)).toBeLessThan(1e-6);
    const [ng, jg] = both(rmsNormGradSpec, { x, weight, dy }, attrs);
    expect(maxRelDiff(ng, jg)).toBeLessThan(1e-6);
  });

  it('masked softmax: causal with Sq < Sk, index sets, key padding with an all-masked row; and the gradient', () => {
    const [B, H, Sq, Sk, k] = [2, 3, 5, 9, 3];
    const scores = arr([B, H, Sq, Sk], values(B * H * Sq * Sk, 4, -8, 8));
    const idx = new Int32Array(B * Sq * k);
    for (let i = 0; i < idx.length; i++) idx[i] = (i * 7) % (Sk + 2) - 1; // some −1 and out-of-range
    const keyMask = new Float32Array(B * Sk).fill(1);
    keyMask.fill(0, 0, Sk); // batch 0: no real key at all → zero rows
    const cases: Array<[Record<string, KernelArray>, boolean]> = [
      [{ scores }, true],
      [{ scores }, false],
      [{ scores, indices: arr([B, Sq, k], idx) }, true],
      [{ scores, keyMask: arr([B, Sk], keyMask) }, true],
      [{ scores, indices: arr([B, Sq, k], idx), keyMask: arr([B, Sk], keyMask) }, false],
    ];
    for (const [inputs, causal] of cases) {
      const attrs = { scale: 0.7, causal };
      const [n, j] = both(maskedSoftmaxSpec, inputs, attrs);
      expect(maxRelDiff(n, j)).toBeLessThan(2e-6);
      expect(n[0].some((v) => v > 0)).toBe(true);
      expect(n[0].some((v) => v === 0)).toBe(causal || 'indices' in inputs || 'keyMask' in inputs);
      const p = arr(scores.shape, j[0]);
      const dp = arr(scores.shape, values(p.values.length, 5, -2, 2));
      const [ng, jg] = both(maskedSoftmaxGradSpec, { p, dp }, attrs);
      expect(maxRelDiff(ng, jg)).toBeLessThan(2e-6);
    }
  });

  it('siluMul and its gradient with |gate| up to 30', () => {
    const gate = arr([4, 33], values(132, 6, -30, 30));
    const up = arr([4, 33], values(132, 7, -2, 2));
    const dy = arr([4, 33], values(132, 8));
    const [n, j] = both(siluMulSpec, { gate, up });
    expect(maxRelDiff(n, j)).toBeLessThan(2e-6);
    const [ng, jg] = both(siluMulGradSpec, { gate, up, dy });
    expect(maxRelDiff(ng, jg)).toBeLessThan(2e-6);
  });

  it('token log-probs and the gradient, logits near ±100 and −1 targets', () => {
    const [N, V] = [6, 37];
    const logits = arr([N, V], values(N * V, 9, -100, 100));
    const targets = arr([N], Int32Array.from([0, 36, -1, 5, 37, 12]));
    const dy = arr([N], values(N, 10));
    const [n, j] = both(tokenLogProbsSpec, { logits, targets });
    expect(maxRelDiff(n, j)).toBeLessThan(2e-6);
    const [ng, jg] = both(tokenLogProbsGradSpec, { logits, targets, dy });
    expect(maxRelDiff(ng, jg)).toBeLessThan(2e-6);
    expect(ng[0].slice(2 * V, 3 * V).every((v) => v === 0)).toBe(true);
  });

  it('AdamW bit for bit, with and without weight decay; sum of squares and scaling', () => {
    const shapes = [[17], [5, 9]];
    const inputs: Record<string, KernelArray> = {};
    shapes.forEach((s, i) => {
      const n = sizeOf(s);
      inputs[`p${i}`] = arr(s, values(n, 20 + i));
      inputs[`g${i}`] = arr(s, values(n, 30 + i, -0.1, 0.1));
      inputs[`m${i}`] = arr(s, values(n, 40 + i, -0.01, 0.01));
      inputs[`v${i}`] = arr(s, values(n, 50 + i, 0, 1e-4));
    });
    const attrs = { n: 2, lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, c1: 1 - 0.9 ** 3, c2: 1 - 0.95 ** 3, decays: [0.1, 0] };
    const [n, j] = both(adamWUpdateSpec, inputs, attrs);
    n.forEach((o, i) => expect(Array.from(o)).toEqual(Array.from(j[i])));
    const t = { t0: inputs.g0, t1: inputs.g1 };
    const [ns, js] = both(sumOfSquaresSpec, t, { n: 2 });
    expect(maxRelDiff(ns, js)).toBeLessThan(1e-6);
    const [nc, jc] = both(scaleAllSpec, t, { n: 2, scale: 0.37 });
    nc.forEach((o, i) => expect(Array.from(o)).toEqual(Array.from(jc[i])));
  });

  it('rejects views shorter than the sizes, naming the function and the array', () => {
    const addon = loadNativeAddon()!;
    expect(() => addon.rmsNorm(new Float32Array(8), new Float32Array(4), new Float32Array(7), 4, 1e-6)).toThrow(/rmsNorm: y holds 7 elements, the sizes need 8/);
    expect(() => addon.siluMul(new Float32Array(4), new Int32Array(4) as never, new Float32Array(4))).toThrow(/siluMul: argument 1 must be a Float32Array/);
    expect(() => (addon.scale as (...a: unknown[]) => void)(new Float32Array(4), new Float32Array(4))).toThrow(/scale: expected 3 arguments, got 2/);
  });
});
