import * as tf from '@tensorflow/tfjs';
import { Rope, asAttrs, asInputs } from '../kernel_names';
import { expectShape, expectTensor, fail, hasFusedKernel } from './fused';

/**
 * Which pairs RoPE rotates: (2i, 2i+1) for MLA, (i, i+d/2) for the DSA indexer.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { applyRope, ropeCosSin, type RopeLayout } from '@r1-ts/tensor-kernels';
 * const { cos, sin } = ropeCosSin({ qk_rope_head_dim: 4, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 16 }, [0, 1]);
 * const layout: RopeLayout = 'half'; // the indexer's pairing
 * const y = applyRope(tf.ones([1, 2, 4]), cos, sin, layout); // [1, 2, 4]
 * ```
 */
export type RopeLayout = 'interleaved' | 'half';

/**
 * Rotates the last axis of x by the angles in cos/sin (golden/README §4.2). The output keeps the
 * input's element order. One fused kernel forward and one backward (rotation by −angle) on
 * cpu/wasm.
 *
 * @param x - [B, S, H, d] or [B, S, d], float32, d even
 * @param cos - [S, d/2] (same positions for every row) or [B, S, d/2] (per-row positions)
 * @param sin - same shape as cos
 * @param layout - How the last axis pairs up: `interleaved` (x[2i], x[2i+1]; MLA) or `half` (x[i], x[i + d/2]; the DSA indexer).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { applyRope, ropeCosSin } from '@r1-ts/tensor-kernels';
 * const { cos, sin } = ropeCosSin({ qk_rope_head_dim: 4, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 16 }, [0, 1]);
 * const y = applyRope(tf.ones([1, 2, 4]), cos, sin, 'interleaved'); // [1, 2, 4]
 * ```
 */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, layout: RopeLayout): tf.Tensor {
  const op = 'applyRope';
  expectTensor(op, 'x', x, 'float32');
  expectTensor(op, 'cos', cos, 'float32');
  expectTensor(op, 'sin', sin, 'float32');
  if (layout !== 'interleaved' && layout !== 'half') fail(op, 'layout', `must be 'interleaved' or 'half', got ${JSON.stringify(layout)}`);
  if (x.rank !== 3 && x.rank !== 4) fail(op, 'x', `must be [B, S, H, d] or [B, S, d], got [${x.shape}]`);
  const [B, S] = x.shape;
  const d = x.shape[x.rank - 1];
  if (d % 2 !== 0) fail(op, 'x', `last axis d must be even, got ${d}`);
  if (cos.rank === 3) expectShape(op, 'cos', cos, [B, S, d / 2], '[B, S, d/2] from x');
  else expectShape(op, 'cos', cos, [S, d / 2], '[S, d/2] from x, or [B, S, d/2]');
  expectShape(op, 'sin', sin, cos.shape, "cos's shape");
  if (!hasFusedKernel(Rope)) return applyRopeComposite(x, cos, sin, layout);
  return tf.engine().runKernel(Rope, asInputs({ x, cos, sin }), asAttrs({ layout, inverse: false })) as tf.Tensor;
}

/** applyRope from tfjs ops, for backends without the fused kernel. */
export function applyRopeComposite(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, layout: RopeLayout): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[x.rank - 1];
    const half = d / 2;
    // Broadcast cos/sin [S, d/2] or [B, S, d/2] against x [B, S, (H,) d/2].
    const expand = (t: tf.Tensor) => {
      let r = t.rank === 2 ? t.expandDims(0) : t; // [B|1, S, d/2]
      if (x.rank === 4) r = r.expandDims(2); // [B|1, S, 1, d/2]
      return r;
    };
    const c = expand(cos);
    const s = expand(sin);
    if (layout === 'half') {
      const [x1, x2] = tf.split(x, 2, -1); // [..., d/2] each
      const y1 = tf.sub(tf.mul(x1, c), tf.mul(x2, s));
      const y2 = tf.add(tf.mul(x1, s), tf.mul(x2, c));
      return tf.concat([y1, y2], -1);
    }
    const pairs = tf.reshape(x, [...x.shape.slice(0, -1), half, 2]); // [..., d/2, 2]
    const [xe, xo] = tf.split(pairs, 2, -1).map((t) => tf.squeeze(t, [-1])); // [..., d/2]
    const ye = tf.sub(tf.mul(xe, c), tf.mul(xo, s));
    const yo = tf.add(tf.mul(xe, s), tf.mul(xo, c));
    return tf.reshape(tf.stack([ye, yo], -1), x.shape); // [..., d]
  });
}
