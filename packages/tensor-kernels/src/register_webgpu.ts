// Registers r1-ts's WGSL kernels for tfjs's `webgpu` backend. Loaded (dynamic import) and called by
// initBackend's webgpu path after tfjs-backend-webgpu, so the cpu/wasm paths never load Dawn. A called
// function, not an import side effect: see register_all.ts.
import * as tf from '@tensorflow/tfjs';
import { groupedAddN } from './kernels/webgpu/add_n';
import { webgpuKernels } from './kernels/webgpu/all';

/** Registers the WGSL kernels and the grouped AddN on the `webgpu` backend (idempotent). */
export function registerWebGPUKernels(): void {
  for (const config of webgpuKernels) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  // tfjs's AddN binds one storage buffer per input: wrap it once so that long sums are grouped.
  const addN = tf.getKernel(tf.AddN, 'webgpu');
  if (addN && !(addN.kernelFunc as { r1Grouped?: boolean }).r1Grouped) {
    const grouped = groupedAddN(addN.kernelFunc);
    (grouped.kernelFunc as { r1Grouped?: boolean }).r1Grouped = true;
    tf.unregisterKernel(tf.AddN, 'webgpu');
    tf.registerKernel(grouped);
  }
}
