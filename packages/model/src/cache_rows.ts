// Row surgery on decode caches, for continuous batching: sequences join a running batch (their prefilled
// cache rows are left-padded to a common length and concatenated) and leave it (their rows are gathered
// out). Each family owns its layout — DeepSeek's per-layer MLA/DSA caches hold latents c [B, T, C],
// roped keys k_pe [B, T, dr] (DSA: indexer keys [B, T, Di]) and a mask per layer; the dense KvCache
// holds k, v [B, Hkv, T, hd] per layer and one shared mask [B, T] — so this is plain tensor
// bookkeeping on the right axes. Padding columns are masked (0), so they never receive attention.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { MlaCache } from '@r1-ts/attention-mla';
import type { DecodeCache } from './causal_lm';
import { KvCache } from './dense/kv_cache';
import type { ModelCache } from './model';

type AnyMla = MlaCache & { indexKeys?: tf.Tensor3D | null };

/** Left-pads `x` with zeros on `axis` to `pad` more columns (a copy either way). */
function padLeft<T extends tf.Tensor>(x: T, pad: number, axis: number): T {
  if (pad === 0) return x.clone();
  const widths: [number, number][] = x.shape.map(() => [0, 0] as [number, number]);
  widths[axis] = [pad, 0];
  return tf.pad(x, widths) as T;
}

/** Rows `rows` of `x` (axis 0), without the first `trim` columns of `axis`. */
function pick<T extends tf.Tensor>(x: T, rows: readonly number[], trim: number, axis: number): T {
  return tf.tidy(() => {
    const g = tf.gather(x, tf.tensor1d(rows as number[], 'int32'), 0);
    const begin = g.shape.map((_, i) => (i === axis ? trim : 0));
    const size = g.shape.map((s, i) => (i === axis ? s - trim : s));
    return tf.keep(tf.slice(g, begin, size)) as T;
  });
}

/** Joins two tensors' rows (axis 0) after left-padding each to T columns on `axis`. */
function joinRows<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor, T: number, axis: number): T {
  return tf.tidy(() => tf.keep(tf.concat([padLeft(a, T - a.shape[axis]!, axis), padLeft(b, T - b.shape[axis]!, axis)], 0))) as T;
}

function isModelCache(c: DecodeCache): c is ModelCache {
  const layers = (c as Partial<ModelCache>).layers;
  return Array.isArray(layers) && layers.every((l) => l instanceof MlaCache);
}

function unsupported(c: DecodeCache): never {
  throw new ConfigError(`cache rows: unsupported decode cache ${c.constructor?.name ?? typeof c} (expected a dense KvCache or DeepSeek's per-layer MLA/DSA caches)`, ['cache']);
}

/**
 * Cached tokens per row (padding included) of any family's decode cache; 0 while empty.
 *
 * @param cache - A decode cache of any family.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DeepSeekModel, cacheLength, presets } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny, { seed: 0 });
 * const cache = model.newCache();
 * model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), {}, cache);
 * console.log(cacheLength(cache)); // 3
 * cache.dispose();
 * ```
 */
export function cacheLength(cache: DecodeCache): number {
  if (cache instanceof KvCache) return cache.length;
  if (isModelCache(cache)) return cache.layers[0]?.length ?? 0;
  return unsupported(cache);
}

/**
 * Appends the rows of `extra` to `into` (two decode caches of the same model, e.g. a running batch
 * and a freshly prefilled one): the shorter one is left-padded with masked zero columns, positions
 * are kept per row. `extra` is disposed.
 *
 * @param into - The cache that receives the rows (changed in place).
 * @param extra - A cache of the same model whose rows are appended; disposed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DenseModel, mergeCacheRows } from '@r1-ts/model';
 * const model = new DenseModel({ model_type: 'llama', vocab_size: 32, hidden_size: 16, intermediate_size: 32,
 *   num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
 * const a = model.newCache();
 * const b = model.newCache();
 * model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), {}, a);
 * model.forward(tf.tensor2d([[4]], [1, 1], 'int32'), {}, b);
 * mergeCacheRows(a, b);
 * console.log(a.length, a.nextPositions); // 3 [3, 1]
 * a.dispose();
 * ```
 */
export function mergeCacheRows(into: DecodeCache, extra: DecodeCache): void {
  if (into instanceof KvCache && extra instanceof KvCache) mergeKv(into, extra);
  else if (isModelCache(into) && isModelCache(extra)) mergeMla(into, extra);
  else unsupported(isModelCache(into) || into instanceof KvCache ? extra : into);
  extra.dispose();
}

/**
 * Keeps only the given rows of a decode cache (in that order) and drops its first `trim` columns
 * (left padding every remaining row has).
 *
 * @param cache - The decode cache (changed in place).
 * @param rows - Indices of the rows to keep, in the new order.
 * @param trim - Number of leading columns to drop (padding every kept row has). Default 0.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DenseModel, selectCacheRows } from '@r1-ts/model';
 * const model = new DenseModel({ model_type: 'qwen2', vocab_size: 32, hidden_size: 16, intermediate_size: 32,
 *   num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * const cache = model.newCache();
 * model.forward(tf.tensor2d([[1, 2, 3], [0, 4, 5]], [2, 3], 'int32'), { keyMask: tf.tensor2d([[1, 1, 1], [0, 1, 1]]) }, cache);
 * selectCacheRows(cache, [1], 1); // row 1 stays; its one padding column goes
 * console.log(cache.length); // 2
 * cache.dispose();
 * ```
 */
export function selectCacheRows(cache: DecodeCache, rows: readonly number[], trim = 0): void {
  const T = cacheLength(cache);
  if (!Number.isInteger(trim) || trim < 0 || trim > T) throw new ConfigError(`selectCacheRows: trim must be an integer in [0, ${T}], got ${trim}`, ['trim']);
  if (cache instanceof KvCache) selectKv(cache, rows, trim);
  else if (isModelCache(cache)) selectMla(cache, rows, trim);
  else unsupported(cache);
}

/** Swaps `x` for `f(x)`, disposing the old tensor. */
function swap<T extends tf.Tensor>(x: T | null, f: (x: T) => T): T | null {
  if (!x) return null;
  const y = f(x);
  x.dispose();
  return y;
}

function mergeKv(a: KvCache, b: KvCache): void {
  if (a.layers.length !== b.layers.length) throw new ConfigError(`mergeCacheRows: caches of ${a.layers.length} and ${b.layers.length} layers`, ['extra']);
  const T = Math.max(a.length, b.length);
  a.layers.forEach((la, i) => {
    const lb = b.layers[i];
    la.k = swap(la.k, (k) => joinRows<tf.Tensor4D>(k, lb.k!, T, 2)); // [Ba+Bb, Hkv, T, hd]
    la.v = swap(la.v, (v) => joinRows<tf.Tensor4D>(v, lb.v!, T, 2)); // [Ba+Bb, Hkv, T, hd]
  });
  a.keyMask = swap(a.keyMask, (m) => joinRows<tf.Tensor2D>(m, b.keyMask!, T, 1)); // [Ba+Bb, T]
  a.nextPositions = [...a.nextPositions, ...b.nextPositions];
}

function selectKv(cache: KvCache, rows: readonly number[], trim: number): void {
  for (const l of cache.layers) {
    l.k = swap(l.k, (k) => pick(k, rows, trim, 2)); // [B', Hkv, T − trim, hd]
    l.v = swap(l.v, (v) => pick(v, rows, trim, 2));
  }
  cache.keyMask = swap(cache.keyMask, (m) => pick(m, rows, trim, 1)); // [B', T − trim]
  cache.nextPositions = rows.map((r) => cache.nextPositions[r]);
}

function mergeMla(into: ModelCache, extra: ModelCache): void {
  into.layers.forEach((a0, i) => {
    const a = a0 as AnyMla;
    const b = extra.layers[i] as AnyMla;
    const T = Math.max(a.length, b.length);
    const mask = (m: MlaCache) => m.keyMask ?? tf.ones([m.batchSize, m.length]); // [B, T]
    const joined = {
      c: joinRows<tf.Tensor3D>(a.c!, b.c!, T, 1), // [Ba+Bb, T, C]
      kPe: joinRows<tf.Tensor3D>(a.kPe!, b.kPe!, T, 1), // [Ba+Bb, T, dr]
      keyMask: tf.tidy(() => joinRows<tf.Tensor2D>(mask(a), mask(b), T, 1)), // [Ba+Bb, T]
      indexKeys: a.indexKeys ? joinRows<tf.Tensor3D>(a.indexKeys, b.indexKeys!, T, 1) : null, // [Ba+Bb, T, Di]
    };
    const next = [...a.nextPositions, ...b.nextPositions];
    a.dispose();
    a.c = joined.c;
    a.kPe = joined.kPe;
    a.keyMask = joined.keyMask;
    if (joined.indexKeys) a.indexKeys = joined.indexKeys;
    a.nextPositions = next;
  });
}

function selectMla(cache: ModelCache, rows: readonly number[], trim: number): void {
  for (const l of cache.layers) {
    const layer = l as AnyMla;
    layer.c = swap(layer.c, (x) => pick(x, rows, trim, 1)); // [B', T − trim, C]
    layer.kPe = swap(layer.kPe, (x) => pick(x, rows, trim, 1));
    layer.keyMask = swap(layer.keyMask, (x) => pick(x, rows, trim, 1));
    if (layer.indexKeys) layer.indexKeys = swap(layer.indexKeys, (x) => pick(x, rows, trim, 1));
    layer.nextPositions = rows.map((r) => layer.nextPositions[r]);
  }
}
