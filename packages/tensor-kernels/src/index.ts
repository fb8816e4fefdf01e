// Public API of @r1-ts/tensor-kernels.
import { registerR1Kernels } from './register_all';

// A call, not a bare import: see register_all.ts.
registerR1Kernels();

export { registerR1Kernels };

export { R1Error, ConfigError, CheckpointError, OutOfMemoryError } from './errors';
export { rejectUnknownKeys } from './unknown_keys';
export { initBackend, currentBackend, disposeBackend } from './backend/init';
export type { BackendName, InitBackendOptions, BackendInfo } from './backend/init';
export { probeWebGPU } from './backend/webgpu';
export type { WebGPUAdapterSummary, WebGPUProbe } from './backend/webgpu';
export { WebGPUError } from './backend/webgpu_errors';
export { useGemm, currentGemm, blasGemm } from './backend/native_gemm';
export { nativeKernels, useNativeKernels } from './backend/native_addon';
export type { NativeAddon } from './backend/native_addon';
export type { GemmChoice, GemmInfo } from './backend/native_gemm';
export { readInPlace } from './backend/read_in_place';
export { Rng } from './rng';
export { checkpoint } from './checkpoint';
export type { CheckpointFn, CheckpointOptions } from './checkpoint';
export { Module } from './module';
export type { Init, LoadableTensor } from './module';
export type { RngState } from './rng';
export {
  parseSafetensors, readSafetensors, openSafetensors, serializeSafetensors, writeSafetensors, writeFileAtomic, toTensor,
} from './safetensors';
export type { SafetensorsDtype, StoredTensor, SafetensorsFile, TensorToWrite, SerializeOptions, SafetensorsEntry, OpenSafetensors } from './safetensors';
export { ropeFrequencies, ropeCosSin, yarnRange, yarnMscale, softmaxScale } from './rope';
export type { RopeConfig, YarnScaling } from './rope';
export { rmsNorm } from './ops/rms_norm';
export { layerNorm } from './ops/layer_norm';
export { applyRope } from './ops/rope';
export type { RopeLayout } from './ops/rope';
export { siluMul, swiglu } from './ops/swiglu';
export { linear, setLinearAdapter, linearAdapterOf, withoutLinearAdapters, effectiveLinearWeight, linearLowRankOf } from './ops/linear';
export type { LinearAdapter, LowRankUpdate } from './ops/linear';
export { tokenLogProbs, maskedCrossEntropy } from './ops/cross_entropy';
export { linearTokenLogProbs, linearEntropy } from './ops/linear_log_probs';
export type { LinearHeadOptions } from './ops/linear_log_probs';
export { attention, attentionWeights } from './ops/attention';
export type { AttentionMaskOptions } from './ops/attention';
export { sparseAttention } from './ops/sparse_attention';
export type { SparseAttentionOptions } from './ops/sparse_attention';
export { adamwUpdate, sumOfSquares, scaleAll } from './ops/adamw';
export { indexerTopK } from './ops/indexer_topk';
export type { AdamWStep } from './ops/adamw';
export { hasFusedKernel } from './ops/fused';
