import { ConfigError } from '@r1-ts/tensor-kernels';
import type { YarnScaling } from '@r1-ts/tensor-kernels';

/**
 * The fields one MLA layer reads, in Hugging Face DeepSeek-V3 config names (golden/README §3).
 * Extra fields (MoE, vocabulary, …) may be present and are ignored.
 *
 * @example
 * ```ts
 * import type { MlaConfig } from '@r1-ts/attention-mla';
 * const config: MlaConfig = {
 *   hidden_size: 64, num_attention_heads: 4, q_lora_rank: 32, kv_lora_rank: 32,
 *   qk_nope_head_dim: 16, qk_rope_head_dim: 8, v_head_dim: 16, rope_theta: 10000,
 *   rope_scaling: null, max_position_embeddings: 256, rms_norm_eps: 1e-6,
 * };
 * ```
 */
export interface MlaConfig {
  /** D: model width. */
  hidden_size: number;
  /** H: attention heads. */
  num_attention_heads: number;
  /** R: compressed query width; `null` = no query compression (a plain `q_proj`). */
  q_lora_rank: number | null;
  /** C: width of the cached KV latent. */
  kv_lora_rank: number;
  /** dn: per-head query/key width without position. */
  qk_nope_head_dim: number;
  /** dr: per-head decoupled RoPE width (even). */
  qk_rope_head_dim: number;
  /** dv: per-head value width. */
  v_head_dim: number;
  /** θ: RoPE base (10000 in DeepSeek-V3). */
  rope_theta: number;
  /** YaRN scaling, or `null` for plain RoPE. */
  rope_scaling: YarnScaling | null;
  /** Pmax: longest supported position. */
  max_position_embeddings: number;
  /** ε of every RMSNorm (1e-6). */
  rms_norm_eps: number;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function fail(field: string, value: unknown, expected: string): never {
  throw new ConfigError(`config.${field} must be ${expected}, got ${JSON.stringify(value)}`, [field]);
}

/**
 * Checks an MLA config and throws a {@link ConfigError} naming the first bad field, its value and
 * what was expected (negative or fractional sizes, odd RoPE width, bad YaRN block, …).
 *
 * @param config - The MLA config to check, in Hugging Face `config.json` names.
 *
 * @example
 * ```ts
 * import { validateMlaConfig } from '@r1-ts/attention-mla';
 * try {
 *   validateMlaConfig({ hidden_size: 64, num_attention_heads: 4, q_lora_rank: null, kv_lora_rank: -3,
 *     qk_nope_head_dim: 16, qk_rope_head_dim: 8, v_head_dim: 16, rope_theta: 10000, rope_scaling: null,
 *     max_position_embeddings: 256, rms_norm_eps: 1e-6 });
 * } catch (e) { console.log((e as Error).message); } // config.kv_lora_rank must be a positive integer, got -3
 * ```
 */
export function validateMlaConfig(config: MlaConfig): void {
  if (config === null || typeof config !== 'object') fail('(root)', config, 'an object');
  for (const f of ['hidden_size', 'num_attention_heads', 'kv_lora_rank', 'qk_nope_head_dim', 'v_head_dim', 'max_position_embeddings'] as const) {
    if (!isPosInt(config[f])) fail(f, config[f], 'a positive integer');
  }
  if (config.q_lora_rank !== null && !isPosInt(config.q_lora_rank)) fail('q_lora_rank', config.q_lora_rank, 'a positive integer or null');
  const dr = config.qk_rope_head_dim;
  if (!isPosInt(dr) || dr % 2 !== 0) fail('qk_rope_head_dim', dr, 'a positive even integer');
  if (typeof config.rope_theta !== 'number' || !(config.rope_theta > 1)) fail('rope_theta', config.rope_theta, 'a number > 1');
  if (typeof config.rms_norm_eps !== 'number' || !(config.rms_norm_eps > 0)) fail('rms_norm_eps', config.rms_norm_eps, 'a number > 0');
  const s = config.rope_scaling;
  if (s === undefined) fail('rope_scaling', s, 'a YaRN object or null');
  if (s !== null) {
    if (typeof s !== 'object') fail('rope_scaling', s, 'a YaRN object or null');
    if (s.type !== 'yarn') fail('rope_scaling.type', s.type, '"yarn"');
    if (typeof s.factor !== 'number' || !(s.factor >= 1)) fail('rope_scaling.factor', s.factor, 'a number >= 1');
    if (!isPosInt(s.original_max_position_embeddings)) {
      fail('rope_scaling.original_max_position_embeddings', s.original_max_position_embeddings, 'a positive integer');
    }
    for (const f of ['beta_fast', 'beta_slow'] as const) {
      if (typeof s[f] !== 'number' || !(s[f] > 0)) fail(`rope_scaling.${f}`, s[f], 'a number > 0');
    }
    if (typeof s.mscale_all_dim !== 'number' || !Number.isFinite(s.mscale_all_dim)) {
      fail('rope_scaling.mscale_all_dim', s.mscale_all_dim, 'a finite number');
    }
  }
}
