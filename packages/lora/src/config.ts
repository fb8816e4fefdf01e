import { z } from 'zod';
import { ConfigError, rejectUnknownKeys } from '@r1-ts/tensor-kernels';

/**
 * A LoRA configuration, with PEFT's `LoraConfig` field names (what `adapter_config.json` holds).
 * Only what r1-ts implements is accepted: plain LoRA (no DoRA), no bias training, `nn.Linear`
 * weight layout (`fan_in_fan_out: false`).
 *
 * @example
 * ```ts
 * import type { LoraConfig } from '@r1-ts/lora';
 * const config: LoraConfig = {
 *   r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: 'all-linear', use_rslora: false,
 *   exclude_modules: null, base_model_name_or_path: 'Qwen/Qwen2.5-0.5B-Instruct',
 * };
 * ```
 */
export interface LoraConfig {
  /** Rank of the update ΔW = B·A (A [r, in], B [out, r]). */
  r: number;
  /** α: the update is scaled by α/r (α/√r with `use_rslora`). */
  lora_alpha: number;
  /** Dropout probability on the adapter's input while training (0 = off). */
  lora_dropout: number;
  /**
   * Which linear layers get an adapter: module names matched as PEFT does (`q_proj` matches
   * `model.layers.0.self_attn.q_proj`), a single string that must match a whole module name as a
   * regular expression, or `all-linear` (every linear layer except the output head).
   */
  target_modules: string[] | string;
  /** Rank-stabilised LoRA (Kalajdzievski 2023): scale α/√r instead of α/r. */
  use_rslora: boolean;
  /** Module names (same matching as `target_modules`) never adapted; null = none. */
  exclude_modules: string[] | string | null;
  /** Where the base model came from (written to adapter_config.json; informational). */
  base_model_name_or_path: string | null;
}

/**
 * What {@link parseLoraConfig} accepts: every field but `r` optional, PEFT's defaults filled in
 * (`lora_alpha` 8, `lora_dropout` 0, `use_rslora` false, `target_modules` `all-linear` — PEFT has no
 * default for the latter; all-linear is what QLoRA and TRL recipes use).
 *
 * @example
 * ```ts
 * import { parseLoraConfig, type LoraConfigInput } from '@r1-ts/lora';
 * const input: LoraConfigInput = { r: 8, target_modules: ['q_proj', 'v_proj'] };
 * console.log(parseLoraConfig(input).lora_alpha); // 8
 * ```
 */
export type LoraConfigInput = Partial<LoraConfig> & { r: number };

const targets = z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]);

/** PEFT-only fields r1-ts reads but cannot honour unless they hold their neutral value. */
const unsupported: Record<string, (v: unknown) => boolean> = {
  // First: with it PEFT also writes rank_pattern/alpha_pattern, and this is the cause to name.
  target_parameters: (v) => v === undefined || v === null || (Array.isArray(v) && v.length === 0),
  peft_type: (v) => v === undefined || v === 'LORA',
  bias: (v) => v === undefined || v === 'none',
  fan_in_fan_out: (v) => v === undefined || v === false,
  use_dora: (v) => v === undefined || v === false,
  lora_bias: (v) => v === undefined || v === false,
  modules_to_save: (v) => v === undefined || v === null || (Array.isArray(v) && v.length === 0),
  layers_to_transform: (v) => v === undefined || v === null,
  layer_replication: (v) => v === undefined || v === null,
  rank_pattern: (v) => v === undefined || v === null || (typeof v === 'object' && Object.keys(v).length === 0),
  alpha_pattern: (v) => v === undefined || v === null || (typeof v === 'object' && Object.keys(v).length === 0),
  trainable_token_indices: (v) => v === undefined || v === null,
  use_qalora: (v) => v === undefined || v === false,
  alora_invocation_tokens: (v) => v === undefined || v === null,
  arrow_config: (v) => v === undefined || v === null,
  use_bdlora: (v) => v === undefined || v === null || v === false,
};

const schema = z.strictObject({
  r: z.number().int().positive(),
  lora_alpha: z.number().positive().finite().default(8),
  lora_dropout: z.number().min(0).lt(1).default(0),
  target_modules: targets.default('all-linear'),
  use_rslora: z.boolean().default(false),
  exclude_modules: targets.nullable().default(null),
  base_model_name_or_path: z.string().nullable().default(null),
});

/**
 * Validates a LoRA configuration and fills PEFT's defaults. Unknown fields and bad values throw a
 * ConfigError naming the field, the value and what was expected.
 *
 * @param input - PEFT-style fields: `r`, `lora_alpha`, `lora_dropout`, `target_modules` (default `all-linear`), `exclude_modules`, `use_rslora`, `init_lora_weights`; omitted fields take PEFT's defaults.
 *
 * @example
 * ```ts
 * import { parseLoraConfig } from '@r1-ts/lora';
 * const c = parseLoraConfig({ r: 16, lora_alpha: 32 });
 * console.log(c.target_modules, c.use_rslora); // 'all-linear' false
 * ```
 */
export function parseLoraConfig(input: LoraConfigInput): LoraConfig {
  if (input && typeof input === 'object') rejectUnknownKeys(input, Object.keys(schema.shape), 'lora config', { rank: 'r', alpha: 'lora_alpha', dropout: 'lora_dropout', targets: 'target_modules', rslora: 'use_rslora' });
  return check(input, schema, 'lora config');
}

/**
 * Reads the fields of a PEFT `adapter_config.json` object. PEFT writes many bookkeeping fields
 * (`revision`, `inference_mode`, `megatron_config`, …) that are ignored; fields that would change
 * the math (`use_dora`, `bias`, `rank_pattern`, `modules_to_save`, …) must hold their neutral value,
 * else a ConfigError names them.
 *
 * @param json - The parsed `adapter_config.json` object as PEFT wrote it.
 * @param source - Name used for the file in error messages. Default `adapter_config.json`.
 *
 * @example
 * ```ts
 * import { loraConfigFromPeft } from '@r1-ts/lora';
 * const c = loraConfigFromPeft({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj'], task_type: 'CAUSAL_LM', inference_mode: true });
 * console.log(c.r, c.target_modules); // 8 ['q_proj']
 * ```
 */
export function loraConfigFromPeft(json: Record<string, unknown>, source = 'adapter_config.json'): LoraConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`${source} must be a JSON object`, []);
  for (const [key, ok] of Object.entries(unsupported)) {
    if (!ok(json[key])) {
      const why = key === 'target_parameters'
        ? " (LoRA on bare or fused parameters: PEFT's form for MoE routers and experts in transformers ≥ 5; r1-ts adapts nn.Linear layers only)"
        : ' (plain LoRA only)';
      throw new ConfigError(`${source}: ${key} = ${JSON.stringify(json[key])} is not supported by @r1-ts/lora${why}`, [key]);
    }
  }
  const known = Object.keys(schema.shape);
  const picked: Record<string, unknown> = {};
  for (const k of known) if (json[k] !== undefined) picked[k] = json[k];
  return check(picked, schema, source);
}

/**
 * The `adapter_config.json` object PEFT writes for `config` (PEFT's field set, neutral values for
 * what r1-ts does not implement), so PEFT, transformers and vLLM load the adapter unchanged.
 *
 * @param config - A validated LoRA config (from {@link parseLoraConfig}).
 * @param targetModules - The module names `all-linear` resolved to on the actual model; when given they are written instead of `all-linear`. Default: `target_modules` as configured.
 *
 * @example
 * ```ts
 * import { parseLoraConfig, peftAdapterConfig } from '@r1-ts/lora';
 * const json = peftAdapterConfig(parseLoraConfig({ r: 4, target_modules: ['q_proj'] }));
 * console.log(json.peft_type, json.task_type); // LORA CAUSAL_LM
 * ```
 */
export function peftAdapterConfig(config: LoraConfig, targetModules?: string[]): Record<string, unknown> {
  // `all-linear` is saved expanded, as PEFT does, so a reader need not know what "linear" meant here.
  const target = config.target_modules === 'all-linear' && targetModules ? targetModules : config.target_modules;
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: config.base_model_name_or_path,
    bias: 'none',
    exclude_modules: config.exclude_modules,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: config.lora_alpha,
    lora_bias: false,
    lora_dropout: config.lora_dropout,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r: config.r,
    rank_pattern: {},
    revision: null,
    target_modules: target,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: config.use_rslora,
  };
}

/**
 * The factor the update B·A is multiplied by: α/r, or α/√r with rsLoRA.
 *
 * @param config - Rank `r`, `lora_alpha` α and `use_rslora` of the adapter.
 *
 * @example
 * ```ts
 * import { loraScale, parseLoraConfig } from '@r1-ts/lora';
 * console.log(loraScale(parseLoraConfig({ r: 16, lora_alpha: 32 }))); // 2
 * console.log(loraScale(parseLoraConfig({ r: 16, lora_alpha: 32, use_rslora: true }))); // 8
 * ```
 */
export function loraScale(config: Pick<LoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return config.use_rslora ? config.lora_alpha / Math.sqrt(config.r) : config.lora_alpha / config.r;
}

function check<T extends z.ZodType>(input: unknown, s: T, source: string): z.output<T> {
  const parsed = s.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new ConfigError(`${source}: unknown field(s) ${issue.keys.join(', ')}; expected ${Object.keys(schema.shape).join(', ')}`, issue.keys);
  }
  const field = issue.path.join('.') || '(root)';
  const value = issue.path.length ? (input as Record<string, unknown>)?.[String(issue.path[0])] : input;
  throw new ConfigError(`${source}: ${field} is invalid: ${issue.message}, got ${JSON.stringify(value)}`, [field]);
}
