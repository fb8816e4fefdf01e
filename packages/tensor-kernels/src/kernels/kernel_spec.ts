// One backend-neutral description of a fused kernel: output shapes plus a pure JS loop over typed
// arrays. The cpu and wasm adapters turn a spec into a registered tfjs kernel.
import type { DataType, NamedAttrMap, TensorInfo, TypedArray } from '@tensorflow/tfjs';

/** An input as the math sees it: its shape and a view of its values. */
export interface KernelArray {
  shape: number[];
  values: TypedArray;
}

/** Shape and dtype of one kernel output. */
export interface OutputSpec {
  shape: number[];
  dtype: DataType;
}

/** A fused kernel, independent of the backend that runs it. */
export interface KernelSpec {
  /** The tfjs kernel name (kernel_names.ts). */
  kernelName: string;
  /** Shapes and dtypes of the outputs, from the input shapes and attrs. */
  outputs(inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): OutputSpec[];
  /** Fills every element of `outs` (they may hold garbage) from `inputs`. */
  compute(inputs: Record<string, KernelArray>, outs: TypedArray[], attrs: NamedAttrMap): void;
}

/** A float32 view, for the native loops (tfjs holds float32 tensors in Float32Arrays on both backends). */
export const f32 = (a: TypedArray | KernelArray): Float32Array => (ArrayBuffer.isView(a) ? a : a.values) as Float32Array;

/** Float32 values for the native loops: the array itself when it is a Float32Array, else a float32 copy (e.g. a mask held as int32). */
export const asF32 = (a: ArrayLike<number>): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

/** Int32 values for the native loops: the array itself when it is an Int32Array, else an int32 copy. */
export const asI32 = (a: ArrayLike<number>): Int32Array => (a instanceof Int32Array ? a : Int32Array.from(a));

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
