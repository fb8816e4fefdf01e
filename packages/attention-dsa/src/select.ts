import * as tf from '@tensorflow/tfjs';

/**
 * Which keys each query may consider: 1 where key s ≤ the query's position (query i of Sq sits at
 * Sk − Sq + i) and s is not padding, else 0. Returns [B, Sq, Sk] float32.
 *
 * @param B - Batch size.
 * @param Sq - Number of queries (the last Sq of the Sk positions).
 * @param Sk - Number of keys (cached prefix plus the new tokens).
 * @param keyMask - [B, Sk] 1 for real tokens, 0 for padding; absent or null: every key is real.
 *
 * @example
 * ```ts
 * import { causalAllowed } from '@r1-ts/attention-dsa';
 * causalAllowed(1, 3, 3).print(); // lower-triangular ones
 * ```
 */
export function causalAllowed(B: number, Sq: number, Sk: number, keyMask?: tf.Tensor | null): tf.Tensor3D {
  return tf.tidy(() => {
    const qpos = tf.reshape(tf.add(tf.range(0, Sq, 1, 'int32'), Sk - Sq), [Sq, 1]);
    const kpos = tf.reshape(tf.range(0, Sk, 1, 'int32'), [1, Sk]);
    let allowed = tf.tile(tf.expandDims(tf.cast(tf.lessEqual(kpos, qpos), 'float32'), 0), [B, 1, 1]); // [B, Sq, Sk]
    if (keyMask) allowed = tf.mul(allowed, tf.reshape(tf.cast(keyMask, 'float32'), [B, 1, Sk]));
    return allowed as tf.Tensor3D;
  });
}

/**
 * Top-k key selection of the lightning indexer (golden §4.6 step 5): per query the min(k, #allowed)
 * highest-scoring allowed keys, listed in ascending order and padded with −1 to width k. The result
 * is a fresh int32 tensor [B, Sq, k] with no gradient path (top-k is not differentiable).
 *
 * @param scores - [B, Sq, Sk] index scores
 * @param allowed - [B, Sq, Sk] 1 where a key may be chosen (see {@link causalAllowed})
 * @param k - How many keys to keep per query (`index_topk`); the output width.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { causalAllowed, selectTopK } from '@r1-ts/attention-dsa';
 * const idx = selectTopK(tf.tensor3d([[[3, 0, 0], [1, 2, 0], [5, 1, 4]]]), causalAllowed(1, 3, 3), 2);
 * console.log(idx.arraySync()); // [[[0, -1], [0, 1], [0, 2]]]
 * ```
 */
export function selectTopK(scores: tf.Tensor, allowed: tf.Tensor, k: number): tf.Tensor3D {
  const [B, Sq, Sk] = scores.shape as number[];
  const kk = Math.min(k, Sk);
  const out = new Int32Array(B * Sq * k).fill(-1);
  if (kk > 0) {
    const { values, indices } = tf.tidy(() => tf.topk(tf.where(tf.greater(allowed, 0), scores, tf.fill(scores.shape, -Infinity)), kk));
    const v = values.dataSync();
    const ix = indices.dataSync();
    tf.dispose([values, indices]);
    const row: number[] = [];
    for (let r = 0; r < B * Sq; r++) {
      row.length = 0;
      for (let j = 0; j < kk; j++) if (v[r * kk + j] !== -Infinity) row.push(ix[r * kk + j]);
      row.sort((a, b) => a - b);
      for (let j = 0; j < row.length; j++) out[r * k + j] = row[j];
    }
  }
  return tf.tensor3d(out, [B, Sq, k], 'int32');
}

/**
 * The selected set as a 0/1 mask [B, Sq, Sk] from top-k indices [B, Sq, k] (−1 slots ignored).
 *
 * @param indices - [B, Sq, k] int32 key indices from {@link selectTopK}, −1 in unused slots.
 * @param Sk - Number of keys: the mask's last dimension.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { selectionMask } from '@r1-ts/attention-dsa';
 * selectionMask(tf.tensor3d([[[0, 2], [1, -1]]], [1, 2, 2], 'int32'), 3).print(); // [[[1,0,1],[0,1,0]]]
 * ```
 */
export function selectionMask(indices: tf.Tensor, Sk: number): tf.Tensor3D {
  const [B, Sq, k] = indices.shape as number[];
  return tf.tidy(() => {
    const oh = tf.reshape(tf.oneHot(tf.reshape(indices, [-1]), Sk), [B, Sq, k, Sk]); // −1 → all-zero row
    return tf.minimum(tf.sum(oh, 2), 1) as tf.Tensor3D; // [B, Sq, Sk]
  });
}
