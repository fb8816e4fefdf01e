// Row surgery on the model's per-layer MLA/DSA decode caches, for continuous batching: sequences join
// a running batch (their prefilled cache rows are left-padded to a common length and concatenated) and
// leave it (their rows are gathered out). Only the latents c, the roped keys k_pe, DSA's indexer keys,
// the key mask and the next positions live in a cache, so this is plain tensor bookkeeping.
import * as tf from '@tensorflow/tfjs';
import { DsaCache } from '@r1-ts/attention-dsa';
import { MlaCache } from '@r1-ts/attention-mla';
import { usesDsa } from '@r1-ts/model';
import type { DeepSeekModel, ModelCache } from '@r1-ts/model';

/**
 * An empty decode cache for `model`: one {@link MlaCache} per layer, or a {@link DsaCache} when the
 * config uses DeepSeek Sparse Attention (whose decode also caches indexer keys).
 *
 * @example
 * ```ts
 * import { DeepSeekModel, presets } from '@r1-ts/model';
 * const cache = newBatchCache(new DeepSeekModel(presets.tiny));
 * console.log(cache.layers.length); // 3
 * ```
 */
export function newBatchCache(model: DeepSeekModel): ModelCache {
  const dsa = usesDsa(model.config);
  const layers = model.layers.map(() => (dsa ? new DsaCache() : new MlaCache()));
  return { layers, dispose: () => layers.forEach((c) => c.dispose()) };
}

type AnyCache = MlaCache & { indexKeys?: tf.Tensor3D | null };

/** Left-pads a [B, T, ·] or [B, T] tensor with zeros to T + pad columns. */
function padLeft<T extends tf.Tensor>(x: T, pad: number): T {
  if (pad === 0) return x.clone();
  const widths: [number, number][] = x.shape.map(() => [0, 0] as [number, number]);
  widths[1] = [pad, 0];
  return tf.pad(x, widths) as T;
}

/**
 * Appends the rows of `extra` to `into` (both per-layer caches of the same model): the shorter one is
 * left-padded with masked zero columns. `extra` is disposed.
 *
 * @example
 * ```ts
 * mergeBatchCaches(running, prefilled); // running now holds both batches' rows
 * ```
 */
export function mergeBatchCaches(into: ModelCache, extra: ModelCache): void {
  into.layers.forEach((a0, i) => {
    const a = a0 as AnyCache;
    const b = extra.layers[i] as AnyCache;
    const T = Math.max(a.length, b.length);
    const cat = <R extends tf.Rank>(x: tf.Tensor | null, y: tf.Tensor | null, ta: number, tb: number) =>
      tf.tidy(() => tf.concat([padLeft(x!, T - ta), padLeft(y!, T - tb)], 0)) as tf.Tensor<R>;
    const mask = (m: MlaCache) => m.keyMask ?? tf.ones([m.batchSize, m.length]); // [B, T]
    const joined = {
      c: cat<tf.Rank.R3>(a.c, b.c, a.length, b.length), // [Ba+Bb, T, C]
      kPe: cat<tf.Rank.R3>(a.kPe, b.kPe, a.length, b.length), // [Ba+Bb, T, dr]
      keyMask: tf.tidy(() => cat<tf.Rank.R2>(mask(a), mask(b), a.length, b.length)), // [Ba+Bb, T]
      indexKeys: a.indexKeys ? cat<tf.Rank.R3>(a.indexKeys, b.indexKeys ?? null, a.length, b.length) : null, // [Ba+Bb, T, Di]
    };
    const next = [...a.nextPositions, ...b.nextPositions];
    a.dispose();
    a.c = joined.c;
    a.kPe = joined.kPe;
    a.keyMask = joined.keyMask;
    if (joined.indexKeys) a.indexKeys = joined.indexKeys;
    a.nextPositions = next;
  });
  extra.dispose();
}

/**
 * Keeps only the given rows of a batch cache (in that order) and drops the first `trim` columns (left
 * padding that every remaining row has).
 *
 * @example
 * ```ts
 * selectBatchRows(cache, [0, 2], 3); // rows 0 and 2 stay; 3 all-padding columns go
 * ```
 */
export function selectBatchRows(cache: ModelCache, rows: readonly number[], trim = 0): void {
  for (const l of cache.layers) {
    const layer = l as AnyCache;
    const T = layer.length;
    const pick = <R extends tf.Rank>(x: tf.Tensor<R>) =>
      tf.tidy(() => {
        const g = tf.gather(x, tf.tensor1d(rows as number[], 'int32'), 0); // [B', T, ·]
        const begin = g.shape.map((_, i) => (i === 1 ? trim : 0));
        const size = g.shape.map((s, i) => (i === 1 ? T - trim : s));
        return tf.keep(tf.slice(g, begin, size)) as tf.Tensor<R>;
      });
    const swap = <R extends tf.Rank>(x: tf.Tensor<R> | null): tf.Tensor<R> | null => {
      if (!x) return null;
      const y = pick(x);
      x.dispose();
      return y;
    };
    layer.c = swap(layer.c);
    layer.kPe = swap(layer.kPe);
    layer.keyMask = swap(layer.keyMask);
    if (layer.indexKeys) layer.indexKeys = swap(layer.indexKeys);
    layer.nextPositions = rows.map((r) => layer.nextPositions[r]);
  }
}
