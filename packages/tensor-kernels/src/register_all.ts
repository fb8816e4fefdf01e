// Registers r1-ts's kernels and gradients with TensorFlow.js. index.ts calls registerR1Kernels() when the
// package loads and initBackend calls it again. Registration is a function call, never a bare
// `import './x'`: a bundler drops a bare import of a module its package marks side-effect free, which is
// how the built CLI once lost the wasm backend's UnsortedSegmentSum (issue #23).
import * as tf from '@tensorflow/tfjs';
import { registerMissingKernels } from './backend/missing_kernels';
import { kernelSpecs } from './kernels/all';
import { cpuKernel } from './kernels/cpu/adapter';
import { wasmKernel } from './kernels/wasm/adapter';
import { maskedSoftmaxWasmConfig } from './kernels/wasm/MaskedSoftmax';
import { layerNormGradConfig } from './gradients/LayerNorm_grad';
import { maskedSoftmaxGradConfig } from './gradients/MaskedSoftmax_grad';
import { rmsNormGradConfig } from './gradients/RmsNorm_grad';
import { ropeGradConfig } from './gradients/Rope_grad';
import { siluMulGradConfig } from './gradients/SiluMul_grad';
import { tokenLogProbsGradConfig } from './gradients/TokenLogProbs_grad';
import { sparseAttentionGradSpec, sparseAttentionSpec } from './kernels/sparse_attention';
import { sparseAttentionGradConfig } from './gradients/SparseAttention_grad';
import { adamWUpdateSpec, scaleAllSpec, sumOfSquaresSpec } from './kernels/adamw';
import { IndexerTopK, indexerTopKSpec } from './kernels/indexer_topk';

let registered = false;

/**
 * Registers every kernel and gradient r1-ts adds to TensorFlow.js (idempotent). Importing the package
 * does it; call it yourself only if a bundler removed the package's top-level code.
 *
 * @example
 * ```ts
 * import { registerR1Kernels } from '@r1-ts/tensor-kernels';
 * registerR1Kernels(); // a no-op after the first call
 * ```
 */
export function registerR1Kernels(): void {
  if (registered) return;
  registered = true;
  registerMissingKernels();
  // Skip what is already registered: the package may be loaded twice (source and dist) in one process.
  // Specialised kernels first; the generic JS adapters fill in the rest.
  const configs = [maskedSoftmaxWasmConfig, ...kernelSpecs.flatMap((spec) => [cpuKernel(spec), wasmKernel(spec)])];
  for (const config of configs) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  for (const config of [rmsNormGradConfig, layerNormGradConfig, ropeGradConfig, siluMulGradConfig, tokenLogProbsGradConfig, maskedSoftmaxGradConfig]) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
  // Gathered top-k sparse attention (DSA) and its backward, the indexer's fused top-k; multi-tensor optimizer kernels (AdamW,
  // global gradient norm, clipping).
  for (const config of [sparseAttentionSpec, sparseAttentionGradSpec, adamWUpdateSpec, sumOfSquaresSpec, scaleAllSpec, indexerTopKSpec].flatMap((spec) => [cpuKernel(spec), wasmKernel(spec)])) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  if (!tf.getGradient(sparseAttentionGradConfig.kernelName)) tf.registerGradient(sparseAttentionGradConfig);
  // The indexer's top-k is piecewise constant: zero gradients for its inputs.
  if (!tf.getGradient(IndexerTopK)) {
    tf.registerGradient({
      kernelName: IndexerTopK,
      inputsToSave: ['q', 'w', 'k'],
      gradFunc: (_dy, [q, w, k]) => ({ q: () => tf.zerosLike(q), w: () => tf.zerosLike(w), k: () => tf.zerosLike(k), keyMask: () => tf.zeros([k.shape[0], k.shape[1] as number]) }),
    });
  }
}
