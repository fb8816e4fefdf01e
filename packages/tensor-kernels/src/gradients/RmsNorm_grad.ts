// Gradient of RmsNorm: one fused RmsNormGrad kernel yields dx and dWeight together. It runs when
// the gradient function is called (inside the engine's backward scope), so an unused output is
// disposed with that scope.
import * as tf from '@tensorflow/tfjs';
import { RmsNorm, RmsNormGrad, asAttrs, asInputs } from '../kernel_names';

/** Registered gradient of {@link RmsNorm}. */
export const rmsNormGradConfig: tf.GradConfig = {
  kernelName: RmsNorm,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [x, weight] = saved;
    const [dx, dw] = tf.engine().runKernel(RmsNormGrad, asInputs({ x, weight, dy }), asAttrs(attrs)) as tf.Tensor[];
    return { x: () => dx, weight: () => dw };
  },
};
