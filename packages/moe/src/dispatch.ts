import * as tf from '@tensorflow/tfjs';

/** The (token, slot) pairs of one batch, sorted by expert. */
export interface ExpertGroups {
  /** perm[j] = the pair (t·K + k) at sorted position j; pairs of expert e are contiguous. [T·K] */
  perm: Int32Array;
  /** The inverse permutation: inverse[perm[j]] = j. [T·K] */
  inverse: Int32Array;
  /** Pairs routed to each expert: the expert load. [E] */
  counts: Int32Array;
  /** Start of expert e's block in sorted order. [E + 1] */
  offsets: Int32Array;
}

/**
 * Counting sort of the flat (token, slot) → expert table by expert id (stable: token order is kept
 * inside an expert's block). Integer bookkeeping only; O(T·K + E).
 */
export function groupByExpert(indices: Int32Array, numExperts: number): ExpertGroups {
  const n = indices.length;
  const counts = new Int32Array(numExperts);
  for (let j = 0; j < n; j++) counts[indices[j]]++;
  const offsets = new Int32Array(numExperts + 1);
  for (let e = 0; e < numExperts; e++) offsets[e + 1] = offsets[e] + counts[e];
  const next = offsets.slice(0, numExperts);
  const perm = new Int32Array(n);
  const inverse = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const pos = next[indices[j]]++;
    perm[pos] = j;
    inverse[j] = pos;
  }
  return { perm, inverse, counts, offsets };
}

/**
 * Rows of x reordered by a permutation: out[j] = x[perm[j]]. Because `perm` is a bijection the
 * gradient is the inverse reordering (a gather, not a scatter-add), which every backend has.
 */
export function permuteRows(x: tf.Tensor2D, perm: Int32Array, inverse: Int32Array): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const inv = tf.tensor1d(inverse, 'int32');
    save([inv]);
    const idx = tf.tensor1d(perm, 'int32');
    const value = tf.gather(input, idx); // [N, D]
    idx.dispose();
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0]) };
  });
  return op(x) as tf.Tensor2D;
}
