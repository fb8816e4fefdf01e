// The ops behind MoE.forward on the cpu and wasm backends: one fused kernel for all experts (routed +
// shared) and one for the routing weights, each with a fused backward. Other backends use tfjs ops.
import * as tf from '@tensorflow/tfjs';
import type { Expert } from './expert';
import { oneHotFloat } from './one_hot';
import { MOE_KERNEL_BACKENDS } from './kernels/memory';
import { MoeExperts, MoeScratch, MoeTopkWeight, registerMoeKernels } from './kernels/register';
import { cacheSize } from './kernels/experts';

/** Whether the active backend runs the fused MoE kernels. */
export function hasMoeKernels(): boolean {
  return (MOE_KERNEL_BACKENDS as readonly string[]).includes(tf.getBackend());
}

/**
 * y [T, D] = Σ_k weight[t,k]·Expert_{indices[t,k]}(x[t]) (+ shared(x[t])), V3 eq. 12, as one kernel:
 * rows are grouped by expert in place, each expert runs two GEMMs, and the weighted combine is
 * accumulated straight into y. Differentiable w.r.t. x, weight and every expert parameter.
 */
export function fusedExperts(x: tf.Tensor2D, weight: tf.Tensor2D, indices: tf.Tensor2D, experts: Expert[], shared: Expert | null): tf.Tensor2D {
  registerMoeKernels();
  const params = [...experts, ...(shared ? [shared] : [])].flatMap((e) => [e.gateProj, e.upProj, e.downProj]);
  const [T, K] = indices.shape;
  const size = cacheSize(T, K, experts[0].gateProj.shape[0], shared ? shared.gateProj.shape[0] : 0);
  // A fresh buffer the kernel fills with activations for the backward; the tape keeps it while recording.
  const cache = tf.engine().runKernel(MoeScratch, {}, { size }) as tf.Tensor1D;
  const y = tf.engine().runKernel(MoeExperts, [x, weight, indices, cache, ...params] as unknown as tf.NamedTensorMap, { shared: shared !== null }) as tf.Tensor2D;
  cache.dispose();
  return y;
}

/** Routing weights [T, K]: s at the selection (/ its sum when `normalize`) × scale (V3 eqs. 13, 16). */
export function topkWeights(scores: tf.Tensor2D, indices: tf.Tensor2D, normalize: boolean, scale: number): tf.Tensor2D {
  if (!hasMoeKernels()) return topkWeightsComposite(scores, indices, normalize, scale);
  registerMoeKernels();
  return tf.engine().runKernel(MoeTopkWeight, { scores, indices }, { normalize, scale }) as tf.Tensor2D;
}

/** {@link topkWeights} from tfjs ops (backends without the fused kernels). */
function topkWeightsComposite(scores: tf.Tensor2D, indices: tf.Tensor2D, normalize: boolean, scale: number): tf.Tensor2D {
  return tf.tidy(() => {
    const picked = oneHotFloat(indices, scores.shape[1]); // [T, K, E]
    let w = tf.sum(tf.mul(tf.expandDims(scores, 1), picked), -1); // [T, K]
    if (normalize) w = tf.div(w, tf.sum(w, -1, true)); // no epsilon
    return tf.mul(w, scale) as tf.Tensor2D; // [T, K]
  });
}
