// Gradient of Rope. For x it is the same rotation by −angle (one Rope kernel with `inverse`
// flipped). cos/sin are usually constant tables; their gradients, rarely needed, are composed from
// tfjs ops: with pairs (a, b), dcos = Σ dy_a·x_a + dy_b·x_b and dsin = ±Σ dy_b·x_a − dy_a·x_b,
// summed over heads and, for shared [S, d/2] tables, over the batch.
import * as tf from '@tensorflow/tfjs';
import { Rope, asAttrs, asInputs } from '../kernel_names';
import type { RopeAttrs } from '../kernel_names';

/** The two halves (a, b) of every rotated pair of t [..., d], each [..., d/2]. */
function pairs(t: tf.Tensor, layout: RopeAttrs['layout']): [tf.Tensor, tf.Tensor] {
  if (layout === 'half') return tf.split(t, 2, -1) as [tf.Tensor, tf.Tensor];
  const d = t.shape[t.rank - 1];
  const [a, b] = tf.split(tf.reshape(t, [...t.shape.slice(0, -1), d / 2, 2]), 2, -1);
  return [tf.squeeze(a, [-1]), tf.squeeze(b, [-1])];
}

/** Sums a [B, S, (H,) d/2] product down to the table's shape [S, d/2] or [B, S, d/2]. */
function toTable(t: tf.Tensor, table: tf.Tensor): tf.Tensor {
  let r = t.rank === 4 ? tf.sum(t, 2) : t; // [B, S, d/2]
  if (table.rank === 2) r = tf.sum(r, 0); // [S, d/2]
  return r;
}

/** Registered gradient of {@link Rope}. */
export const ropeGradConfig: tf.GradConfig = {
  kernelName: Rope,
  inputsToSave: ['x', 'cos', 'sin'],
  gradFunc: (dy, saved, attrs) => {
    const [x, cos, sin] = saved;
    const { layout, inverse } = attrs as unknown as RopeAttrs;
    const g = dy as tf.Tensor;
    return {
      x: () => tf.engine().runKernel(Rope, asInputs({ x: g, cos, sin }), asAttrs({ layout, inverse: !inverse })) as tf.Tensor,
      cos: () => {
        const [xa, xb] = pairs(x, layout);
        const [ga, gb] = pairs(g, layout);
        return toTable(tf.add(tf.mul(ga, xa), tf.mul(gb, xb)), cos);
      },
      sin: () => {
        const [xa, xb] = pairs(x, layout);
        const [ga, gb] = pairs(g, layout);
        const t = toTable(tf.sub(tf.mul(gb, xa), tf.mul(ga, xb)), sin);
        return inverse ? tf.neg(t) : t;
      },
    };
  },
};
