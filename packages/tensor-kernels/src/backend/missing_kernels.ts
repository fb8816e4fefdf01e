// Kernels the wasm backend lacks, and gradients tfjs lacks or gets wrong, that training needs (registered by
// register_all.ts). tfjs never falls back to another backend per kernel, so a model that trains on
// cpu fails on wasm unless every kernel of its forward and backward exists there.
import { getGradient, getKernel, registerGradient, registerKernel } from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { batchMatMulGrad, maximumGrad, minimumGrad } from './broadcast_gradients';
import { gatherNdGrad, scatterNdGrad, topKGrad } from './missing_gradients';
import { unsortedSegmentSumWasm } from './unsorted_segment_sum';

const kernels: KernelConfig[] = [unsortedSegmentSumWasm];
const gradients: GradConfig[] = [gatherNdGrad, scatterNdGrad, topKGrad];

/** tfjs's own gradients that break when an input was broadcast; replaced unconditionally. */
const fixedGradients: GradConfig[] = [batchMatMulGrad, maximumGrad, minimumGrad];

/**
 * Registers the missing kernels and gradients (called by register_all.ts's {@link registerR1Kernels};
 * a function, not an import side effect, so no bundler can drop it).
 */
export function registerMissingKernels(): void {
  // Only fill gaps: a later tfjs that ships its own version wins.
  for (const k of kernels) if (!getKernel(k.kernelName, k.backendName)) registerKernel(k);
  for (const g of gradients) if (!getGradient(g.kernelName)) registerGradient(g);
  for (const g of fixedGradients) if (getGradient(g.kernelName)?.gradFunc !== g.gradFunc) registerGradient(g);
}
