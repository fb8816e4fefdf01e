import { ConfigError } from '@r1-ts/tensor-kernels';
import { validateMlaConfig } from '@r1-ts/attention-mla';
import type { MlaConfig } from '@r1-ts/attention-mla';

/**
 * An MLA config plus the lightning indexer's fields (Hugging Face DeepSeek-V3.2 names, golden §3).
 * DSA needs `q_lora_rank` non-null: the indexer reads MLA's compressed query.
 *
 * @example
 * ```ts
 * import type { DsaConfig } from '@r1-ts/attention-dsa';
 * const config: DsaConfig = {
 *   hidden_size: 64, num_attention_heads: 4, q_lora_rank: 32, kv_lora_rank: 32, qk_nope_head_dim: 16,
 *   qk_rope_head_dim: 8, v_head_dim: 16, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 256,
 *   rms_norm_eps: 1e-6, index_n_heads: 4, index_head_dim: 16, index_topk: 8,
 * };
 * ```
 */
export interface DsaConfig extends MlaConfig {
  /** Hi: indexer heads. */
  index_n_heads: number;
  /** Di: indexer head width (≥ qk_rope_head_dim; the first dr dims are roped). */
  index_head_dim: number;
  /** k: keys each query attends to. */
  index_topk: number;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/**
 * Checks a DSA config (the MLA fields, then the indexer's) and throws a {@link ConfigError} naming the
 * first bad field, its value and what was expected.
 *
 * @param config - The DSA config to check: the MLA fields plus `index_n_heads`, `index_head_dim`, `index_topk`.
 *
 * @example
 * ```ts
 * import { validateDsaConfig } from '@r1-ts/attention-dsa';
 * try {
 *   validateDsaConfig({ hidden_size: 64, num_attention_heads: 4, q_lora_rank: null, kv_lora_rank: 32,
 *     qk_nope_head_dim: 16, qk_rope_head_dim: 8, v_head_dim: 16, rope_theta: 10000, rope_scaling: null,
 *     max_position_embeddings: 256, rms_norm_eps: 1e-6, index_n_heads: 4, index_head_dim: 16, index_topk: 8 });
 * } catch (e) { console.log((e as Error).message); } // config.q_lora_rank must be a positive integer for DSA …
 * ```
 */
export function validateDsaConfig(config: DsaConfig): void {
  validateMlaConfig(config);
  if (config.q_lora_rank === null) {
    throw new ConfigError('config.q_lora_rank must be a positive integer for DSA (the indexer reads the compressed query), got null', ['q_lora_rank']);
  }
  for (const f of ['index_n_heads', 'index_head_dim', 'index_topk'] as const) {
    if (!isPosInt(config[f])) throw new ConfigError(`config.${f} must be a positive integer, got ${JSON.stringify(config[f])}`, [f]);
  }
  if (config.index_head_dim < config.qk_rope_head_dim) {
    throw new ConfigError(
      `config.index_head_dim must be >= qk_rope_head_dim (${config.qk_rope_head_dim}): its first dims are roped, got ${config.index_head_dim}`,
      ['index_head_dim'],
    );
  }
}
