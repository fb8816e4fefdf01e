// Optional BLAS GEMM: BatchMatMul on the wasm and cpu backends through the native addon in
// native/gemm.c (see native_addon.ts), which calls the system BLAS's cblas_sgemm (OpenBLAS, BLIS, MKL, Accelerate) on
// float32 views of tfjs's own memory — no copies. The addon is built at install when a compiler and
// Node's headers are present (native/build.mjs, never failing the install); without it, or without
// a BLAS library, tfjs's own GEMM (XNNPACK on wasm) stays in place.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { sizeOf } from '../kernels/kernel_spec';
import type { CpuBackendLike, WasmBackendLike } from './backend_like';
import { loadNativeAddon, nativeAddonMissing } from './native_addon';
import type { NativeAddon } from './native_addon';

type GemmAddon = Pick<NativeAddon, 'gemm' | 'library' | 'core' | 'threads'>;

/**
 * Which GEMM runs BatchMatMul: `'blas'` (the native addon), `'builtin'` (tfjs's own kernel) or
 * `'auto'` (BLAS when the addon loads).
 *
 * @example
 * ```ts
 * import { initBackend, type GemmChoice } from '@r1-ts/tensor-kernels';
 * const gemm: GemmChoice = process.env.CI ? 'builtin' : 'auto';
 * await initBackend({ gemm, quiet: true });
 * ```
 */
export type GemmChoice = 'auto' | 'blas' | 'builtin';

let addon: GemmAddon | null = null;
let addonWhy = '';

/** The addon when it loads and finds a BLAS library; null (with the reason in `addonWhy`) otherwise. */
function loadAddon(): GemmAddon | null {
  const loaded = loadNativeAddon();
  addonWhy = loaded ? '' : nativeAddonMissing();
  if (loaded && !loaded.library()) addonWhy = 'no BLAS library with cblas_sgemm found (e.g. apt-get install libopenblas0-pthread)';
  addon = loaded && loaded.library() ? loaded : null;
  return addon;
}

/** Shapes of a BatchMatMul call in the addon's terms (null: not float32, left to tfjs to report). */
function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const [batch, batchA, batchB] = [sizeOf(outer), sizeOf(outerA), sizeOf(outerB)];
  const base = { m, n, k, batch, outShape: [...outer, m, n] };
  // Each side either fills the whole batch or is one matrix shared by all of it: one strided call.
  if ((batchA === 1 || batchA === batch) && (batchB === 1 || batchB === batch)) {
    return { ...base, strideA: batchA === 1 ? 0 : m * k, strideB: batchB === 1 ? 0 : k * n, offsets: null };
  }
  // Partial broadcasting ([2, 1] with [1, 3]): one call per output matrix, at numpy-broadcast offsets.
  const pad = (s: number[]) => [...Array<number>(outer.length - s.length).fill(1), ...s];
  const [pa, pb] = [pad(outerA), pad(outerB)];
  const offsets: Array<[number, number]> = [];
  for (let i = 0; i < batch; i++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0, rest = i, span = batch; d < outer.length; d++) {
      span /= outer[d];
      const v = Math.floor(rest / span);
      rest -= v * span;
      oa = oa * pa[d] + (pa[d] === 1 ? 0 : v);
      ob = ob * pb[d] + (pb[d] === 1 ? 0 : v);
    }
    offsets.push([oa * m * k, ob * k * n]);
  }
  return { ...base, strideA: 0, strideB: 0, offsets };
}

/** Runs a plan on three float32 views. */
function run(gemm: GemmAddon, p: NonNullable<ReturnType<typeof plan>>, a: Float32Array, b: Float32Array, c: Float32Array, ta: boolean, tb: boolean): void {
  if (!p.offsets) {
    gemm.gemm(a, b, c, p.batch, p.m, p.n, p.k, ta, tb, p.strideA, p.strideB);
    return;
  }
  const [sa, sb, sc] = [p.m * p.k, p.k * p.n, p.m * p.n];
  p.offsets.forEach(([oa, ob], i) => gemm.gemm(a.subarray(oa, oa + sa), b.subarray(ob, ob + sb), c.subarray(i * sc, (i + 1) * sc), 1, p.m, p.n, p.k, ta, tb, 0, 0));
}

const originals = new Map<string, KernelConfig>();

function blasKernel(backendName: 'wasm' | 'cpu', gemm: GemmAddon, original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const p = plan(a, b, transposeA, transposeB);
    if (!p) return original.kernelFunc(args);
    if (backendName === 'wasm') {
      const wasm = backend as unknown as WasmBackendLike;
      const out = wasm.makeOutput(p.outShape, 'float32'); // first: allocating may grow (and detach) the heap
      const views = [a, b, out].map((t) => wasm.typedArrayFromHeap(t) as Float32Array);
      run(gemm, p, views[0], views[1], views[2], transposeA, transposeB);
      return out;
    }
    const cpu = backend as unknown as CpuBackendLike;
    const values = new Float32Array(p.batch * p.m * p.n);
    const view = (t: TensorInfo) => cpu.data.get(t.dataId).values as Float32Array;
    run(gemm, p, view(a), view(b), values, transposeA, transposeB);
    return cpu.makeTensorInfo(p.outShape, 'float32', values);
  };
  // A backend built later runs the setup of the kernels registered then: keep the original's.
  return { kernelName: tf.BatchMatMul, backendName, kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}

/**
 * Chooses the GEMM behind `tf.matMul` (the BatchMatMul kernel) on the wasm and cpu backends:
 * `'blas'` routes it to the system BLAS through r1-ts's native addon, `'builtin'` restores tfjs's
 * kernel, `'auto'` (what {@link initBackend} does) takes BLAS when the addon loads. The environment
 * variable `R1_GEMM=builtin` turns BLAS off for a whole process. Returns what is now in use.
 *
 * @param choice - `auto` (default: BLAS when the addon loads, unless `R1_GEMM=builtin`), `blas` (throws when unavailable) or `builtin`.
 *
 * @example
 * ```ts
 * import { useGemm } from '@r1-ts/tensor-kernels';
 * const g = useGemm('auto');
 * console.log(g.name === 'blas' ? `BLAS (${g.library})` : `tfjs's own GEMM: ${g.reason}`);
 * ```
 */
export function useGemm(choice: GemmChoice = 'auto'): GemmInfo {
  const wanted = process.env.R1_GEMM === 'builtin' && choice === 'auto' ? 'builtin' : choice;
  const gemm = wanted === 'builtin' ? null : loadAddon();
  if (wanted === 'blas' && !gemm) throw new Error(`gemm "blas" is unavailable: ${addonWhy}`);
  for (const backendName of ['wasm', 'cpu'] as const) {
    if (!originals.has(backendName)) {
      const registered = tf.getKernel(tf.BatchMatMul, backendName);
      if (!registered) continue;
      originals.set(backendName, registered);
    }
    const original = originals.get(backendName)!;
    tf.unregisterKernel(tf.BatchMatMul, backendName);
    tf.registerKernel(gemm ? blasKernel(backendName, gemm, original) : original);
  }
  active = gemm ? { name: 'blas', library: gemm.library()!, core: gemm.core(), threads: gemm.threads(), reason: 'native addon' } : { name: 'builtin', library: null, core: null, threads: 0, reason: wanted === 'builtin' ? 'requested' : addonWhy };
  return active;
}

/**
 * What {@link useGemm} and {@link currentGemm} report.
 *
 * @example
 * ```ts
 * import { currentGemm, type GemmInfo } from '@r1-ts/tensor-kernels';
 * const g: GemmInfo = currentGemm();
 * console.log(g.name, g.library ?? g.reason);
 * ```
 */
export interface GemmInfo {
  /** `'blas'`: the system BLAS through the native addon; `'builtin'`: tfjs's own kernel. */
  name: 'blas' | 'builtin';
  /** The BLAS library loaded (e.g. `libopenblas.so.0`), or null. */
  library: string | null;
  /**
   * The CPU kernels OpenBLAS runs (e.g. `SkylakeX`, `Haswell`), or null. On AMD CPUs with AVX-512 the
   * addon asks OpenBLAS for its AVX-512 kernels (`OPENBLAS_CORETYPE=SkylakeX` unless set), which
   * OpenBLAS before 0.3.22 does not pick there by itself.
   */
  core: string | null;
  /** The BLAS thread count (−1 when the library does not say; 0 for builtin). */
  threads: number;
  /** Why BLAS is or is not in use. */
  reason: string;
}

let active: GemmInfo = { name: 'builtin', library: null, core: null, threads: 0, reason: 'not selected yet' };

/**
 * The GEMM currently behind BatchMatMul (see {@link useGemm}).
 *
 * @example
 * ```ts
 * import { currentGemm } from '@r1-ts/tensor-kernels';
 * console.log(currentGemm().name); // 'blas' | 'builtin'
 * ```
 */
export function currentGemm(): GemmInfo {
  return active;
}

/**
 * C = op(A)·op(B) for `batch` row-major float32 matrices through the system BLAS, for custom kernels
 * that hold heap views (strides in elements between batch items, 0 to share one matrix; C dense
 * [batch, m, n]). Returns false — computing nothing — when BLAS is not in use (see {@link useGemm}),
 * so the caller falls back to its own loop.
 *
 * @param a - Row-major A values, `batch` matrices of [m, k] ([k, m] with `transA`).
 * @param b - Row-major B values, `batch` matrices of [k, n] ([n, k] with `transB`).
 * @param c - Output, written in place: `batch` dense [m, n] matrices.
 * @param shape - `m`, `n`, `k`; `batch` (default 1); `transA`/`transB`; `strideA`/`strideB` in elements between batch items (0 shares one matrix).
 *
 * @example
 * ```ts
 * import { blasGemm } from '@r1-ts/tensor-kernels';
 * const a = new Float32Array([1, 2, 3, 4]); // [2, 2]
 * const c = new Float32Array(4);
 * if (!blasGemm(a, a, c, { m: 2, n: 2, k: 2 })) console.log('no BLAS: use a JS loop');
 * ```
 */
export function blasGemm(a: Float32Array, b: Float32Array, c: Float32Array, shape: { m: number; n: number; k: number; batch?: number; transA?: boolean; transB?: boolean; strideA?: number; strideB?: number }): boolean {
  if (active.name !== 'blas' || !addon) return false;
  const { m, n, k, batch = 1, transA = false, transB = false } = shape;
  addon.gemm(a, b, c, batch, m, n, k, transA, transB, shape.strideA ?? (batch > 1 ? m * k : 0), shape.strideB ?? (batch > 1 ? k * n : 0));
  return true;
}
