// Gradient of SparseAttention from its saved inputs and probabilities p: one fused backward kernel
// yields dq, dk and dv together (run inside the engine's backward scope, as RmsNorm's). The index sets and
// the key mask get zero gradients.
import * as tf from '@tensorflow/tfjs';
import { asAttrs, asInputs } from '../kernel_names';
import { SparseAttention, SparseAttentionGrad } from '../kernels/sparse_attention';


/**
 * Registered gradient of {@link SparseAttention}. Only the output o carries a gradient: the
 * probabilities (second output) are for the backward and are never handed out by the op.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * if (!tf.getGradient(sparseAttentionGradConfig.kernelName)) tf.registerGradient(sparseAttentionGradConfig);
 * ```
 */
export const sparseAttentionGradConfig: tf.GradConfig = {
  kernelName: SparseAttention,
  inputsToSave: ['q', 'k', 'v', 'indices'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [q, k, v, indices, p] = saved;
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [dq, dk, dv] = tf.engine().runKernel(SparseAttentionGrad, asInputs({ q, k, v, indices, p, dy }), asAttrs(attrs)) as tf.Tensor[];
    return {
      q: () => dq,
      k: () => dk,
      v: () => dv,
      // Index sets and padding are piecewise constant: zero gradient (they may come from the indexer,
      // whose parameters are on the tape).
      indices: () => tf.zeros(indices.shape),
      keyMask: () => tf.zeros([q.shape[0], k.shape[(attrs as { layout?: string }).layout === 'bshd' ? 1 : 2] as number]),
    };
  },
};
