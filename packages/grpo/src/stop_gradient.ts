import * as tf from '@tensorflow/tfjs';

// tfjs has no stop-gradient op; an identity whose gradient is zero does the job.
const identityNoGrad = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * sg(x): the value of `x`, through which no gradient flows (used by GSPO-token, SPEC-R1 §2).
 *
 * @param x - Any tensor; returned unchanged in value and shape, with a zero gradient.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stopGradient } from '@r1-ts/grpo';
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, stopGradient(x))))(tf.tensor1d([2, 3]));
 * g.print(); // [2, 3] — only the first factor is differentiated
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return identityNoGrad(x) as T;
}
