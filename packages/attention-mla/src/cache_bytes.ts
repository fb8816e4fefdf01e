import type { MlaConfig } from './config';
import { validateMlaConfig } from './config';

/**
 * Bytes one MLA layer caches per token in float32: the latent c (kv_lora_rank) plus the shared roped
 * key k_pe (qk_rope_head_dim), 4 bytes each (V3 §2.1.1).
 *
 * @param config - The MLA config; only `kv_lora_rank` and `qk_rope_head_dim` matter.
 *
 * @example
 * ```ts
 * import { kvCacheBytesPerToken } from '@r1-ts/attention-mla';
 * // DeepSeek-V3: (512 + 64) · 4 = 2304 bytes per token per layer
 * console.log(kvCacheBytesPerToken({ hidden_size: 7168, num_attention_heads: 128, q_lora_rank: 1536,
 *   kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, rope_theta: 10000,
 *   rope_scaling: null, max_position_embeddings: 4096, rms_norm_eps: 1e-6 }));
 * ```
 */
export function kvCacheBytesPerToken(config: MlaConfig): number {
  validateMlaConfig(config);
  return (config.kv_lora_rank + config.qk_rope_head_dim) * 4;
}

/**
 * Bytes a standard multi-head attention layer with the same heads and head widths caches per token in
 * float32: full keys H·(dn + dr) plus values H·dv, 4 bytes each. Compare with {@link kvCacheBytesPerToken}.
 *
 * @param config - The MLA config; `num_attention_heads`, `qk_nope_head_dim`, `qk_rope_head_dim` and `v_head_dim` matter.
 *
 * @example
 * ```ts
 * import { mhaKvCacheBytesPerToken } from '@r1-ts/attention-mla';
 * // DeepSeek-V3 sizes: 128 · (192 + 128) · 4 = 163840 bytes per token per layer
 * console.log(mhaKvCacheBytesPerToken({ hidden_size: 7168, num_attention_heads: 128, q_lora_rank: 1536,
 *   kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, rope_theta: 10000,
 *   rope_scaling: null, max_position_embeddings: 4096, rms_norm_eps: 1e-6 }));
 * ```
 */
export function mhaKvCacheBytesPerToken(config: MlaConfig): number {
  validateMlaConfig(config);
  const { num_attention_heads: H, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv } = config;
  return H * (dn + dr + dv) * 4;
}
