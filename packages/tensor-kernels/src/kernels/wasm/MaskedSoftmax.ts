// MaskedSoftmax on wasm: the masking pass runs in JS on the wasm heap, the softmax itself is the
// backend's SIMD/XNNPACK Softmax kernel (JS Math.exp is ~15× slower than it on large score
// tensors). Still one engine dispatch; the intermediate is freed before returning. Small score
// tensors (decoding) take the all-JS path.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { MaskedSoftmax } from '../../kernel_names';
import type { MaskedSoftmaxAttrs } from '../../kernel_names';
import { maskScores, maskedSoftmaxSpec } from '../masked_softmax';
import { wasmKernel } from './adapter';
import type { WasmBackendLike } from '../../backend/backend_like';
import { sizeOf } from '../kernel_spec';
import type { KernelArray } from '../kernel_spec';
import { nativeKernels } from '../../backend/native_addon';

/**
 * Below this many scores the JS softmax runs: XNNPACK's costs a thread-pool round trip (~0.5 ms on 2
 * busy cores for a [16, 1, 8, 29] decode step, against ~0.04 ms in JS).
 */
const SMALL = 1 << 15;
const small = wasmKernel(maskedSoftmaxSpec);

const kernelFunc: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const wasm = backend as unknown as WasmBackendLike;
  const scores = inputs.scores as TensorInfo; // [B, H, Sq, Sk]
  if (sizeOf(scores.shape) <= SMALL || nativeKernels()) return small.kernelFunc(args); // the native loop beats XNNPACK's
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
