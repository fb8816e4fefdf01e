import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';

/**
 * The MLA decode cache of one layer: per token only the normalised latent c [B, T, C] and the roped
 * shared key k_pe [B, T, dr] (V3 §2.1.1: what MLA saves over caching full keys and values), plus an
 * optional key-padding mask [B, T] and each row's next position.
 * Tensors are kept outside any `tf.tidy`; call {@link MlaCache.dispose} when done.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { MlaCache } from '@r1-ts/attention-mla';
 * const cache = new MlaCache();
 * cache.append(tf.zeros([2, 3, 32]), tf.zeros([2, 3, 8]));
 * console.log(cache.length, cache.bytes()); // 3 960
 * cache.dispose();
 * ```
 */
export class MlaCache {
  /** Normalised latents [B, T, C], or null while empty. */
  c: tf.Tensor3D | null = null;
  /** Roped shared keys [B, T, dr], or null while empty. */
  kPe: tf.Tensor3D | null = null;
  /** Key-padding mask [B, T] (1 = real token), or null when every cached token is real. */
  keyMask: tf.Tensor2D | null = null;
  /**
   * The position the next token of each row takes (set by `Mla.prefill`/`Mla.decode`: last position
   * + 1; empty while the cache is).
   */
  nextPositions: number[] = [];

  /** Cached tokens per row, padding included. */
  get length(): number {
    return this.c ? this.c.shape[1] : 0;
  }

  /** Batch size, or 0 while empty. */
  get batchSize(): number {
    return this.c ? this.c.shape[0] : 0;
  }

  /** Bytes held by c and k_pe (float32). */
  bytes(): number {
    return ((this.c?.size ?? 0) + (this.kPe?.size ?? 0)) * 4;
  }

  /**
   * Appends T tokens: c [B, T, C] and k_pe [B, T, dr] (copied; the caller keeps ownership of its
   * arguments). `keyMask` [B, T] marks padding among them; without it they are all real.
   */
  append(c: tf.Tensor, kPe: tf.Tensor, keyMask?: tf.Tensor): void {
    const [B, T] = c.shape as number[];
    if (c.rank !== 3 || kPe.rank !== 3 || kPe.shape[0] !== B || kPe.shape[1] !== T) {
      throw new ConfigError(`MlaCache.append: c [B, T, C] and kPe [B, T, dr] must agree, got [${c.shape}] and [${kPe.shape}]`, ['c', 'kPe']);
    }
    if (this.c && (this.c.shape[0] !== B || this.c.shape[2] !== c.shape[2] || this.kPe!.shape[2] !== kPe.shape[2])) {
      throw new ConfigError(`MlaCache.append: cache holds [${this.c.shape}] / [${this.kPe!.shape}], cannot append [${c.shape}] / [${kPe.shape}]`, ['c', 'kPe']);
    }
    const grow = <R extends tf.Rank>(old: tf.Tensor<R> | null, next: tf.Tensor): tf.Tensor<R> => {
      const t = tf.keep(old ? tf.concat([old, next], 1) : next.clone()) as tf.Tensor<R>;
      old?.dispose();
      return t;
    };
    if (keyMask || this.keyMask) {
      if (!this.keyMask && this.c) this.keyMask = tf.keep(tf.ones([B, this.length]) as tf.Tensor2D); // earlier tokens were all real
      const mask = tf.tidy(() => (keyMask ? tf.cast(keyMask, 'float32') : tf.ones([B, T]))); // [B, T]
      this.keyMask = grow(this.keyMask, mask);
      mask.dispose();
    }
    this.c = grow(this.c, c);
    this.kPe = grow(this.kPe, kPe);
  }

  /** Frees the cached tensors and empties the cache. */
  dispose(): void {
    this.c?.dispose();
    this.kPe?.dispose();
    this.keyMask?.dispose();
    this.c = this.kPe = null;
    this.keyMask = null;
    this.nextPositions = [];
  }
}
