// UnsortedSegmentSum for the wasm backend, which lacks it. It is the gradient of tf.gather, so
// without it no embedding can train on wasm.
import { UnsortedSegmentSum, util } from '@tensorflow/tfjs';
import type { DataType, KernelConfig, KernelFunc, TensorInfo, TypedArray, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs';

/**
 * The part of tfjs-backend-wasm's BackendWasm a JS kernel needs.
 *
 * @example
 * ```ts
 * const wasm = backend as unknown as WasmHeapBackend;
 * const out = wasm.makeOutput([2, 3], 'float32');
 * wasm.typedArrayFromHeap(out).fill(0);
 * ```
 */
export interface WasmHeapBackend {
  /** Allocates an output on the wasm heap (may grow the heap: allocate before taking views). */
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A zero-copy view of a tensor's bytes on the wasm heap. */
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}

/**
 * out[s, ...] = Σ_{i : ids[i] = s} x[i, ...], TensorFlow semantics: `segmentIds` (any shape, n
 * elements) matches the leading dims of `x`, the output is [numSegments, ...x.shape[ids.rank:]]
 * in x's dtype, and ids outside [0, numSegments) are dropped.
 *
 * @example
 * ```ts
 * const out = new Float32Array(2);
 * segmentSum(new Float32Array([1, 2, 3]), new Int32Array([1, 0, 1]), 1, out); // out = [2, 4]
 * ```
 */
export function segmentSum(x: ArrayLike<number>, ids: ArrayLike<number>, inner: number, out: TypedArray): void {
  out.fill(0);
  const numSegments = out.length / inner;
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
}

const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as Record<'x' | 'segmentIds', TensorInfo>;
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const wasm = backend as unknown as WasmHeapBackend;
  const n = util.sizeFromShape(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  util.assert(
    util.arraysEqual(x.shape.slice(0, segmentIds.shape.length), segmentIds.shape),
    () => `unsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must prefix x shape [${x.shape}]`,
  );
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype); // [numSegments, ...inner]
  const inner = n === 0 ? util.sizeFromShape(innerShape) : util.sizeFromShape(x.shape) / n;
  segmentSum(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(segmentIds), inner, wasm.typedArrayFromHeap(out));
  return out;
};

/**
 * Kernel config registered by missing_kernels.ts.
 *
 * @example
 * ```ts
 * tf.registerKernel(unsortedSegmentSumWasm);
 * tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 1, 0], 'int32'), 2); // [[2, 2], [1, 1]]
 * ```
 */
export const unsortedSegmentSumWasm: KernelConfig = { kernelName: UnsortedSegmentSum, backendName: 'wasm', kernelFunc };
