import { ConfigError } from '@r1-ts/tensor-kernels';

/**
 * How router scores are made from the gate logits (golden §4.5 step 1).
 *
 * @example
 * ```ts
 * import type { ScoringFunc } from '@r1-ts/moe';
 * const v3: ScoringFunc = 'sigmoid'; // V2 used 'softmax' over all experts
 * ```
 */
export type ScoringFunc = 'sigmoid' | 'softmax';

/**
 * How experts are selected. `noaux_tc` (V3): selection on s + bias, group score = sum of the two best
 * biased scores. `greedy` / `group_limited_greedy` (V2, V2-Lite): no bias, group score = max. Group
 * limiting applies whenever `n_group` > 1, whatever the method (golden §4.5 step 3).
 *
 * @example
 * ```ts
 * import type { TopkMethod } from '@r1-ts/moe';
 * const v3: TopkMethod = 'noaux_tc';
 * ```
 */
export type TopkMethod = 'noaux_tc' | 'greedy' | 'group_limited_greedy';

/**
 * The MoE fields of a Hugging Face DeepSeek-V3 config. Extra fields (a whole model config) are
 * ignored, so a model config can be passed as is.
 *
 * @example
 * ```ts
 * import type { MoeConfig } from '@r1-ts/moe';
 * const config: MoeConfig = {
 *   hidden_size: 64, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 4, topk_group: 2,
 *   scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 2.5,
 *   moe_intermediate_size: 32, n_shared_experts: 1,
 * };
 * ```
 */
export interface MoeConfig {
  /** D, the model width. */
  hidden_size: number;
  /** E, routed experts (V3: 256). */
  n_routed_experts: number;
  /** K, routed experts per token (V3: 8). */
  num_experts_per_tok: number;
  /** Gn, consecutive expert groups (V3: 8); 1 disables group limiting. */
  n_group: number;
  /** Gk, groups kept per token (V3: 4). */
  topk_group: number;
  /** Score function (V3: sigmoid; V2: softmax over all E). */
  scoring_func: ScoringFunc;
  /** Selection rule (V3: noaux_tc). */
  topk_method: TopkMethod;
  /** Renormalise the K selected weights to sum to 1 (no epsilon). */
  norm_topk_prob: boolean;
  /** ρ, multiplies the routed weights (V3: 2.5). */
  routed_scaling_factor: number;
  /** Im, hidden width of each expert (V3: 2048). */
  moe_intermediate_size: number;
  /** ns, shared experts, fused into one SwiGLU of width ns·Im; 0 means none (V3: 1). */
  n_shared_experts: number;
  /** Std of the normal initialisation of weights (default 0.02). */
  initializer_range?: number;
}

/**
 * The dense feed-forward fields of a Hugging Face DeepSeek config (the first
 * `first_k_dense_replace` layers use it instead of MoE).
 *
 * @example
 * ```ts
 * import type { DenseMlpConfig } from '@r1-ts/moe';
 * const config: DenseMlpConfig = { hidden_size: 64, intermediate_size: 256 };
 * ```
 */
export interface DenseMlpConfig {
  /** D, the model width. */
  hidden_size: number;
  /** Id, hidden width of the SwiGLU. */
  intermediate_size: number;
  /** Std of the normal initialisation of weights (default 0.02). */
  initializer_range?: number;
}

const SCORING: readonly string[] = ['sigmoid', 'softmax'];
const METHODS: readonly string[] = ['noaux_tc', 'greedy', 'group_limited_greedy'];

/** Throws a ConfigError unless `config[field]` is an integer ≥ `min`. */
export function requireInt(config: object, field: string, min: number): number {
  const v = (config as Record<string, unknown>)[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
    throw new ConfigError(`config.${field} must be ${what}, got ${JSON.stringify(v)}`, [field]);
  }
  return v;
}

/** Throws a ConfigError unless the optional `initializer_range` is a finite non-negative number. */
export function initStd(config: { initializer_range?: number }): number {
  const v = config.initializer_range ?? 0.02;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(`config.initializer_range must be a finite number ≥ 0, got ${JSON.stringify(v)}`, ['initializer_range']);
  }
  return v;
}

/**
 * Checks every MoE field and their relations; throws a {@link ConfigError} naming the field, the
 * value and what was expected. Returns the config typed.
 *
 * @param config - The MoE sizes and routing settings to check (`hidden_size`, `n_routed_experts`, `num_experts_per_tok`, `n_group`, `topk_group`, `moe_intermediate_size`, scoring and bias fields), in Hugging Face `config.json` names.
 *
 * @example
 * ```ts
 * import { validateMoeConfig } from '@r1-ts/moe';
 * try {
 *   validateMoeConfig({ hidden_size: 64, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 4, topk_group: 5,
 *     scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 1,
 *     moe_intermediate_size: 32, n_shared_experts: 1 });
 * } catch (e) { console.log((e as Error).message); } // config.topk_group must be ≤ n_group (4), got 5
 * ```
 */
export function validateMoeConfig(config: MoeConfig): MoeConfig {
  if (typeof config !== 'object' || config === null) throw new ConfigError(`MoE config must be an object, got ${String(config)}`);
  requireInt(config, 'hidden_size', 1);
  const E = requireInt(config, 'n_routed_experts', 1);
  const K = requireInt(config, 'num_experts_per_tok', 1);
  const Gn = requireInt(config, 'n_group', 1);
  const Gk = requireInt(config, 'topk_group', 1);
  requireInt(config, 'moe_intermediate_size', 1);
  requireInt(config, 'n_shared_experts', 0);
  initStd(config);
  if (!SCORING.includes(config.scoring_func)) {
    throw new ConfigError(`config.scoring_func must be one of ${SCORING.join(', ')}, got ${JSON.stringify(config.scoring_func)}`, ['scoring_func']);
  }
  if (!METHODS.includes(config.topk_method)) {
    throw new ConfigError(`config.topk_method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(config.topk_method)}`, ['topk_method']);
  }
  if (typeof config.norm_topk_prob !== 'boolean') {
    throw new ConfigError(`config.norm_topk_prob must be a boolean, got ${JSON.stringify(config.norm_topk_prob)}`, ['norm_topk_prob']);
  }
  const rho = config.routed_scaling_factor;
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho <= 0) {
    throw new ConfigError(`config.routed_scaling_factor must be a finite number > 0, got ${JSON.stringify(rho)}`, ['routed_scaling_factor']);
  }
  if (E % Gn !== 0) {
    throw new ConfigError(`config.n_routed_experts (${E}) must be divisible by config.n_group, got n_group ${Gn}`, ['n_routed_experts', 'n_group']);
  }
  if (Gk > Gn) throw new ConfigError(`config.topk_group must be ≤ n_group (${Gn}), got ${Gk}`, ['topk_group']);
  const kept = Gk * (E / Gn);
  if (K > kept) {
    throw new ConfigError(
      `config.num_experts_per_tok must be ≤ the experts in the kept groups (topk_group·n_routed_experts/n_group = ${kept}), got ${K}`,
      ['num_experts_per_tok'],
    );
  }
  return config;
}
