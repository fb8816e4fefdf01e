// Backend buffers for the MoE kernels: allocate, view, free and multiply TensorInfos that live on the
// cpu or wasm backend without going through the engine (no per-op dispatch, no tracked tensors).
import * as tf from '@tensorflow/tfjs';
import { currentGemm, nativeKernels } from '@r1-ts/tensor-kernels';
import type { NativeAddon } from '@r1-ts/tensor-kernels';
import type { DataId, DataType, KernelBackend, TensorInfo, TypedArray } from '@tensorflow/tfjs';

/** What the MoE kernels need from a backend. Views go stale when the wasm heap grows: take them after the last `alloc`/`matMul`. */
export interface Memory {
  /** A new float32 (or int32) buffer; contents undefined. */
  alloc(shape: number[], dtype?: 'float32' | 'int32'): TensorInfo;
  /** A zero-copy view of a float32 buffer. */
  f32(t: TensorInfo): Float32Array;
  /** A zero-copy view of an int32 buffer. */
  i32(t: TensorInfo): Int32Array;
  /** Releases buffers made by `alloc` or `matMul`. */
  free(...ts: TensorInfo[]): void;
  /** op(a)·op(b) of 2-D buffers through the BatchMatMul kernel registered now (tfjs's, or a BLAS one). */
  matMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo;
  /** σ(t) elementwise through the backend's Sigmoid kernel (vectorised on wasm). */
  sigmoid(t: TensorInfo): TensorInfo;
  /** The native addon when its loops are on and BatchMatMul runs on BLAS (the native MoE forward needs both), else null. */
  native: NativeAddon | null;
}

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}
interface CpuLike extends KernelBackend {
  data: { get(dataId: DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values: TypedArray): TensorInfo;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Backends the MoE kernels run on. */
export const MOE_KERNEL_BACKENDS = ['cpu', 'wasm'] as const;

/**
 * tfjs's own wasm BatchMatMul reaches XNNPACK only for a single non-transposed product; transposed
 * operands take a scalar loop ~10× slower. Unless a BLAS GEMM replaced it, transpose in JS first.
 */
function transposeFirst(backendName: string): boolean {
  if (backendName !== 'wasm') return false;
  return currentGemm().name !== 'blas';
}

/**
 * The {@link Memory} of the backend running a kernel. `transposeInJs` (default: only for tfjs's own
 * wasm GEMM) makes `matMul` hand the GEMM untransposed operands only.
 */
export function memoryOf(backend: KernelBackend, backendName: string, transposeInJs = transposeFirst(backendName)): Memory {
  const matMulKernel = tf.getKernel(tf.BatchMatMul, backendName);
  if (!matMulKernel) throw new Error(`MoE kernels: no BatchMatMul kernel on backend '${backendName}'`);
  const sigmoidKernel = tf.getKernel(tf.Sigmoid, backendName);
  if (!sigmoidKernel) throw new Error(`MoE kernels: no Sigmoid kernel on backend '${backendName}'`);
  const explicitTranspose = transposeInJs;
  const sigmoid = (x: TensorInfo) => sigmoidKernel.kernelFunc({ inputs: { x }, backend, attrs: {} }) as TensorInfo;
  const native = currentGemm().name === 'blas' ? nativeKernels() : null;
  let mem: Memory;
  if (backendName === 'wasm') {
    const wasm = backend as WasmLike;
    mem = {
      alloc: (shape, dtype = 'float32') => wasm.makeOutput(shape, dtype),
      f32: (t) => wasm.typedArrayFromHeap(t) as Float32Array,
      i32: (t) => wasm.typedArrayFromHeap(t) as Int32Array,
      free: (...ts) => ts.forEach((t) => backend.disposeData(t.dataId)),
      matMul: (a, b, ta, tb) => gemm(a, b, ta, tb),
      sigmoid,
      native,
    };
  } else {
    const cpu = backend as CpuLike;
    const values = (t: TensorInfo) => cpu.data.get(t.dataId).values as TypedArray;
    mem = {
      alloc: (shape, dtype = 'float32') => cpu.makeTensorInfo(shape, dtype, dtype === 'int32' ? new Int32Array(size(shape)) : new Float32Array(size(shape))),
      f32: (t) => values(t) as Float32Array,
      i32: (t) => values(t) as Int32Array,
      free: (...ts) => ts.forEach((t) => backend.disposeData(t.dataId)),
      matMul: (a, b, ta, tb) => gemm(a, b, ta, tb),
      sigmoid,
      native,
    };
  }
  function gemm(a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): TensorInfo {
    const temps: TensorInfo[] = [];
    if (explicitTranspose && ta) temps.push((a = transposed(mem, a)));
    if (explicitTranspose && tb) temps.push((b = transposed(mem, b)));
    if (explicitTranspose) ta = tb = false;
    const out = matMulKernel!.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA: ta, transposeB: tb } }) as TensorInfo;
    mem.free(...temps);
    return out;
  }
  return mem;
}

/** A new buffer holding the transpose of a 2-D float32 buffer (blocked, for cache locality). */
function transposed(mem: Memory, t: TensorInfo): TensorInfo {
  const [r, c] = t.shape;
  const out = mem.alloc([c, r]);
  const src = mem.f32(t);
  const dst = mem.f32(out);
  const B = 32;
  for (let i0 = 0; i0 < r; i0 += B) {
    const i1 = Math.min(r, i0 + B);
    for (let j0 = 0; j0 < c; j0 += B) {
      const j1 = Math.min(c, j0 + B);
      for (let i = i0; i < i1; i++) {
        const row = i * c;
        for (let j = j0; j < j1; j++) dst[j * r + i] = src[row + j];
      }
    }
  }
  return out;
}
