// Gradient of TokenLogProbs: dLogits = dy·(onehot(target) − softmax(logits)) in one kernel.
import * as tf from '@tensorflow/tfjs';
import { TokenLogProbs, TokenLogProbsGrad, asInputs } from '../kernel_names';

/** Registered gradient of {@link TokenLogProbs}. */
export const tokenLogProbsGradConfig: tf.GradConfig = {
  kernelName: TokenLogProbs,
  inputsToSave: ['logits', 'targets'],
  gradFunc: (dy, saved) => {
    const [logits, targets] = saved;
    return {
      logits: () => tf.engine().runKernel(TokenLogProbsGrad, asInputs({ logits, targets, dy }), {}) as tf.Tensor,
      targets: () => tf.zerosLike(targets),
    };
  },
};
