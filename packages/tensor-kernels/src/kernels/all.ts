// Every fused kernel spec (forward and backward), registered on cpu and wasm by register_all.ts.
import type { KernelSpec } from './kernel_spec';
import { layerNormGradSpec, layerNormSpec } from './layer_norm';
import { maskedSoftmaxGradSpec, maskedSoftmaxSpec } from './masked_softmax';
import { rmsNormGradSpec, rmsNormSpec } from './rms_norm';
import { ropeSpec } from './rope';
import { siluMulGradSpec, siluMulSpec } from './silu_mul';
import { tokenLogProbsGradSpec, tokenLogProbsSpec } from './token_log_probs';

/** All of r1-ts's fused kernels. */
export const kernelSpecs: KernelSpec[] = [
  rmsNormSpec, rmsNormGradSpec,
  layerNormSpec, layerNormGradSpec,
  ropeSpec,
  siluMulSpec, siluMulGradSpec,
  tokenLogProbsSpec, tokenLogProbsGradSpec,
  maskedSoftmaxSpec, maskedSoftmaxGradSpec,
];
