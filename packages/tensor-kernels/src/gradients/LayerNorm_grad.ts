// Gradient of LayerNorm: one fused LayerNormGrad kernel yields dx, dWeight and dBias.
import * as tf from '@tensorflow/tfjs';
import { LayerNorm, LayerNormGrad, asAttrs, asInputs } from '../kernel_names';

/** Registered gradient of {@link LayerNorm}. */
export const layerNormGradConfig: tf.GradConfig = {
  kernelName: LayerNorm,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [x, weight] = saved;
    const [dx, dw, db] = tf.engine().runKernel(LayerNormGrad, asInputs({ x, weight, dy }), asAttrs(attrs)) as tf.Tensor[];
    return { x: () => dx, weight: () => dw, bias: () => db };
  },
};
