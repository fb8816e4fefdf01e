// Test helpers shared by the native-vs-JS kernel tests (native_addon.test.ts, native_dsa.test.ts): seeded
// inputs of their own (nothing shared with the code under test), a spec run with the native loops on or
// off, and the worst relative difference of two runs. Not exported from the package.
import type { TypedArray } from '@tensorflow/tfjs';
import { useNativeKernels } from './native_addon';
import { sizeOf } from '../kernels/kernel_spec';
import type { KernelArray, KernelSpec } from '../kernels/kernel_spec';

/** Seeded values in [lo, hi) (an LCG). */
export function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

/** A kernel input from a shape and values. */
export const arr = (shape: number[], v: TypedArray): KernelArray => ({ shape, values: v });

/** Runs a spec's compute with the native loops on or off; returns fresh outputs (filled with NaN / −7 first). */
export function run(spec: KernelSpec, inputs: Record<string, KernelArray>, attrs: Record<string, unknown>, native: boolean): TypedArray[] {
  useNativeKernels(native);
  const infos = Object.fromEntries(Object.entries(inputs).map(([k, a]) => [k, { shape: a.shape, dtype: a.values instanceof Int32Array ? 'int32' : 'float32' }]));
  const outs = spec.outputs(infos as never, attrs as never).map((o) => (o.dtype === 'int32' ? new Int32Array(sizeOf(o.shape)).fill(-7) : new Float32Array(sizeOf(o.shape)).fill(Number.NaN)));
  spec.compute(inputs, outs, attrs as never);
  return outs;
}

/** Largest |a − b| / max(1, |b|) over two runs' outputs (NaN counts as ∞). */
export function maxRelDiff(a: TypedArray[], b: TypedArray[]): number {
  let worst = 0;
  a.forEach((x, i) => {
    for (let j = 0; j < x.length; j++) {
      const d = Math.abs(x[j] - b[i][j]) / Math.max(1, Math.abs(b[i][j]));
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
  });
  return worst;
}
