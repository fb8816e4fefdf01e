// Zero-copy data-movement kernels for tfjs's wasm backend. In tfjs-backend-wasm 4.22, Slice and
// SplitV copy their whole input out of the heap (readSync) before taking the slice, and the C++
// GatherV2 and Tile walk every element with index arithmetic: measured on 2 cores with 2 threads,
// a 36-row slice of a [4096, 256] tensor took 36 ms, a 16-way split 194 ms, a row gather 90 ms and
// a ×2 tile 97 ms, a [8, 256, 8, 32] → […, 64] pad 33 ms — more than the matmuls of a MoE layer.
// These versions view inputs and outputs in place on the heap. Each one describes its data movement
// as one strided copy (contiguous runs at strided offsets) run by the native addon's loop, or by the
// same loop in JS without the addon; the results are the same bit for bit.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { sizeOf } from '../kernels/kernel_spec';
import type { WasmBackendLike } from './backend_like';
import { nativeKernels } from './native_addon';

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
 * A strided copy: for every multi-index i over `dims`, `run` contiguous elements from
 * src[srcOffset + i·srcStrides] to dst[dstOffset + i·dstStrides] (offsets and strides in elements).
 */
interface StridedCopy {
  dims: number[];
  srcStrides: number[];
  dstStrides: number[];
  srcOffset: number;
  dstOffset: number;
  run: number;
}

/** Row-major element strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** An element-wise copy (run 1) with its contiguous innermost dimensions folded into the run. */
function strided(dims: number[], srcStrides: number[], dstStrides: number[], srcOffset = 0, dstOffset = 0): StridedCopy {
  const keep = dims.map((d) => d !== 1); // size-1 dims move nothing
  const c: StridedCopy = { dims: dims.filter((_, i) => keep[i]), srcStrides: srcStrides.filter((_, i) => keep[i]), dstStrides: dstStrides.filter((_, i) => keep[i]), srcOffset, dstOffset, run: 1 };
  while (c.dims.length > 0 && c.srcStrides[c.dims.length - 1] === c.run && c.dstStrides[c.dims.length - 1] === c.run) {
    c.run *= c.dims.pop()!;
    c.srcStrides.pop();
    c.dstStrides.pop();
  }
  return c;
}

/** Runs a strided copy: the native addon's loop, or the same walk in JS. */
function copy(src: TypedArray, dst: TypedArray, c: StridedCopy): void {
  if (c.run === 0 || c.dims.some((d) => d === 0)) return;
  const native = nativeKernels();
  if (native) {
    native.stridedCopy(src, dst, src.BYTES_PER_ELEMENT, Float64Array.of(c.dims.length, c.srcOffset, c.dstOffset, c.run, ...c.dims, ...c.srcStrides, ...c.dstStrides));
    return;
  }
  const rank = c.dims.length;
  const rows = sizeOf(c.dims);
  const idx = new Array<number>(rank).fill(0);
  let s = c.srcOffset;
  let d = c.dstOffset;
  for (let r = 0; r < rows; r++) {
    copyRun(src, s, dst, d, c.run);
    // Advance the multi-index (last fastest), keeping both offsets in step.
    for (let i = rank - 1; i >= 0; i--) {
      s += c.srcStrides[i];
      d += c.dstStrides[i];
      if (++idx[i] < c.dims[i]) break;
      s -= c.dims[i] * c.srcStrides[i];
      d -= c.dims[i] * c.dstStrides[i];
      idx[i] = 0;
    }
  }
}

const offsetOf = (begin: readonly number[], strides: readonly number[]) => begin.reduce((o, b, i) => o + b * strides[i], 0);

/** Copies the box `begin`…`begin + size` of `src` (row-major, `shape`) densely into `dst`. */
function copyBox(src: TypedArray, shape: readonly number[], begin: readonly number[], size: number[], dst: TypedArray): void {
  const ss = stridesOf(shape);
  copy(src, dst, strided(size, ss, stridesOf(size), offsetOf(begin, ss)));
}

/** Writes dense `src` (shape `size`) into the box of `dst` (row-major, `shape`) at `begin`: copyBox's inverse. */
function pasteBox(src: TypedArray, size: number[], dst: TypedArray, shape: readonly number[], begin: readonly number[]): void {
  const ds = stridesOf(shape);
  copy(src, dst, strided(size, stridesOf(size), ds, 0, offsetOf(begin, ds)));
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
  // Output dim i as [reps_i, d_i]: the repeat index moves the output by d_i rows and the source not at all.
  const ss = stridesOf(x.shape);
  const os = stridesOf(outShape);
  const dims = x.shape.flatMap((d, i) => [reps[i], d]);
  const srcStrides = ss.flatMap((s) => [0, s]);
  const dstStrides = os.flatMap((o, i) => [o * x.shape[i], o]);
  copy(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(out), strided(dims, srcStrides, dstStrides));
  return out;
};

const concat: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const xs = (inputs as unknown as TensorInfo[]).filter((t) => sizeOf(t.shape) > 0);
  const all = inputs as unknown as TensorInfo[];
  const ax = tf.util.parseAxisParam((attrs as unknown as { axis: number }).axis, all[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), ax);
  const out = wasm.makeOutput(outShape, all[0].dtype); // first: allocating may grow the heap
  const ov = wasm.typedArrayFromHeap(out);
  let offset = 0;
  for (const x of xs) {
    pasteBox(wasm.typedArrayFromHeap(x), x.shape, ov, outShape, outShape.map((_, i) => (i === ax ? offset : 0)));
    offset += x.shape[ax];
  }
  return out;
};

/**
 * Transpose that keeps the last axis in place ([B, H, S, D] ↔ [B, S, H, D], what attention does):
 * contiguous runs of D. Other permutations return null (tfjs's kernel).
 */
const transposeRuns = (args: Parameters<KernelFunc>[0]): TensorInfo | null => {
  const { inputs, backend, attrs } = args;
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const { perm } = attrs as unknown as { perm: number[] };
  const rank = x.shape.length;
  if (rank < 3 || perm[rank - 1] !== rank - 1 || (x.shape[rank - 1] < SHORT_RUN && !nativeKernels())) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const out = wasm.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  const ss = stridesOf(x.shape);
  copy(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(out), strided(outShape, perm.map((p) => ss[p]), stridesOf(outShape)));
  return out;
};

/** Each replaced kernel, made from tfjs's original (which Transpose falls back to). */
const kernels: Array<[string, (original: KernelConfig) => KernelFunc]> = [
  [tf.Slice, () => slice],
  [tf.SplitV, () => splitV],
  [tf.GatherV2, () => gatherV2],
  [tf.Tile, () => tile],
  [tf.PadV2, () => padV2],
  [tf.Concat, () => concat],
  [tf.Identity, () => identity],
  [tf.Transpose, (original) => (args) => transposeRuns(args) ?? original.kernelFunc(args)],
];

/** String tensors live off the heap: they keep tfjs's kernel. */
function unlessString(original: KernelConfig, kernelFunc: KernelFunc): KernelFunc {
  return (args) => (Object.values(args.inputs).some((t) => (t as TensorInfo | undefined)?.dtype === 'string' || (t as TensorInfo | undefined)?.dtype === 'complex64') ? original.kernelFunc(args) : kernelFunc(args));
}

const installed = new WeakSet<KernelFunc>();

/**
 * Replaces tfjs-backend-wasm's Slice, SplitV, GatherV2, Tile, PadV2, Concat and Identity kernels (and Transpose
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
