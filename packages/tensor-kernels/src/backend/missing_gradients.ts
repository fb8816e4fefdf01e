// Gradients tfjs 4.22 does not register for any backend, needed to train models that route
// gradients through top-k selection or N-d gather/scatter (MoE routing, sparse attention).
import { GatherNd, ScatterNd, TopK, gatherND, range, reshape, scatterND, stack, tidy, tile, zerosLike } from '@tensorflow/tfjs';
import type { GradConfig, Tensor } from '@tensorflow/tfjs';

/**
 * d gatherND(params, indices) / d params = scatterND(indices, dy, params.shape).
 *
 * @example
 * ```ts
 * tf.registerGradient(gatherNdGrad);
 * tf.grad((p: tf.Tensor) => tf.gatherND(p, tf.tensor2d([[1]], [1, 1], 'int32')).sum())(tf.ones([3])); // [0, 1, 0]
 * ```
 */
export const gatherNdGrad: GradConfig = {
  kernelName: GatherNd,
  inputsToSave: ['params', 'indices'],
  gradFunc: (dy, saved) => {
    const [params, indices] = saved;
    return { params: () => scatterND(indices, dy as Tensor, params.shape), indices: () => zerosLike(indices) };
  },
};

/**
 * d scatterND(indices, updates, shape) / d updates = gatherND(dy, indices).
 *
 * @example
 * ```ts
 * tf.registerGradient(scatterNdGrad);
 * tf.grad((u: tf.Tensor) => tf.scatterND(tf.tensor2d([[2]], [1, 1], 'int32'), u, [4]).sum())(tf.ones([1])); // [1]
 * ```
 */
export const scatterNdGrad: GradConfig = {
  kernelName: ScatterNd,
  inputsToSave: ['indices'],
  gradFunc: (dy, saved) => {
    const [indices] = saved;
    return { updates: () => gatherND(dy as Tensor, indices), indices: () => zerosLike(indices) };
  },
};

/**
 * topk(x) = (values, indices): dx[r, indices[r, j]] += dValues[r, j] per row r of the last axis;
 * indices carry no gradient.
 *
 * @example
 * ```ts
 * tf.registerGradient(topKGrad);
 * tf.grad((x: tf.Tensor) => tf.topk(x, 1).values.sum())(tf.tensor1d([1, 3, 2])); // [0, 1, 0]
 * ```
 */
export const topKGrad: GradConfig = {
  kernelName: TopK,
  inputsToSave: ['x'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved) => {
    const [x, indices] = saved;
    const dValues = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
    return {
      x: () =>
        tidy(() => {
          const n = x.shape[x.rank - 1] ?? 1;
          const k = indices.shape[indices.rank - 1] ?? 1;
          const rows = x.size / n;
          const rowIds = tile(reshape(range(0, rows, 1, 'int32'), [rows, 1]), [1, k]); // [rows, k]
          const pairs = reshape(stack([rowIds, reshape(indices, [rows, k])], 2), [rows * k, 2]); // (row, column)
          const flat = scatterND(pairs, reshape(dValues, [rows * k]), [rows, n]); // [rows, n]
          return reshape(flat, x.shape);
        }),
    };
  },
};
