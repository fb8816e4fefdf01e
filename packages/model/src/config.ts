import { z } from 'zod';
import { ConfigError } from '@r1-ts/tensor-kernels';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

const yarn = z
  .object({
    type: z.literal('yarn'),
    factor: z.number().min(1),
    original_max_position_embeddings: posInt,
    beta_fast: z.number().positive(),
    beta_slow: z.number().positive(),
    mscale: z.number(),
    mscale_all_dim: z.number(),
  })
  .strict();

/**
 * Fields of a Hugging Face DeepSeek-V3 `config.json` that r1-ts reads (plus V3.2's `index_*`).
 * Other fields real checkpoints carry are accepted and ignored; anything else is an error.
 */
const core = {
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  moe_intermediate_size: posInt,
  num_hidden_layers: posInt,
  first_k_dense_replace: nonNegInt,
  num_attention_heads: posInt,
  n_routed_experts: posInt,
  n_shared_experts: nonNegInt,
  num_experts_per_tok: posInt,
  n_group: posInt,
  topk_group: posInt,
  // z.enum in object form (the same schema as the array form) so TypeDoc finds a declaration per value.
  scoring_func: z.enum({ sigmoid: 'sigmoid', softmax: 'softmax' }),
  topk_method: z.enum({ noaux_tc: 'noaux_tc', greedy: 'greedy', group_limited_greedy: 'group_limited_greedy' }),
  norm_topk_prob: z.boolean(),
  routed_scaling_factor: z.number().positive(),
  q_lora_rank: posInt.nullable(),
  kv_lora_rank: posInt,
  qk_nope_head_dim: posInt,
  qk_rope_head_dim: posInt,
  v_head_dim: posInt,
  rope_theta: z.number().gt(1),
  rope_scaling: yarn.nullable(),
  max_position_embeddings: posInt,
  rms_norm_eps: z.number().positive(),
  num_nextn_predict_layers: z.number().int().min(0).max(1),
  index_n_heads: posInt.nullable().default(null),
  index_head_dim: posInt.nullable().default(null),
  index_topk: posInt.nullable().default(null),
  aux_loss_alpha: z.number().nonnegative().default(1e-4),
};

/** Fields real DeepSeek checkpoints carry that do not change r1-ts's computation. */
const ignored = Object.fromEntries(
  [
    'architectures', 'auto_map', 'model_type', 'torch_dtype', 'dtype', 'transformers_version', 'quantization_config',
    '_name_or_path', 'num_key_value_heads', 'ep_size', 'moe_layer_freq', 'seq_aux', 'hidden_act', 'initializer_range',
    'use_cache', 'pad_token_id', 'bos_token_id', 'eos_token_id', 'pretraining_tp', 'tie_word_embeddings',
    'rope_interleave', 'attention_bias', 'attention_dropout', 'head_dim', 'mlp_bias',
  ].map((k) => [k, z.unknown().optional()]),
);

/**
 * The zod schema of a Hugging Face DeepSeek-V3 `config.json` (plus V3.2's `index_*`), with the
 * cross-field checks; {@link parseConfig} reports its issues as one ConfigError.
 *
 * @example
 * ```ts
 * import { deepSeekConfigSchema, presets } from '@r1-ts/model';
 * console.log(deepSeekConfigSchema.safeParse(presets.tiny).success); // true
 * ```
 */
export const deepSeekConfigSchema = z
  .object({ ...core, ...ignored })
  .strict()
  .superRefine((c, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.qk_rope_head_dim % 2) bad('qk_rope_head_dim', `must be even, got ${c.qk_rope_head_dim}`);
    if (c.n_routed_experts % c.n_group) {
      bad('n_group', `must divide n_routed_experts (${c.n_routed_experts}), got ${c.n_group}`);
    }
    if (c.topk_group > c.n_group) bad('topk_group', `must be <= n_group (${c.n_group}), got ${c.topk_group}`);
    const kept = (c.topk_group * c.n_routed_experts) / c.n_group;
    if (c.num_experts_per_tok > kept) {
      bad('num_experts_per_tok', `must be <= the experts in the kept groups (${kept}), got ${c.num_experts_per_tok}`);
    }
    if (c.first_k_dense_replace > c.num_hidden_layers) {
      bad('first_k_dense_replace', `must be <= num_hidden_layers (${c.num_hidden_layers}), got ${c.first_k_dense_replace}`);
    }
    const idx = [c.index_n_heads, c.index_head_dim, c.index_topk];
    if (idx.some((v) => v === null) && idx.some((v) => v !== null)) {
      bad('index_topk', 'index_n_heads, index_head_dim and index_topk must be all set (DSA) or all null (MLA)');
    }
    if (c.index_topk !== null) {
      if (c.q_lora_rank === null) bad('q_lora_rank', 'DSA (index_topk set) needs q_lora_rank: the indexer reads the q latent');
      if (c.index_head_dim !== null && c.index_head_dim < c.qk_rope_head_dim) {
        bad('index_head_dim', `must be >= qk_rope_head_dim (${c.qk_rope_head_dim}), got ${c.index_head_dim}`);
      }
    }
  });

/**
 * A validated DeepSeek-V3 (optionally V3.2 DSA) model config in Hugging Face field names.
 *
 * @example
 * ```ts
 * import { parseConfig, presets, type DeepSeekConfig } from '@r1-ts/model';
 * const config: DeepSeekConfig = parseConfig(presets.tiny);
 * console.log(config.kv_lora_rank, config.num_experts_per_tok); // 32 2
 * ```
 */
export type DeepSeekConfig = z.output<typeof deepSeekConfigSchema>;
/**
 * What {@link parseConfig} accepts (fields with defaults may be omitted).
 *
 * @example
 * ```ts
 * import { DeepSeekModel, presets, type DeepSeekConfigInput } from '@r1-ts/model';
 * const twoLayers: DeepSeekConfigInput = { ...presets.tiny, num_hidden_layers: 2 };
 * const model = new DeepSeekModel(twoLayers, { seed: 0 });
 * console.log(model.layers.length); // 2
 * ```
 */
export type DeepSeekConfigInput = z.input<typeof deepSeekConfigSchema>;

/**
 * Validates a Hugging Face DeepSeek-V3 `config.json` object. Every problem (wrong type, missing
 * field, unknown field, impossible size) is reported at once in one {@link ConfigError}.
 *
 * @param raw - A parsed `config.json` object (DeepSeek-V3 / V3.2 field names); unknown fields are errors.
 * @param source - Prefix of field paths in error messages, e.g. a file name. Default `config`.
 *
 * @example
 * ```ts
 * import { parseConfig, presets } from '@r1-ts/model';
 * const config = parseConfig({ ...presets.tiny, num_hidden_layers: 2 });
 * console.log(config.num_hidden_layers); // 2
 * ```
 */
export function parseConfig(raw: unknown, source = 'config'): DeepSeekConfig {
  const result = deepSeekConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const path = i.path.length ? `${source}.${i.path.join('.')}` : source;
    if (i.code === 'unrecognized_keys') return `${source}: unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${path}: ${i.message}`;
  });
  const fields = result.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : [i.path.join('.')]));
  throw new ConfigError(`invalid model config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`, fields);
}

const yarnTiny = { type: 'yarn', factor: 4, original_max_position_embeddings: 64, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 } as const;

/**
 * Named configs. `tiny` is the golden fixtures' model (MLA + MoE + one MTP module; the shipped model
 * fixture halves moe_intermediate_size to 16). `small` is the benchmark preset of
 * ../shared/bench/README.md (DSA fields set; use `withAttention(small, 'mla')` for dense MLA).
 *
 * @example
 * ```ts
 * import { presets } from '@r1-ts/model';
 * console.log(presets.small.hidden_size); // 256
 * ```
 */
export const presets = {
  tiny: {
    vocab_size: 64, hidden_size: 64, intermediate_size: 128, moe_intermediate_size: 32, num_hidden_layers: 3,
    first_k_dense_replace: 1, num_attention_heads: 4, n_routed_experts: 8, n_shared_experts: 1, num_experts_per_tok: 2,
    n_group: 4, topk_group: 2, scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true,
    routed_scaling_factor: 2.5, q_lora_rank: 32, kv_lora_rank: 32, qk_nope_head_dim: 16, qk_rope_head_dim: 8,
    v_head_dim: 16, rope_theta: 10000, rope_scaling: yarnTiny, max_position_embeddings: 256, rms_norm_eps: 1e-6,
    index_n_heads: null, index_head_dim: null, index_topk: null, num_nextn_predict_layers: 1, aux_loss_alpha: 1e-4,
  },
  small: {
    vocab_size: 512, hidden_size: 256, intermediate_size: 512, moe_intermediate_size: 128, num_hidden_layers: 4,
    first_k_dense_replace: 1, num_attention_heads: 8, n_routed_experts: 16, n_shared_experts: 1, num_experts_per_tok: 2,
    n_group: 8, topk_group: 4, scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true,
    routed_scaling_factor: 2.5, q_lora_rank: 128, kv_lora_rank: 64, qk_nope_head_dim: 32, qk_rope_head_dim: 16,
    v_head_dim: 32, rope_theta: 10000, rope_scaling: { ...yarnTiny, original_max_position_embeddings: 256 },
    max_position_embeddings: 1024, rms_norm_eps: 1e-6, index_n_heads: 4, index_head_dim: 32, index_topk: 64,
    num_nextn_predict_layers: 0, aux_loss_alpha: 1e-4,
  },
} as const satisfies Record<string, DeepSeekConfigInput>;

/**
 * The same config with dense MLA (`'mla'`: index fields null) or sparse DSA attention (`'dsa'`,
 * with the given indexer sizes).
 *
 * @param config - The config to copy (not changed).
 * @param attention - `mla`: dense Multi-head Latent Attention (the `index_*` fields become null); `dsa`: DeepSeek Sparse Attention with the indexer below.
 * @param indexer - Indexer sizes for `dsa`: heads `index_n_heads`, head width `index_head_dim`, and `index_topk` keys each query attends to. Default 4 heads of 32, top 64.
 *
 * @example
 * ```ts
 * import { presets, withAttention } from '@r1-ts/model';
 * const dense = withAttention(presets.small, 'mla');
 * console.log(dense.index_topk); // null
 * ```
 */
export function withAttention(
  config: DeepSeekConfigInput,
  attention: 'mla' | 'dsa',
  indexer: { index_n_heads: number; index_head_dim: number; index_topk: number } = { index_n_heads: 4, index_head_dim: 32, index_topk: 64 },
): DeepSeekConfig {
  const base = attention === 'mla' ? { index_n_heads: null, index_head_dim: null, index_topk: null } : indexer;
  return parseConfig({ ...config, ...base });
}

/**
 * True when the config selects DeepSeek Sparse Attention (V3.2): `index_topk` is set.
 *
 * @param config - A validated config.
 *
 * @example
 * ```ts
 * import { parseConfig, presets, usesDsa } from '@r1-ts/model';
 * console.log(usesDsa(parseConfig(presets.small)), usesDsa(parseConfig(presets.tiny))); // true false
 * ```
 */
export function usesDsa(config: DeepSeekConfig): boolean {
  return config.index_topk !== null;
}
