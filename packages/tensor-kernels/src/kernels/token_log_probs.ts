// log softmax(logits)[target] per row (golden/README §4.1: subtract the max first, logits can be
// ±100), and its gradient dy·(onehot − softmax). A target outside [0, V) (e.g. −1 padding) gives
// 0 and no gradient, as a one-hot of it would.
import { TokenLogProbs, TokenLogProbsGrad } from '../kernel_names';
import type { TypedArray } from '@tensorflow/tfjs';
import { f32 } from './kernel_spec';
import type { KernelSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

/** max and log Σ exp(l − max) + max of L[o .. o+V), in float64. */
function logSumExp(L: TypedArray, o: number, V: number): number {
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (L[o + j] > m) m = L[o + j];
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(L[o + j] - m);
  return m + Math.log(s);
}

/** logits [..., V] float32, targets [...] int32 → [...] float32. */
export const tokenLogProbsSpec: KernelSpec = {
  kernelName: TokenLogProbs,
  outputs: ({ targets }) => [{ shape: targets.shape, dtype: 'float32' }],
  compute({ logits, targets }, [y]) {
    const L = logits.values;
    const T = targets.values;
    const V = logits.shape[logits.shape.length - 1];
    const native = nativeKernels();
    if (native && T instanceof Int32Array) return native.tokenLogProbs(f32(L), T, f32(y), V);
    for (let n = 0; n < T.length; n++) {
      const t = T[n];
      y[n] = t >= 0 && t < V ? L[n * V + t] - logSumExp(L, n * V, V) : 0;
    }
  },
};

/** logits, targets, dy → dLogits [..., V]. */
export const tokenLogProbsGradSpec: KernelSpec = {
  kernelName: TokenLogProbsGrad,
  outputs: ({ logits }) => [{ shape: logits.shape, dtype: 'float32' }],
  compute({ logits, targets, dy }, [dl]) {
    const L = logits.values;
    const T = targets.values;
    const DY = dy.values;
    const V = logits.shape[logits.shape.length - 1];
    const native = nativeKernels();
    if (native && T instanceof Int32Array) return native.tokenLogProbsGrad(f32(L), T, f32(DY), f32(dl), V);
    for (let n = 0; n < T.length; n++) {
      const t = T[n];
      const o = n * V;
      if (!(t >= 0 && t < V)) {
        dl.fill(0, o, o + V);
        continue;
      }
      const lse = logSumExp(L, o, V);
      const g = DY[n];
      for (let j = 0; j < V; j++) dl[o + j] = -g * Math.exp(L[o + j] - lse);
      dl[o + t] = g * (1 - Math.exp(L[o + t] - lse));
    }
  },
};
