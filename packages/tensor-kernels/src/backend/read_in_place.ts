// Reading a tensor without copying it: tfjs's dataSync() on wasm copies the values off the heap
// (HEAPU8.slice: a fresh buffer, page-faulted in — ~7 ms per MB on a busy 2-core machine), which
// dominated chunked algorithms that read one large intermediate per step. On wasm and cpu the values
// can be viewed in place instead.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, TypedArray } from '@tensorflow/tfjs';
import type { CpuBackendLike, WasmBackendLike } from './backend_like';


/**
 * The values of `t` without a copy where the backend allows it (wasm: a view of the heap; cpu: the
 * backend's own array), else `dataSync()`. The view is read-only by contract and valid only until the
 * next tfjs allocation (the wasm heap may grow and detach it) and while `t` lives: read it at once.
 *
 * @param t - A live (not disposed) tensor whose values are read.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { readInPlace } from '@r1-ts/tensor-kernels';
 * const t = tf.range(0, 4);
 * const v = readInPlace(t); // Float32Array [0, 1, 2, 3], no copy on wasm/cpu
 * console.log(v[3]);
 * t.dispose();
 * ```
 */
export function readInPlace(t: tf.Tensor): TypedArray {
  const backend = tf.backend() as unknown;
  const name = tf.getBackend();
  if (t.dtype !== 'string' && !t.isDisposed) {
    if (name === 'wasm') return (backend as WasmBackendLike).typedArrayFromHeap(t as unknown as TensorInfo);
    if (name === 'cpu') {
      const values = (backend as CpuBackendLike).data.get(t.dataId).values;
      if (values && ArrayBuffer.isView(values)) return values as TypedArray;
    }
  }
  return t.dataSync() as TypedArray;
}
