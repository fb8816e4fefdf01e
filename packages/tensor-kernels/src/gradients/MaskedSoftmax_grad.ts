// Gradient of MaskedSoftmax from its saved output: dScores = scale · p ⊙ (dp − Σ p·dp). Masked
// entries have p = 0 and so get no gradient; the masks themselves are not differentiable.
import * as tf from '@tensorflow/tfjs';
import { MaskedSoftmax, MaskedSoftmaxGrad, asAttrs, asInputs } from '../kernel_names';

const notDifferentiable = (name: string) => () => {
  throw new Error(`MaskedSoftmax has no gradient with respect to its ${name} mask`);
};

/** Registered gradient of {@link MaskedSoftmax}. */
export const maskedSoftmaxGradConfig: tf.GradConfig = {
  kernelName: MaskedSoftmax,
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [p] = saved;
    return {
      scores: () => tf.engine().runKernel(MaskedSoftmaxGrad, asInputs({ p, dp: dy }), asAttrs(attrs)) as tf.Tensor,
      indices: notDifferentiable('indices'),
      keyMask: notDifferentiable('keyMask'),
    };
  },
};
