// BatchMatMul through the system BLAS (native addon) and through tfjs's own kernel, on wasm and cpu,
// against a plain float64 matmul: every transpose combination, batch broadcasting both ways, rank 2–4,
// partial broadcasting (which tfjs's own kernel gets wrong), gradients.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from './init';
import { blasGemm, currentGemm, useGemm } from './native_gemm';
import { registerR1Kernels } from '../register_all';

registerR1Kernels();

/** A deterministic pseudo-random array (no RNG shared with the code under test). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 2147483648 - 0.5;
  }
  return out;
}

/** Float64 reference of tf.matMul with numpy batch broadcasting. */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean): { shape: number[]; data: Float64Array } {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = ta ? aShape[ra - 1] : aShape[ra - 2];
  const k = ta ? aShape[ra - 2] : aShape[ra - 1];
  const n = tb ? bShape[rb - 2] : bShape[rb - 1];
  const oa = aShape.slice(0, -2);
  const ob = bShape.slice(0, -2);
  const r = Math.max(oa.length, ob.length);
  const pad = (s: number[]) => [...Array(r - s.length).fill(1), ...s];
  const pa = pad(oa);
  const pb = pad(ob);
  const outer = pa.map((d, i) => Math.max(d, pb[i]));
  const batch = outer.reduce((p, d) => p * d, 1);
  const data = new Float64Array(batch * m * n);
  const offset = (idx: number[], dims: number[]) => idx.reduce((o, v, i) => o * dims[i] + (dims[i] === 1 ? 0 : v), 0);
  for (let bi = 0; bi < batch; bi++) {
    const idx: number[] = [];
    for (let i = r - 1, rest = bi; i >= 0; i--) {
      idx[i] = rest % outer[i];
      rest = Math.floor(rest / outer[i]);
    }
    const baseA = offset(idx, pa) * m * k;
    const baseB = offset(idx, pb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[baseA + (ta ? p * m + i : i * k + p)];
          const bv = b[baseB + (tb ? j * k + p : p * n + j)];
          s += av * bv;
        }
        data[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { shape: [...outer, m, n], data };
}

const cases: Array<{ a: number[]; b: number[]; ta?: boolean; tb?: boolean; why: string; blasOnly?: boolean }> = [
  { a: [5, 7], b: [7, 3], why: '2-D' },
  { a: [7, 5], b: [7, 3], ta: true, why: 'Aᵀ' },
  { a: [5, 7], b: [3, 7], tb: true, why: 'Bᵀ' },
  { a: [7, 5], b: [3, 7], ta: true, tb: true, why: 'AᵀBᵀ' },
  { a: [4, 6, 8], b: [4, 8, 3], why: 'batched' },
  { a: [2, 3, 6, 8], b: [2, 3, 5, 8], tb: true, why: 'rank 4, attention scores' },
  { a: [4, 6, 8], b: [8, 3], why: 'shared right side (folded into rows)' },
  { a: [4, 8, 6], b: [1, 8, 3], ta: true, why: 'shared right side, Aᵀ' },
  { a: [6, 8], b: [4, 8, 3], why: 'shared left side' },
  { a: [2, 1, 6, 8], b: [1, 3, 8, 3], why: 'partial broadcast (BLAS only: tfjs 4.22 gets it wrong)', blasOnly: true },
  { a: [1, 7], b: [7, 3], why: 'one row (matrix–vector path)' },
  { a: [7, 2], b: [3, 7], ta: true, tb: true, why: 'two rows, AᵀBᵀ (matrix–vector path)' },
  { a: [9, 4], b: [9, 5], ta: true, why: 'four rows, Aᵀ (matrix–vector path)' },
  { a: [4, 3, 9], b: [4, 5, 9], tb: true, why: 'batched, three rows each, Bᵀ (matrix–vector path)' },
  { a: [64, 64, 16], b: [64, 16, 64], why: 'many small products (batch split over threads)' },
  { a: [8, 8, 64, 16], b: [8, 8, 64, 16], tb: true, why: 'attention scores, batch split over threads' },
  { a: [3, 0, 4], b: [3, 4, 2], why: 'empty rows' },
  { a: [3, 2, 0], b: [3, 0, 2], why: 'empty inner dimension' },
];

const available = (() => {
  try {
    useGemm('blas');
    return true;
  } catch {
    return false;
  }
})();

describe.each(['wasm', 'cpu'] as const)('BatchMatMul on %s', (backend) => {
  afterAll(async () => {
    useGemm('auto');
    await disposeBackend();
  });

  it('the native addon is built and finds a BLAS in CI (where .ci/run installs OpenBLAS)', () => {
    if (process.env.CI) expect(available).toBe(true);
    else expect(typeof available).toBe('boolean');
  });

  for (const gemm of ['blas', 'builtin'] as const) {
    it.skipIf(gemm === 'blas' && !available).each(cases.filter((c) => gemm === 'blas' || !c.blasOnly))(`${gemm}: $why`, async ({ a: aShape, b: bShape, ta = false, tb = false }) => {
      await initBackend({ backend, quiet: true });
      useGemm(gemm);
      expect(currentGemm().name).toBe(gemm);
      const av = values(aShape.reduce((p, d) => p * d, 1), 7);
      const bv = values(bShape.reduce((p, d) => p * d, 1), 11);
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb));
      const ref = reference(av, aShape, bv, bShape, ta, tb);
      expect(out.shape).toEqual(ref.shape);
      const got = await out.data();
      out.dispose();
      let worst = 0; // largest error relative to the tolerance, one expect for the whole output
      for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.data[i]) / (1e-5 * (1 + Math.abs(ref.data[i]))));
      expect(worst).toBeLessThan(1);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it.skipIf(!available)('gradients through BLAS equal tfjs builtin gradients', async () => {
    await initBackend({ backend, quiet: true });
    const a = tf.tensor(values(2 * 3 * 6 * 8, 3), [2, 3, 6, 8]);
    const b = tf.tensor(values(2 * 3 * 5 * 8, 5), [2, 3, 5, 8]);
    const c = tf.tensor(values(8 * 4, 9), [8, 4]);
    const grads = (g: 'blas' | 'builtin') => {
      useGemm(g);
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.matMul(x, y, false, true), tf.matMul(x, z), true, false))) as tf.Scalar;
      const { value, grads: gs } = tf.valueAndGrads(f)([a, b, c]);
      const out = [value.dataSync()[0], ...gs.map((t) => Array.from(t.dataSync()))];
      tf.dispose([value, ...gs]);
      return out as [number, ...number[][]];
    };
    const [v1, ...g1] = grads('blas');
    const [v2, ...g2] = grads('builtin');
    expect(Math.abs(v1 - v2)).toBeLessThan(1e-4 * Math.abs(v2));
    g1.forEach((g, i) => g.forEach((x, j) => expect(Math.abs(x - g2[i][j])).toBeLessThan(1e-4 * (1 + Math.abs(g2[i][j])))));
    tf.dispose([a, b, c]);
  });
});

describe('blasGemm', () => {
  it.skipIf(!available)('computes op(A)·op(B) on plain views when BLAS is active, and declines when it is not', async () => {
    await initBackend({ backend: 'cpu', quiet: true });
    const a = values(3 * 4 * 5, 1);
    const b = values(3 * 6 * 5, 2);
    const c = new Float32Array(3 * 4 * 6);
    useGemm('blas');
    expect(blasGemm(a, b, c, { m: 4, n: 6, k: 5, batch: 3, transB: true })).toBe(true);
    const ref = reference(a, [3, 4, 5], b, [3, 6, 5], false, true);
    ref.data.forEach((v, i) => expect(Math.abs(c[i] - v)).toBeLessThan(1e-5));
    useGemm('builtin');
    c.fill(7);
    expect(blasGemm(a, b, c, { m: 4, n: 6, k: 5, batch: 3, transB: true })).toBe(false);
    expect(c.every((v) => v === 7)).toBe(true);
    useGemm('auto');
    await disposeBackend();
  });
});

describe('useGemm', () => {
  it('rejects blas when the addon is unavailable, and R1_GEMM=builtin turns auto off', async () => {
    await initBackend({ backend: 'cpu', quiet: true });
    const saved = process.env.R1_GEMM;
    process.env.R1_GEMM = 'builtin';
    try {
      expect(useGemm('auto').name).toBe('builtin');
    } finally {
      if (saved === undefined) delete process.env.R1_GEMM;
      else process.env.R1_GEMM = saved;
    }
    if (!available) expect(() => useGemm('blas')).toThrow(/gemm "blas" is unavailable/);
    else expect(useGemm('auto').name).toBe('blas');
    await disposeBackend();
  });
});
