// Registers r1-ts's kernels and gradients with TensorFlow.js (side effect of importing the package).
import './backend/missing_kernels';
import * as tf from '@tensorflow/tfjs';
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

// Skip what is already registered: the package may be loaded twice (source and dist) in one process.
// Specialised kernels first; the generic JS adapters fill in the rest.
const configs = [maskedSoftmaxWasmConfig, ...kernelSpecs.flatMap((spec) => [cpuKernel(spec), wasmKernel(spec)])];
for (const config of configs) {
  if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
}
for (const config of [rmsNormGradConfig, layerNormGradConfig, ropeGradConfig, siluMulGradConfig, tokenLogProbsGradConfig, maskedSoftmaxGradConfig]) {
  if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}
