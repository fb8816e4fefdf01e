// Gradient of MaskedSoftmax from its saved output: dScores = scale · p ⊙ (dp − Σ p·dp). Masked
// entries have p = 0 and so get no gradient; the masks are piecewise constant: zero gradients (as
// SparseAttention's), since indices chosen by a differentiable indexer sit on the tape.
import * as tf from '@tensorflow/tfjs';
import { MaskedSoftmax, MaskedSoftmaxGrad, asAttrs, asInputs } from '../kernel_names';

/** Registered gradient of {@link MaskedSoftmax}. */
export const maskedSoftmaxGradConfig: tf.GradConfig = {
  kernelName: MaskedSoftmax,
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [p] = saved;
    return {
      scores: () => tf.engine().runKernel(MaskedSoftmaxGrad, asInputs({ p, dp: dy }), asAttrs(attrs)) as tf.Tensor,
      indices: () => tf.zeros([p.shape[0], p.shape[2] as number, (attrs as { indexSlots?: number }).indexSlots ?? 0]),
      keyMask: () => tf.zeros([p.shape[0], p.shape[3] as number]),
    };
  },
};
