// Names, inputs and attributes of r1-ts's fused kernels (tfjs's kernel_names.ts pattern). Each
// forward kernel has a registered gradient; most gradients run one fused backward kernel.
import type { NamedAttrMap, NamedTensorMap, TensorInfo } from '@tensorflow/tfjs';

/** y = w ⊙ x / sqrt(mean(x²) + eps) over the last axis. */
export const RmsNorm = 'R1RmsNorm';
/** Inputs of {@link RmsNorm}: x [..., D], weight [D]. */
export type RmsNormInputs = Record<'x' | 'weight', TensorInfo>;
/** Attributes of {@link RmsNorm} and {@link RmsNormGrad}. */
export interface RmsNormAttrs { eps: number }
/** Backward of RmsNorm: inputs x, weight, dy → [dx, dWeight]. */
export const RmsNormGrad = 'R1RmsNormGrad';
/** Inputs of {@link RmsNormGrad}. */
export type RmsNormGradInputs = Record<'x' | 'weight' | 'dy', TensorInfo>;

/** y = w ⊙ (x − μ)/sqrt(σ² + eps) + b over the last axis. */
export const LayerNorm = 'R1LayerNorm';
/** Inputs of {@link LayerNorm}: x [..., D], weight [D], bias [D]. */
export type LayerNormInputs = Record<'x' | 'weight' | 'bias', TensorInfo>;
/** Attributes of {@link LayerNorm} and {@link LayerNormGrad}. */
export interface LayerNormAttrs { eps: number }
/** Backward of LayerNorm: inputs x, weight, dy → [dx, dWeight, dBias]. */
export const LayerNormGrad = 'R1LayerNormGrad';
/** Inputs of {@link LayerNormGrad}. */
export type LayerNormGradInputs = Record<'x' | 'weight' | 'dy', TensorInfo>;

/** Rotary embedding; its gradient is the same kernel with `inverse` flipped (rotation by −angle). */
export const Rope = 'R1Rope';
/** Inputs of {@link Rope}: x [B, S, H, d] | [B, S, d], cos and sin [S, d/2] | [B, S, d/2]. */
export type RopeInputs = Record<'x' | 'cos' | 'sin', TensorInfo>;
/** Attributes of {@link Rope}. */
export interface RopeAttrs { layout: 'interleaved' | 'half'; inverse: boolean }

/** silu(gate) ⊙ up. */
export const SiluMul = 'R1SiluMul';
/** Inputs of {@link SiluMul} and (with dy) {@link SiluMulGrad}: same shapes. */
export type SiluMulInputs = Record<'gate' | 'up', TensorInfo>;
/** Backward of SiluMul: inputs gate, up, dy → [dGate, dUp]. */
export const SiluMulGrad = 'R1SiluMulGrad';

/** log softmax(logits)[target] per row; logits [..., V] float32, targets [...] int32. */
export const TokenLogProbs = 'R1TokenLogProbs';
/** Inputs of {@link TokenLogProbs}. */
export type TokenLogProbsInputs = Record<'logits' | 'targets', TensorInfo>;
/** Backward of TokenLogProbs: inputs logits, targets, dy → dLogits = dy·(onehot − softmax). */
export const TokenLogProbsGrad = 'R1TokenLogProbsGrad';

/**
 * p = softmax(scale·scores + mask) over the last axis of scores [B, H, Sq, Sk], with causal,
 * sparse index-set (indices [B, Sq, k] int32, −1 unused) and key-padding (keyMask [B, Sk]) masks;
 * rows with no allowed key are all zeros.
 */
export const MaskedSoftmax = 'R1MaskedSoftmax';
/** Inputs of {@link MaskedSoftmax}: scores, optional indices and keyMask. */
export interface MaskedSoftmaxInputs { scores: TensorInfo; indices?: TensorInfo; keyMask?: TensorInfo }
/** Attributes of {@link MaskedSoftmax} and {@link MaskedSoftmaxGrad}. */
export interface MaskedSoftmaxAttrs { scale: number; causal: boolean }
/** Backward of MaskedSoftmax: inputs p, dp → dScores = scale · p ⊙ (dp − Σ p·dp). */
export const MaskedSoftmaxGrad = 'R1MaskedSoftmaxGrad';

/** Casts a typed inputs record to the map `engine.runKernel` takes. */
export const asInputs = (inputs: object) => inputs as unknown as NamedTensorMap;
/** Casts a typed attrs record to the map `engine.runKernel` takes. */
export const asAttrs = (attrs: object) => attrs as unknown as NamedAttrMap;
