import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';

/**
 * The decode cache of a dense model: per layer the keys (after q/k-norm and RoPE) and values of
 * every token seen, [B, Hkv, T, hd] each, plus the key-padding mask and each row's next position,
 * shared by all layers (golden/README §7.6). GQA keeps only the Hkv key/value heads.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DenseModel } from '@r1-ts/model';
 * const model = new DenseModel({ model_type: 'qwen2', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *   num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * const cache = model.newCache();
 * model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), {}, cache); // prefill
 * console.log(cache.length, cache.nextPositions); // 3 [3]
 * cache.dispose();
 * ```
 */
export class KvCache {
  /** Per layer: keys and values [B, Hkv, T, hd] (null while empty). */
  readonly layers: { k: tf.Tensor4D | null; v: tf.Tensor4D | null }[];
  /** [B, T] 1 = real token, 0 = padding; null while empty. */
  keyMask: tf.Tensor2D | null = null;
  /** The position the next token of each row takes. */
  nextPositions: number[] = [];

  /**
   * An empty key/value cache for a dense model.
   *
   * @param numLayers - Number of decoder layers (`num_hidden_layers`); each gets its own K and V [B, Hkv, T, hd].
   */
  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => ({ k: null, v: null }));
  }

  /** Cached tokens per row, padding included. */
  get length(): number {
    return this.keyMask ? this.keyMask.shape[1] : 0;
  }

  /** Bytes held by the cached keys and values (float32). */
  bytes(): number {
    return this.layers.reduce((n, l) => n + ((l.k?.size ?? 0) + (l.v?.size ?? 0)) * 4, 0);
  }

  /** Appends the mask [B, T] of T new tokens (once per forward, before the layers append k/v). */
  appendMask(mask: tf.Tensor): void {
    const m = tf.tidy(() => tf.cast(mask, 'float32') as tf.Tensor2D);
    if (this.keyMask && this.keyMask.shape[0] !== m.shape[0]) {
      m.dispose();
      throw new ConfigError(`KvCache: batch size ${mask.shape[0]} differs from the cached ${this.keyMask.shape[0]}`, ['tokens']);
    }
    this.keyMask = this.grow(this.keyMask, m, 1);
    m.dispose();
  }

  /** Appends layer `i`'s new k, v [B, Hkv, T, hd] and returns the whole cached k, v. */
  append(i: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const l = this.layers[i];
    l.k = this.grow(l.k, k, 2);
    l.v = this.grow(l.v, v, 2);
    return { k: l.k, v: l.v };
  }

  private grow<T extends tf.Tensor>(old: T | null, next: tf.Tensor, axis: number): T {
    const t = tf.keep(old ? tf.concat([old, next], axis) : next.clone()) as T;
    old?.dispose();
    return t;
  }

  /** Frees every cached tensor and empties the cache. */
  dispose(): void {
    for (const l of this.layers) {
      l.k?.dispose();
      l.v?.dispose();
      l.k = l.v = null;
    }
    this.keyMask?.dispose();
    this.keyMask = null;
    this.nextPositions = [];
  }
}
