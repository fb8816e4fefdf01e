import { z } from 'zod';
import { ConfigError } from '@r1-ts/tensor-kernels';

const posInt = z.number().int().positive();

/**
 * `rope_scaling` of a Hugging Face Llama / Qwen2 / Qwen3 config, after normalisation: transformers
 * accepts the kind under `rope_type` or the legacy `type`; `default` means no scaling.
 *
 * @example
 * ```ts
 * import type { DenseRopeScaling } from '@r1-ts/model';
 * const llama31: DenseRopeScaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
 * ```
 */
export type DenseRopeScaling =
  | { rope_type: 'linear'; factor: number }
  | { rope_type: 'llama3'; factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number }
  | {
      rope_type: 'yarn';
      factor: number;
      original_max_position_embeddings: number;
      beta_fast?: number;
      beta_slow?: number;
      mscale?: number;
      mscale_all_dim?: number;
      attention_factor?: number;
      truncate?: boolean;
    };

const linear = z.object({ rope_type: z.literal('linear'), factor: z.number().positive() });
const llama3 = z.object({
  rope_type: z.literal('llama3'),
  factor: z.number().positive(),
  low_freq_factor: z.number().positive(),
  high_freq_factor: z.number().positive(),
  original_max_position_embeddings: posInt,
});
const yarn = z.object({
  rope_type: z.literal('yarn'),
  factor: z.number().positive(),
  original_max_position_embeddings: posInt,
  beta_fast: z.number().positive().optional(),
  beta_slow: z.number().positive().optional(),
  mscale: z.number().optional(),
  mscale_all_dim: z.number().optional(),
  attention_factor: z.number().positive().optional(),
  truncate: z.boolean().optional(),
});
const ropeScaling = z.discriminatedUnion('rope_type', [linear, llama3, yarn]).nullable();

/** The fields every dense family reads; HF defaults where transformers has one. */
const denseFields = {
  model_type: z.enum({ llama: 'llama', qwen2: 'qwen2', qwen3: 'qwen3' }),
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.optional(),
  head_dim: posInt.nullable().optional(),
  hidden_act: z.literal('silu').default('silu'),
  max_position_embeddings: posInt,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().gt(1).default(10000),
  rope_scaling: ropeScaling.default(null),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  tie_word_embeddings: z.boolean().default(false),
  use_sliding_window: z.literal(false).optional(),
  bos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
  pad_token_id: z.number().int().nullable().optional(),
};

const schema = z.looseObject(denseFields).superRefine((c, ctx) => {
  const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const H = c.num_attention_heads;
  const Hkv = c.num_key_value_heads ?? H;
  if (H % Hkv) bad('num_key_value_heads', `must divide num_attention_heads (${H}), got ${Hkv}`);
  const hd = c.head_dim ?? c.hidden_size / H;
  if (!Number.isInteger(hd)) bad('head_dim', `is absent and hidden_size (${c.hidden_size}) is not a multiple of num_attention_heads (${H})`);
  else if (hd % 2) bad('head_dim', `must be even (RoPE rotates pairs), got ${hd}`);
  if (c.model_type === 'qwen2' && c.head_dim != null && c.head_dim !== c.hidden_size / H) {
    bad('head_dim', `qwen2 has no head_dim of its own: must equal hidden_size / num_attention_heads (${c.hidden_size / H}), got ${c.head_dim}`);
  }
  if (c.model_type !== 'llama' && c.mlp_bias) bad('mlp_bias', `only llama has MLP biases, got true for ${c.model_type}`);
});

/**
 * A validated dense decoder config (Llama / Qwen2 / Qwen3) in Hugging Face field names, with the
 * defaults transformers applies filled in (`num_key_value_heads`, `head_dim`, `rope_theta`, ...).
 * Fields the model does not read are kept as they were (they are written back on save).
 *
 * @example
 * ```ts
 * import { parseDenseConfig, type DenseConfig } from '@r1-ts/model';
 * const c: DenseConfig = parseDenseConfig({ model_type: 'qwen2', vocab_size: 64, hidden_size: 32, intermediate_size: 64,
 *   num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-6 });
 * console.log(c.head_dim, c.num_key_value_heads); // 8 2
 * ```
 */
export interface DenseConfig {
  model_type: 'llama' | 'qwen2' | 'qwen3';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Default num_attention_heads (no GQA). */
  num_key_value_heads: number;
  /** Default hidden_size / num_attention_heads. */
  head_dim: number;
  hidden_act: 'silu';
  max_position_embeddings: number;
  rms_norm_eps: number;
  /** Default 10000. */
  rope_theta: number;
  rope_scaling: DenseRopeScaling | null;
  attention_bias: boolean;
  mlp_bias: boolean;
  tie_word_embeddings: boolean;
  bos_token_id?: number | number[] | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  /** Other fields of config.json, kept for saving. */
  [field: string]: unknown;
}

/**
 * Which optional parts a dense family's layers carry (transformers' per-family choices, §7.2).
 *
 * @example
 * ```ts
 * import { denseParts, parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'qwen3', vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
 *   num_attention_heads: 4, head_dim: 16, max_position_embeddings: 128, rms_norm_eps: 1e-6 });
 * console.log(denseParts(c)); // { qkvBias: false, oBias: false, qkNorm: true, mlpBias: false }
 * ```
 */
export interface DenseParts {
  /** q/k/v projections have biases (qwen2 always; llama/qwen3 with `attention_bias`). */
  qkvBias: boolean;
  /** o_proj has a bias (llama/qwen3 with `attention_bias`; never qwen2). */
  oBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (qwen3). */
  qkNorm: boolean;
  /** gate/up/down projections have biases (llama `mlp_bias`). */
  mlpBias: boolean;
}

/**
 * The parts of a dense family's layers, from its `model_type` and bias flags.
 *
 * @param c - A validated dense config.
 *
 * @example
 * ```ts
 * import { denseParts, parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'qwen2', vocab_size: 8, hidden_size: 16, intermediate_size: 8, num_hidden_layers: 1,
 *   num_attention_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * console.log(denseParts(c).qkvBias, denseParts(c).oBias); // true false
 * ```
 */
export function denseParts(c: DenseConfig): DenseParts {
  const qwen2 = c.model_type === 'qwen2';
  return { qkvBias: qwen2 || c.attention_bias, oBias: !qwen2 && c.attention_bias, qkNorm: c.model_type === 'qwen3', mlpBias: c.mlp_bias };
}

/**
 * transformers 5 moves `rope_theta` / `rope_scaling` into `rope_parameters`; older configs spell
 * the kind `type`. Both map onto the 4.x fields before validation.
 */
function normaliseRope(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw };
  const params = out.rope_parameters as Record<string, unknown> | undefined;
  if (params && typeof params === 'object') {
    const { rope_theta, ...rest } = params;
    if (rope_theta !== undefined && out.rope_theta === undefined) out.rope_theta = rope_theta;
    if (out.rope_scaling === undefined) out.rope_scaling = rest;
  }
  const s = out.rope_scaling as Record<string, unknown> | null | undefined;
  if (s && typeof s === 'object') {
    const { type, ...rest } = s;
    const kind = rest.rope_type ?? type;
    out.rope_scaling = kind === 'default' || kind === undefined ? null : { ...rest, rope_type: kind };
  }
  return out;
}

/**
 * Validates a Hugging Face `llama` / `qwen2` / `qwen3` `config.json` object; every problem is
 * reported at once in one {@link ConfigError} naming the field, the value and what was expected.
 *
 * @param raw - A parsed `config.json` object with `model_type` `llama`, `qwen2` or `qwen3`.
 * @param source - Prefix of field paths in error messages, e.g. a file name. Default `config`.
 *
 * @example
 * ```ts
 * import { parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'llama', vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
 *   num_attention_heads: 4, max_position_embeddings: 128, rms_norm_eps: 1e-5,
 *   rope_scaling: { rope_type: 'linear', factor: 2 } });
 * console.log(c.rope_scaling?.rope_type); // 'linear'
 * ```
 */
export function parseDenseConfig(raw: unknown, source = 'config'): DenseConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source} must be a JSON object, got ${JSON.stringify(raw)}`);
  const result = schema.safeParse(normaliseRope(raw as Record<string, unknown>));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.length ? `${source}.${i.path.join('.')}` : source}: ${i.message}`);
    throw new ConfigError(
      `invalid ${String((raw as Record<string, unknown>).model_type)} config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`,
      result.error.issues.map((i) => i.path.join('.')),
    );
  }
  const c = result.data as z.output<typeof schema>;
  const head_dim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  return { ...c, num_key_value_heads: c.num_key_value_heads ?? c.num_attention_heads, head_dim, rope_scaling: c.rope_scaling as DenseRopeScaling | null } as DenseConfig;
}
