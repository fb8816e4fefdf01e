// Gradient of SiluMul: one fused SiluMulGrad kernel yields dGate and dUp.
import * as tf from '@tensorflow/tfjs';
import { SiluMul, SiluMulGrad, asInputs } from '../kernel_names';

/** Registered gradient of {@link SiluMul}. */
export const siluMulGradConfig: tf.GradConfig = {
  kernelName: SiluMul,
  inputsToSave: ['gate', 'up'],
  gradFunc: (dy, saved) => {
    const [gate, up] = saved;
    const [dGate, dUp] = tf.engine().runKernel(SiluMulGrad, asInputs({ gate, up, dy }), {}) as tf.Tensor[];
    return { gate: () => dGate, up: () => dUp };
  },
};
