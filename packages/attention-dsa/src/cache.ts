import * as tf from '@tensorflow/tfjs';
import { MlaCache } from '@r1-ts/attention-mla';

/**
 * The DSA decode cache: the MLA latent cache (c, k_pe per token) plus the indexer's key per token
 * [B, T, Di]. Call {@link DsaCache.dispose} when done.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DsaCache } from '@r1-ts/attention-dsa';
 * const cache = new DsaCache();
 * cache.append(tf.zeros([1, 2, 32]), tf.zeros([1, 2, 8]));
 * cache.appendIndexKeys(tf.zeros([1, 2, 16]));
 * console.log(cache.length, cache.bytes()); // 2 448
 * cache.dispose();
 * ```
 */
export class DsaCache extends MlaCache {
  /** Indexer keys [B, T, Di], or null while empty. */
  indexKeys: tf.Tensor3D | null = null;

  /** Appends indexer keys [B, T, Di] (copied). */
  appendIndexKeys(k: tf.Tensor): void {
    const next = tf.keep(this.indexKeys ? tf.concat([this.indexKeys, k], 1) : k.clone()) as tf.Tensor3D;
    this.indexKeys?.dispose();
    this.indexKeys = next;
  }

  /** Bytes held by c, k_pe and the indexer keys (float32). */
  override bytes(): number {
    return super.bytes() + (this.indexKeys?.size ?? 0) * 4;
  }

  /** Frees every cached tensor. */
  override dispose(): void {
    super.dispose();
    this.indexKeys?.dispose();
    this.indexKeys = null;
  }
}
