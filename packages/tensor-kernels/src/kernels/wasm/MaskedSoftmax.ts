// MaskedSoftmax on wasm: the masking pass runs in JS on the wasm heap, the softmax itself is the
// backend's SIMD/XNNPACK Softmax kernel (JS Math.exp is ~15× slower than it on large score
// tensors). Still one engine dispatch; the intermediate is freed before returning.
import * as tf from '@tensorflow/tfjs';
import type { DataId, DataType, KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { MaskedSoftmax } from '../../kernel_names';
import type { MaskedSoftmaxAttrs } from '../../kernel_names';
import { maskScores } from '../masked_softmax';
import type { KernelArray } from '../kernel_spec';

/** The part of BackendWasm this kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
  disposeData(dataId: DataId): boolean;
}

const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const scores = inputs.scores as TensorInfo; // [B, H, Sq, Sk]
  const Sk = scores.shape[3];
  const masked = wasm.makeOutput(scores.shape, 'float32'); // [B, H, Sq, Sk]
  const arrays: Record<string, KernelArray> = {};
  for (const [name, t] of Object.entries(inputs)) if (t) arrays[name] = { shape: t.shape, values: wasm.typedArrayFromHeap(t) };
  const empty = maskScores(arrays, wasm.typedArrayFromHeap(masked), attrs as unknown as MaskedSoftmaxAttrs);
  const softmax = tf.getKernel('Softmax', 'wasm').kernelFunc({ inputs: { logits: masked }, backend, attrs: { dim: 3 } }) as TensorInfo;
  wasm.disposeData(masked.dataId);
  const p = wasm.typedArrayFromHeap(softmax); // viewed after the allocations (the heap may have grown)
  for (let row = 0; row < empty.length; row++) if (empty[row]) p.fill(0, row * Sk, (row + 1) * Sk);
  return softmax;
};

/** Registered as the wasm MaskedSoftmax kernel (in place of the generic JS adapter). */
export const maskedSoftmaxWasmConfig: KernelConfig = { kernelName: MaskedSoftmax, backendName: 'wasm', kernelFunc };
