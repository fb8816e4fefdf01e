// The native DSA kernels (native/dsa.c) against the JS loops they replace, on the same inputs (native on,
// then off): the gathered sparse attention and its gradient in both layouts, with per-head and shared
// (MQA) keys, causal offsets both ways, key padding, −1 / out-of-range / duplicate indices and rows with
// no allowed key; the indexer's top-k (whole kernel across several query and key blocks, and the
// streaming pass alone) with exact ties. Attention agrees to float32 rounding, selections exactly.
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, nativeKernels, useNativeKernels } from './native_addon';
import { arr, maxRelDiff, run, values } from './native_test_util';
import type { KernelArray } from '../kernels/kernel_spec';
import { sparseAttentionGradSpec, sparseAttentionSpec } from '../kernels/sparse_attention';
import { chunkTopK, indexerTopKSpec } from '../kernels/indexer_topk';


/** Seeded integers in [lo, hi] as float32 (exact dots, hence exact ties). */
const ints = (n: number, seed: number, lo: number, hi: number) => values(n, seed, lo, hi + 1).map(Math.floor);

/**
 * Seeded multiples of 1/64 in [−1, 1): every indexer dot and score is exact in float32 and float64 alike,
 * so BLAS, C and JS orders of summation give the same scores and the selections must match exactly
 * (continuous values would leave a rare near-tie to rounding).
 */
const grid = (n: number, seed: number) => values(n, seed).map((x) => Math.round(x * 64) / 64);




const built = loadNativeAddon() !== null;
const initially = nativeKernels() !== null;

/** One sparse attention problem: (B, H, S, D) sizes, head sharing, layout, masks. */
interface Case { B: number; H: number; Hk: number; Sq: number; Sk: number; Dk: number; Dv: number; k: number; layout: 'bhsd' | 'bshd'; causal: boolean; mask: boolean }

function attentionInputs(c: Case, seed: number) {
  const shape = (Hx: number, S: number, D: number) => (c.layout === 'bshd' ? [c.B, S, Hx, D] : [c.B, Hx, S, D]);
  const idx = new Int32Array(c.B * c.Sq * c.k);
  const pick = values(idx.length, seed + 4, -2, c.Sk + 2).map(Math.floor); // some −1, −2 and ≥ Sk
  for (let e = 0; e < idx.length; e++) idx[e] = e % 5 === 4 ? idx[e - 1] : pick[e]; // and duplicates
  idx.fill(-1, 0, c.k); // batch 0, query 0: no index at all
  const inputs: Record<string, KernelArray> = {
    q: arr(shape(c.H, c.Sq, c.Dk), values(c.B * c.H * c.Sq * c.Dk, seed, -2, 2)),
    k: arr(shape(c.Hk, c.Sk, c.Dk), values(c.B * c.Hk * c.Sk * c.Dk, seed + 1, -2, 2)),
    v: arr(shape(c.Hk, c.Sk, c.Dv), values(c.B * c.Hk * c.Sk * c.Dv, seed + 2)),
    indices: arr([c.B, c.Sq, c.k], idx),
  };
  if (c.mask) {
    const m = new Float32Array(c.B * c.Sk).fill(1);
    for (let j = 0; j < c.Sk; j += 3) m[j] = 0; // padding in batch 0
    if (c.B > 1) m.fill(0, c.Sk, 2 * c.Sk); // batch 1: no real key → every row zeros
    inputs.keyMask = arr([c.B, c.Sk], m);
  }
  return { inputs, dy: arr(shape(c.H, c.Sq, c.Dv), values(c.B * c.H * c.Sq * c.Dv, seed + 3)) };
}

describe.runIf(built)('native DSA kernels agree with the JS loops', () => {
  afterAll(() => void useNativeKernels(initially));

  const cases: Case[] = [];
  for (const layout of ['bhsd', 'bshd'] as const) {
    for (const Hk of [3, 1]) {
      cases.push({ B: 2, H: 3, Hk, Sq: 6, Sk: 11, Dk: 20, Dv: 9, k: 7, layout, causal: true, mask: true });
      cases.push({ B: 1, H: 3, Hk, Sq: 9, Sk: 5, Dk: 17, Dv: 16, k: 4, layout, causal: true, mask: false }); // Sq > Sk: early rows see nothing
      cases.push({ B: 2, H: 3, Hk, Sq: 4, Sk: 13, Dk: 8, Dv: 33, k: 13, layout, causal: false, mask: true });
    }
  }
  cases.push({ B: 1, H: 1, Hk: 1, Sq: 5, Sk: 5, Dk: 3, Dv: 2, k: 3, layout: 'bshd', causal: true, mask: false });
  // Shared keys, all heads of a query at once: the latent form's shape (8 heads in one 16-lane block,
  // whole 4-head × 64-column value blocks), and partial blocks everywhere (21 heads, 70 columns).
  cases.push({ B: 2, H: 8, Hk: 1, Sq: 40, Sk: 50, Dk: 80, Dv: 64, k: 12, layout: 'bshd', causal: true, mask: true });
  cases.push({ B: 1, H: 21, Hk: 1, Sq: 30, Sk: 30, Dk: 35, Dv: 70, k: 9, layout: 'bhsd', causal: true, mask: false });

  it.each(cases.map((c, i) => [i, c] as const))('sparse attention forward and gradient, case %i', (i, c) => {
    const { inputs, dy } = attentionInputs(c, 10 * i + 1);
    const attrs = { scale: 0.4, causal: c.causal, layout: c.layout };
    const [n, j] = [run(sparseAttentionSpec, inputs, attrs, true), run(sparseAttentionSpec, inputs, attrs, false)];
    expect(maxRelDiff(n, j)).toBeLessThan(2e-6);
    // The row with no index (batch 0, query 0) and, with padding, all of batch 1 are zeros in o and p.
    const o = n[0];
    const rowZero = c.layout === 'bshd' ? o.subarray(0, c.H * c.Dv) : o.subarray(0, c.Dv);
    expect([...rowZero].every((x) => x === 0)).toBe(true);
    if (c.mask && c.B > 1) expect([...o.subarray(o.length / 2)].every((x) => x === 0)).toBe(true);
    const gradInputs = { ...inputs, p: arr(c.layout === 'bshd' ? [c.B, c.Sq, c.H, c.k] : [c.B, c.H, c.Sq, c.k], j[1]), dy };
    const [ng, jg] = [run(sparseAttentionGradSpec, gradInputs, attrs, true), run(sparseAttentionGradSpec, gradInputs, attrs, false)];
    expect(maxRelDiff(ng, jg)).toBeLessThan(1e-5);
  });

  /** Indexer inputs: q [B, Sq, Hi, Di], w [B, Sq, Hi], k [B, Sk, Di]; small integers when `tied`, else on a 1/64 grid. */
  function indexerInputs(B: number, Sq: number, Sk: number, Hi: number, Di: number, seed: number, tied: boolean, mask: boolean) {
    const gen = tied ? (n: number, s: number) => ints(n, s, -2, 2) : grid;
    const inputs: Record<string, KernelArray> = {
      q: arr([B, Sq, Hi, Di], gen(B * Sq * Hi * Di, seed)),
      w: arr([B, Sq, Hi], gen(B * Sq * Hi, seed + 1)),
      k: arr([B, Sk, Di], gen(B * Sk * Di, seed + 2)),
    };
    if (mask) {
      const m = new Float32Array(B * Sk).fill(1);
      for (let j = 1; j < Sk; j += 4) m[j] = 0;
      m.fill(0, 0, Math.min(Sk, 3)); // left padding
      inputs.keyMask = arr([B, Sk], m);
    }
    return inputs;
  }

  const topkCases: Array<[string, number, number, number, number, number, number, boolean, boolean]> = [
    // name, B, Sq, Sk, Hi, Di, topk, tied, mask
    ['Sq < Sk, padding', 2, 37, 45, 3, 8, 5, false, true],
    ['topk above the allowed count', 2, 20, 20, 2, 5, 64, false, true],
    ['Sq > Sk: first queries see no key', 1, 30, 12, 2, 4, 4, false, false],
    ['exact ties (integer inputs) go to the lower key', 2, 25, 40, 3, 4, 6, true, true],
    ['several query and key blocks', 1, 150, 1100, 3, 8, 16, false, false],
    ['several blocks with ties and padding', 1, 130, 700, 2, 3, 9, true, true],
  ];

  it.each(topkCases)('indexer top-k: %s', (_name, B, Sq, Sk, Hi, Di, topk, tied, mask) => {
    const inputs = indexerInputs(B, Sq, Sk, Hi, Di, Sq * 7 + Sk, tied, mask);
    const attrs = { topk, scale: 0.5 };
    const [[n], [j]] = [run(indexerTopKSpec, inputs, attrs, true), run(indexerTopKSpec, inputs, attrs, false)];
    expect([...n]).toEqual([...j]);
    expect(n.some((x) => x >= 0)).toBe(true);
  });

  it('the streaming top-k over one GEMM block (chunkTopK) selects the same keys', () => {
    const [Cq, Hi, width, topk] = [9, 3, 50, 7];
    for (const [firstPos, tied, mask] of [[41, false, null], [-3, true, ints(width, 5, 0, 1)], [20, true, null]] as const) {
      const dots = tied ? ints(Cq * Hi * width, 2, -3, 3) : grid(Cq * Hi * width, 2);
      const w = tied ? ints(Cq * Hi, 3, -1, 2) : grid(Cq * Hi, 3);
      const outs = [true, false].map((native) => {
        useNativeKernels(native);
        const out = new Int32Array(2 + Cq * topk).fill(-7);
        chunkTopK(dots, w, Cq, Hi, width, firstPos, topk, 0.25, mask && Array.from(mask), out, 2);
        return out;
      });
      expect([...outs[0]]).toEqual([...outs[1]]);
      expect(outs[0][0]).toBe(-7); // nothing written before outOff
    }
  });

  it('large enough for worker threads: same results as the JS, and bit-identical with one thread', () => {
    const c: Case = { B: 1, H: 4, Hk: 4, Sq: 300, Sk: 300, Dk: 32, Dv: 32, k: 64, layout: 'bshd', causal: true, mask: false };
    const { inputs, dy } = attentionInputs(c, 99);
    const attrs = { scale: 0.3, causal: true, layout: 'bshd' };
    const iInputs = indexerInputs(1, 300, 1200, 4, 16, 5, false, true);
    const iAttrs = { topk: 64, scale: 0.25 };
    const all = () => {
      const [o, p] = run(sparseAttentionSpec, inputs, attrs, true);
      const grads = run(sparseAttentionGradSpec, { ...inputs, p: arr([1, 300, 4, 64], p), dy }, attrs, true);
      return [o, p, ...grads, ...run(indexerTopKSpec, iInputs, iAttrs, true)];
    };
    const threaded = all();
    process.env.R1_NATIVE_THREADS = '1';
    try {
      const single = all();
      threaded.forEach((x, i) => expect(Buffer.from(x.buffer).equals(Buffer.from(single[i].buffer))).toBe(true));
    } finally {
      delete process.env.R1_NATIVE_THREADS;
    }
    const js = run(sparseAttentionSpec, inputs, attrs, false);
    expect(maxRelDiff(threaded.slice(0, 2), js)).toBeLessThan(2e-6);
    const jsGrads = run(sparseAttentionGradSpec, { ...inputs, p: arr([1, 300, 4, 64], threaded[1]), dy }, attrs, false);
    expect(maxRelDiff(threaded.slice(2, 5), jsGrads)).toBeLessThan(1e-5);
    expect([...threaded[5]]).toEqual([...run(indexerTopKSpec, iInputs, iAttrs, false)[0]]);
  });

  it.each([
    ['the latent form\'s sizes', { B: 2, H: 8, Hk: 1, Sq: 300, Sk: 300, Dk: 80, Dv: 64, k: 64, layout: 'bshd', causal: true, mask: true }],
    ['over 2²⁰ slots: the backward in two chunks', { B: 1, H: 8, Hk: 1, Sq: 2100, Sk: 2100, Dk: 16, Dv: 16, k: 64, layout: 'bshd', causal: true, mask: false }],
  ] as [string, Case][])('shared keys on worker threads (%s), forward and backward: same results as the JS, and bit-identical with one thread', (_name, c) => {
    const { inputs, dy } = attentionInputs(c, 123);
    const attrs = { scale: 0.2, causal: true, layout: 'bshd' };
    const all = () => {
      const [o, p] = run(sparseAttentionSpec, inputs, attrs, true);
      return [o, p, ...run(sparseAttentionGradSpec, { ...inputs, p: arr([c.B, c.Sq, c.H, c.k], p), dy }, attrs, true)];
    };
    const threaded = all();
    process.env.R1_NATIVE_THREADS = '1';
    try {
      const single = all();
      threaded.forEach((x, i) => expect(Buffer.from(x.buffer).equals(Buffer.from(single[i].buffer)), `output ${i}`).toBe(true));
    } finally {
      delete process.env.R1_NATIVE_THREADS;
    }
    expect(maxRelDiff(threaded.slice(0, 2), run(sparseAttentionSpec, inputs, attrs, false))).toBeLessThan(2e-6);
    const jsGrads = run(sparseAttentionGradSpec, { ...inputs, p: arr([c.B, c.Sq, c.H, c.k], threaded[1]), dy }, attrs, false);
    expect(maxRelDiff(threaded.slice(2, 5), jsGrads)).toBeLessThan(1e-5);
  });

  it('rejects bad arguments with a typed error naming the problem', () => {
    const addon = loadNativeAddon()!;
    const f = new Float32Array(4);
    expect(() => addon.sparseAttention(f, f, f, new Int32Array(1), null, f, f, 1, 1, 1, 1, 1, 8, 1, 1, false, 1, true)).toThrow(/sparseAttention: q holds 4 elements, the sizes need 8/);
    expect(() => addon.sparseAttention(f, f, f, new Int32Array(1), null, f, f, 1, 2, 3, 1, 1, 1, 1, 1, false, 1, true)).toThrow(/key heads must be 1 \(shared\) or H/);
    expect(() => addon.sparseAttentionGrad(f, f, f, f as never, f, f, f, f, f, 1, 1, 1, 1, 1, 1, 1, 1, false, 1)).toThrow(TypeError);
    expect(() => addon.indexerTopK(f, f, f, null, new Int32Array(1), 1, 1, 1, 1, 1, 0, 1)).toThrow(/topk must be ≥ 1/);
    expect(() => addon.indexerTopK(f, f, f, null, new Int32Array(1), 1, 1, 1, 1, 1, 2, 1)).toThrow(/out holds 1 elements, the sizes need 2/);
    expect(() => addon.chunkTopK(f, f, null, new Int32Array(8), 1, 1, 4, 0.5, 2, 1, 0)).toThrow(/firstPos a 32-bit integer/);
  });
});
