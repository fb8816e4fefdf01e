// Zero-copy data-movement kernels for tfjs's wasm backend. In tfjs-backend-wasm 4.22, Slice and
// SplitV copy their whole input out of the heap (readSync) before taking the slice, and the C++
// GatherV2 and Tile walk every element with index arithmetic: measured on 2 cores with 2 threads,
// a 36-row slice of a [4096, 256] tensor took 36 ms, a 16-way split 194 ms, a row gather 90 ms and
// a ×2 tile 97 ms, a [8, 256, 8, 32] → […, 64] pad 33 ms — more than the matmuls of a MoE layer.
// These versions view inputs and outputs in place on the heap and copy contiguous runs with
// TypedArray.set (same results, bit for bit).
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { sizeOf } from '../kernels/kernel_spec';
import type { WasmBackendLike } from './backend_like';
/** Below this run length an element loop beats subarray + set. */
const SHORT_RUN = 16;

function copyRun(src: TypedArray, from: number, dst: TypedArray, to: number, n: number): void {
  if (n < SHORT_RUN) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/**
 * The contiguous runs of the box `begin`…`begin + size` of a row-major array of `shape`: each run's
 * start offset in the array, in row-major order, and their common length. Trailing dimensions taken
 * whole merge into one run.
 */
function boxRuns(shape: readonly number[], begin: readonly number[], size: readonly number[]): { run: number; starts: Int32Array } {
  const rank = shape.length;
  if (rank === 0) return { run: 1, starts: Int32Array.of(0) };
  let inner = 1;
  let d = rank - 1;
  while (d > 0 && begin[d] === 0 && size[d] === shape[d]) inner *= shape[d--];
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const starts = new Int32Array(sizeOf(size.slice(0, d)));
  const idx = new Array<number>(d).fill(0);
  let base = begin.reduce((o, b, i) => o + b * strides[i], 0);
  for (let r = 0; r < starts.length; r++) {
    starts[r] = base;
    // Advance the multi-index over dims 0…d−1 (last fastest), keeping `base` in step.
    for (let i = d - 1; i >= 0; i--) {
      base += strides[i];
      if (++idx[i] < size[i]) break;
      base -= size[i] * strides[i];
      idx[i] = 0;
    }
  }
  return { run: size[d] * inner, starts };
}

/** Copies the box `begin`…`begin + size` of `src` (row-major, `shape`) densely into `dst` from `at`. */
function copyBox(src: TypedArray, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: TypedArray, at = 0): void {
  const { run, starts } = boxRuns(shape, begin, size);
  for (let r = 0; r < starts.length; r++) copyRun(src, starts[r], dst, at + r * run, run);
}

/** Writes dense `src` (shape `size`) into the box of `dst` (row-major, `shape`) at `begin`: copyBox's inverse. */
function pasteBox(src: TypedArray, size: readonly number[], dst: TypedArray, shape: readonly number[], begin: readonly number[]): void {
  const { run, starts } = boxRuns(shape, begin, size);
  for (let r = 0; r < starts.length; r++) copyRun(src, r * run, dst, starts[r], run);
}

const padV2: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const { paddings, constantValue } = attrs as unknown as { paddings: Array<[number, number]>; constantValue: number };
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = wasm.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  const ov = wasm.typedArrayFromHeap(out);
  ov.fill(constantValue);
  if (sizeOf(x.shape) > 0) pasteBox(wasm.typedArrayFromHeap(x), x.shape, ov, outShape, paddings.map((p) => p[0]));
  return out;
};

/**
 * Identity shares the input's memory and counts a reference, as tfjs's cpu backend and wasm's own
 * Reshape do (tensors are immutable; a variable's assign swaps in new memory). tfjs clones every
 * tensor it saves for the backward pass through this kernel: ~500 full copies per training step.
 */
const identity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as TensorInfo;
  (backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

const slice: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
  const out = wasm.makeOutput(s, x.dtype);
  if (sizeOf(s) > 0) copyBox(wasm.typedArrayFromHeap(x), x.shape, b, s, wasm.typedArrayFromHeap(out));
  return out;
};

const splitV: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
  // Every output first: allocating may grow the heap, which detaches earlier views.
  const outs = sizes.map((n) => wasm.makeOutput(x.shape.map((d, i) => (i === ax ? n : d)), x.dtype));
  const xv = wasm.typedArrayFromHeap(x);
  let offset = 0;
  outs.forEach((out, i) => {
    const begin = x.shape.map((_, j) => (j === ax ? offset : 0));
    if (sizeOf(out.shape) > 0) copyBox(xv, x.shape, begin, out.shape, wasm.typedArrayFromHeap(out));
    offset += sizes[i];
  });
  return outs;
};

const gatherV2: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as unknown as tf.Tensor, indices as unknown as tf.Tensor, ax, batchDims);
  const out = wasm.makeOutput(info.outputShape, x.dtype);
  const idx = wasm.typedArrayFromHeap(indices);
  const dim = x.shape[ax];
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (!(v >= 0 && v <= dim - 1)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
  }
  if (sizeOf(info.outputShape) === 0) return out;
  const xv = wasm.typedArrayFromHeap(x);
  const ov = wasm.typedArrayFromHeap(out);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const perBatch = idx.length / batchSize;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let r = 0; r < outerSize; r++) {
      const base = (b * outerSize + r) * dimSize * sliceSize;
      for (let i = 0; i < perBatch; i++) {
        copyRun(xv, base + idx[b * perBatch + i] * sliceSize, ov, o, sliceSize);
        o += sliceSize;
      }
    }
  }
  return out;
};

const tile: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const { reps } = attrs as unknown as { reps: number[] };
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = wasm.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  const xv = wasm.typedArrayFromHeap(x);
  const ov = wasm.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    ov[0] = xv[0];
    return out;
  }
  // Output rows over dims 0…rank−2; each copies its source row reps[last] times.
  const row = x.shape[rank - 1];
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= x.shape[i];
  }
  const rows = sizeOf(outShape.slice(0, -1));
  const idx = new Array<number>(rank - 1).fill(0);
  let src = 0;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < reps[rank - 1]; k++, o += row) copyRun(xv, src, ov, o, row);
    for (let i = rank - 2; i >= 0; i--) {
      idx[i]++;
      src += strides[i];
      if (idx[i] % x.shape[i] === 0) src -= x.shape[i] * strides[i]; // wrap to the start of the source dim
      if (idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return out;
};

/**
 * Transpose that keeps the last axis in place ([B, H, S, D] ↔ [B, S, H, D], what attention does):
 * contiguous runs of D copied with TypedArray.set. Other permutations return null (tfjs's kernel).
 */
const transposeRuns = (args: Parameters<KernelFunc>[0]): TensorInfo | null => {
  const { inputs, backend, attrs } = args;
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const { perm } = attrs as unknown as { perm: number[] };
  const rank = x.shape.length;
  const run = x.shape[rank - 1];
  if (rank < 3 || perm[rank - 1] !== rank - 1 || run < SHORT_RUN) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const out = wasm.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  const xv = wasm.typedArrayFromHeap(x);
  const ov = wasm.typedArrayFromHeap(out);
  const srcStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    srcStrides[i] = s;
    s *= x.shape[i];
  }
  const step = perm.slice(0, -1).map((p) => srcStrides[p]); // source stride of each output dim
  const rows = sizeOf(outShape.slice(0, -1));
  const idx = new Array<number>(rank - 1).fill(0);
  let src = 0;
  for (let r = 0, o = 0; r < rows; r++, o += run) {
    ov.set(xv.subarray(src, src + run), o);
    for (let i = rank - 2; i >= 0; i--) {
      src += step[i];
      if (++idx[i] < outShape[i]) break;
      src -= outShape[i] * step[i];
      idx[i] = 0;
    }
  }
  return out;
};

/** Each replaced kernel, made from tfjs's original (which Transpose falls back to). */
const kernels: Array<[string, (original: KernelConfig) => KernelFunc]> = [
  [tf.Slice, () => slice],
  [tf.SplitV, () => splitV],
  [tf.GatherV2, () => gatherV2],
  [tf.Tile, () => tile],
  [tf.PadV2, () => padV2],
  [tf.Identity, () => identity],
  [tf.Transpose, (original) => (args) => transposeRuns(args) ?? original.kernelFunc(args)],
];

/** String tensors live off the heap: they keep tfjs's kernel. */
function unlessString(original: KernelConfig, kernelFunc: KernelFunc): KernelFunc {
  return (args) => ((Object.values(args.inputs)[0] as TensorInfo | undefined)?.dtype === 'string' ? original.kernelFunc(args) : kernelFunc(args));
}

const installed = new WeakSet<KernelFunc>();

/**
 * Replaces tfjs-backend-wasm's Slice, SplitV, GatherV2, Tile, PadV2 and Identity kernels (and Transpose
 * where the last axis stays last) with zero-copy ones (see the file comment for why). Idempotent; called by {@link initBackend} when it selects wasm.
 *
 * @example
 * ```ts
 * import { installWasmCopyKernels } from './wasm_copy_kernels';
 * installWasmCopyKernels(); // tf.slice / tf.split / tf.gather / tf.tile on wasm now copy in place
 * ```
 */
export function installWasmCopyKernels(): void {
  for (const [name, make] of kernels) {
    const original = tf.getKernel(name, 'wasm');
    if (!original || installed.has(original.kernelFunc)) continue;
    const kernelFunc = unlessString(original, make(original));
    installed.add(kernelFunc);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc });
  }
}
