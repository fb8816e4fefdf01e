// r1-ts's WGSL kernels for tfjs's `webgpu` backend; every other fused op falls back to its composite.
import type { KernelConfig } from '@tensorflow/tfjs';
import { adamWUpdateWebGPU } from './adamw';
import { indexerTopKWebGPU } from './indexer_topk';
import { layerNormGradWebGPU, layerNormWebGPU } from './layer_norm';
import { maskedSoftmaxGradWebGPU, maskedSoftmaxWebGPU } from './masked_softmax';
import { rmsNormGradWebGPU, rmsNormWebGPU } from './rms_norm';
import { ropeWebGPU } from './rope';
import { siluMulGradWebGPU, siluMulWebGPU } from './silu_mul';
import { tokenLogProbsGradWebGPU, tokenLogProbsWebGPU } from './token_log_probs';

/** Forward and backward kernels (a forward is registered only with its backward; the indexer's top-k has zero gradients). */
export const webgpuKernels: KernelConfig[] = [
  rmsNormWebGPU, rmsNormGradWebGPU,
  layerNormWebGPU, layerNormGradWebGPU,
  ropeWebGPU,
  siluMulWebGPU, siluMulGradWebGPU,
  tokenLogProbsWebGPU, tokenLogProbsGradWebGPU,
  maskedSoftmaxWebGPU, maskedSoftmaxGradWebGPU,
  adamWUpdateWebGPU,
  indexerTopKWebGPU,
];
