// Gradients tfjs 4.22 registers but gets wrong when an input was broadcast: they return a gradient
// of the output's shape and backprop fails with "The gradient of input 'b' has shape [2,3], which
// does not match the shape of the input [3]". These replacements sum the gradient back to each
// input's shape (the adjoint of broadcasting) and are otherwise identical to tfjs's.
import { BatchMatMul, Maximum, Minimum, cast, greater, greaterEqual, less, lessEqual, matMul, mul, reshape, sum } from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, GradConfig, Tensor } from '@tensorflow/tfjs';

/**
 * Sums `g` over the axes along which an input of `shape` was broadcast to g's shape.
 *
 * @example
 * ```ts
 * sumToShape(tf.ones([2, 3]), [3]); // [2, 2, 2]
 * ```
 */
export function sumToShape(g: Tensor, shape: number[]): Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(axes.length > 0 ? sum(g, axes) : g, shape);
}

/**
 * d max(a, b): dy goes to a where a ≥ b, else to b (tfjs's tie rule).
 *
 * @example
 * ```ts
 * tf.registerGradient(maximumGrad);
 * tf.grad((b: tf.Tensor) => tf.maximum(tf.ones([2, 3]), b).sum())(tf.tensor1d([0, 2, 0])); // [0, 2, 0]
 * ```
 */
export const maximumGrad: GradConfig = {
  kernelName: Maximum,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved;
    return {
      a: () => sumToShape(mul(dy as Tensor, cast(greaterEqual(a, b), 'float32')), a.shape),
      b: () => sumToShape(mul(dy as Tensor, cast(less(a, b), 'float32')), b.shape),
    };
  },
};

/**
 * d min(a, b): dy goes to a where a ≤ b, else to b (tfjs's tie rule).
 *
 * @example
 * ```ts
 * tf.registerGradient(minimumGrad);
 * tf.grad((b: tf.Tensor) => tf.minimum(tf.ones([2, 3]), b).sum())(tf.tensor1d([0, 2, 0])); // [2, 0, 2]
 * ```
 */
export const minimumGrad: GradConfig = {
  kernelName: Minimum,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved;
    return {
      a: () => sumToShape(mul(dy as Tensor, cast(lessEqual(a, b), 'float32')), a.shape),
      b: () => sumToShape(mul(dy as Tensor, cast(greater(a, b), 'float32')), b.shape),
    };
  },
};

/**
 * C = op(A)·op(B) with broadcast batch dims: the usual matmul adjoints, summed to each input's shape.
 *
 * @example
 * ```ts
 * tf.registerGradient(batchMatMulGrad);
 * tf.grad((b: tf.Tensor) => tf.matMul(tf.ones([2, 3, 4]), b).sum())(tf.ones([4, 5])); // shape [4, 5]
 * ```
 */
export const batchMatMulGrad: GradConfig = {
  kernelName: BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const g = dy as Tensor;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    const [da, db] = !transposeA
      ? !transposeB
        ? [() => matMul(g, b, false, true), () => matMul(a, g, true, false)]
        : [() => matMul(g, b, false, false), () => matMul(g, a, true, false)]
      : !transposeB
        ? [() => matMul(b, g, false, true), () => matMul(a, g, false, false)]
        : [() => matMul(b, g, true, true), () => matMul(g, a, true, true)];
    return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
  },
};
