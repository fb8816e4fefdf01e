import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import type { Policy } from './policy';
import type { ImportanceSampling, LossType } from './policy_loss';
import type { RolloutCorrection } from './mismatch';
import type { ScaleRewards } from './advantages';
import type { PromptSample, RewardFunction } from './rewards';
import type { TrainerEvent } from './events';

/**
 * Options of {@link GrpoTrainer}. Defaults follow SPEC-R1 §2 and TRL's `GRPOConfig`.
 *
 * @example
 * ```ts
 * import type { GrpoTrainerOptions, Policy } from '@r1-ts/grpo';
 * declare const policy: Policy;
 * const options: GrpoTrainerOptions<{ prompt: string; answer: string }> = {
 *   policy, dataset: [{ prompt: '2+2=', answer: '4' }],
 *   rewardFunctions: [(c, s) => (c.trim() === s.answer ? 1 : 0)],
 *   numGenerations: 16, beta: 0.001, epsilonHigh: 0.28, dynamicSampling: true,
 * };
 * ```
 */
export interface GrpoTrainerOptions<S extends PromptSample = PromptSample> {
  /** The model being trained. The trainer never disposes it. */
  policy: Policy;
  /** Training prompts; visited in a seeded shuffled order, epoch after epoch. Non-empty. */
  dataset: readonly S[];
  /** Reward functions; names in the logs come from `fn.name` (`reward_<k>` if anonymous). Non-empty. */
  rewardFunctions: ReadonlyArray<RewardFunction<S>>;
  /** One weight per reward function. Default all 1. */
  rewardWeights?: readonly number[];
  /** G, completions per prompt (≥ 2). Default 8. */
  numGenerations?: number;
  /** Prompts (groups) per trainer step. Default 4. */
  promptsPerStep?: number;
  /** Sequences per optimizer step. Default: the whole batch (promptsPerStep · G), one update per iteration. */
  miniBatchSize?: number;
  /** Sequences per forward/backward pass; gradients are accumulated up to miniBatchSize. Default miniBatchSize. */
  microBatchSize?: number;
  /** μ, optimisation passes over each rollout batch (≥ 1). Default 1. */
  numIterations?: number;
  /** β, KL coefficient; 0 creates no reference model. Default 0.001 (R1). */
  beta?: number;
  /** ε_low (> 0). Default 0.2. */
  epsilonLow?: number;
  /** ε_high (> 0). Default epsilonLow (use 0.28 for DAPO clip-higher). */
  epsilonHigh?: number;
  /** Ratio level. Default `token` (GRPO); `sequence` is GSPO. */
  importanceSampling?: ImportanceSampling;
  /** Aggregation. Default `grpo`. */
  lossType?: LossType;
  /** Advantage scaling. Default `group`. */
  scaleRewards?: ScaleRewards;
  /** Sampling temperature (> 0); log-probs use the same temperature. Default 1. */
  temperature?: number;
  /** Nucleus sampling (0 < topP ≤ 1). Default 1. */
  topP?: number;
  /** L_max: new tokens per completion (also the `dr_grpo` denominator). Default 256. */
  maxCompletionLength?: number;
  /** DAPO dynamic sampling: drop groups whose rewards are all equal and sample more prompts to refill. Default false. */
  dynamicSampling?: boolean;
  /** Sampling rounds per step with dynamic sampling (≥ 1); after them the step trains on what it has. Default 4. */
  dynamicSamplingMaxTries?: number;
  /** DAPO overlong filtering: truncated completions get mask 0 (no loss). Default false. */
  maskTruncatedCompletions?: boolean;
  /** Replace the reference model by a copy of the policy every N trainer steps; 0 = never. Default 0. */
  refModelSyncSteps?: number;
  /** Adam learning rate (ignored with `optimizer`). Default 1e-6 (TRL). */
  learningRate?: number;
  /** Optimizer to use instead of Adam; the caller owns it. */
  optimizer?: tf.Optimizer;
  /** Clip gradients to this global L2 norm; 0 = off. Default 1. */
  maxGradNorm?: number;
  /**
   * log π_old after the first update of a step: `sampling` = the log-probs `generate` recorded;
   * `recompute` = one no-grad `logProbs` pass before training (bitwise consistent with training).
   * Until the first update, π_old is the current policy and sg(logp) is used, so w = 1 exactly.
   * Default `sampling`.
   */
  oldLogProbs?: 'sampling' | 'recompute';
  /**
   * With a rollout engine ({@link EnginePolicy}): how many weight versions old a rollout may be when it
   * is trained on. 0 = synchronous; ≥ 1 generates step t+1's rollouts while step t trains, and drops
   * and regenerates any rollout older than this. Default 0.
   */
  maxStaleness?: number;
  /**
   * Engine/trainer mismatch correction (TRL `vllm_importance_sampling_mode`): `token_truncate` (TIS),
   * `token_mask` (MIS), `sequence_truncate`, `sequence_mask`, or `none`. Costs one no-grad log-prob
   * pass per step. Default `none`.
   */
  rolloutCorrection?: RolloutCorrection;
  /** The cap C of {@link GrpoTrainerOptions.rolloutCorrection} (> 0; TRL `vllm_importance_sampling_cap`). Default 2. */
  rolloutCorrectionCap?: number;
  /** Seed of the prompt order and of sampling. Default 0. */
  seed?: number;
  /** Progress/metrics callback (step start/end, each optimizer step, warnings). */
  onEvent?: (event: TrainerEvent) => void;
  /** Do not console.warn (warnings still go to onEvent). Default false. */
  quiet?: boolean;
}

const int = (min: number) => z.number().int().min(min);
const pos = () => z.number().positive();

/**
 * The zod schema that validates and defaults {@link GrpoTrainerOptions}' numeric and enum options.
 *
 * @example
 * ```ts
 * import { grpoOptionsSchema } from '@r1-ts/grpo';
 * console.log(grpoOptionsSchema.parse({}).numGenerations); // 8
 * ```
 */
export const grpoOptionsSchema = z.object({
  numGenerations: int(2).default(8),
  promptsPerStep: int(1).default(4),
  miniBatchSize: int(1).optional(),
  microBatchSize: int(1).optional(),
  numIterations: int(1).default(1),
  beta: z.number().min(0).finite().default(0.001),
  epsilonLow: pos().default(0.2),
  epsilonHigh: pos().optional(),
  // z.enum in object form (the same schema as the array form) so TypeDoc finds a declaration per value.
  importanceSampling: z.enum({ token: 'token', sequence: 'sequence', sequence_token: 'sequence_token' }).default('token'),
  lossType: z.enum({ grpo: 'grpo', bnpo: 'bnpo', dr_grpo: 'dr_grpo', dapo: 'dapo' }).default('grpo'),
  scaleRewards: z.enum({ group: 'group', batch: 'batch', none: 'none' }).default('group'),
  temperature: pos().default(1),
  topP: z.number().gt(0).max(1).default(1),
  maxCompletionLength: int(1).default(256),
  dynamicSampling: z.boolean().default(false),
  dynamicSamplingMaxTries: int(1).default(4),
  maskTruncatedCompletions: z.boolean().default(false),
  refModelSyncSteps: int(0).default(0),
  learningRate: pos().default(1e-6),
  maxGradNorm: z.number().min(0).default(1),
  oldLogProbs: z.enum({ sampling: 'sampling', recompute: 'recompute' }).default('sampling'),
  maxStaleness: int(0).default(0),
  rolloutCorrection: z.enum({
    none: 'none', token_truncate: 'token_truncate', token_mask: 'token_mask', sequence_truncate: 'sequence_truncate', sequence_mask: 'sequence_mask',
  }).default('none'),
  rolloutCorrectionCap: pos().default(2),
  seed: z.number().int().default(0),
  quiet: z.boolean().default(false),
});

/**
 * Resolved numeric/enum options (every default filled in).
 *
 * @example
 * ```ts
 * import { GrpoTrainer } from '@r1-ts/grpo';
 * declare const trainer: GrpoTrainer;
 * console.log(trainer.options.numGenerations, trainer.options.lossType); // 8 'grpo' by default
 * ```
 */
export type ResolvedGrpoOptions = z.output<typeof grpoOptionsSchema> & {
  epsilonHigh: number;
  miniBatchSize: number;
  microBatchSize: number;
  rewardWeights: number[];
};

/** Every key of {@link GrpoTrainerOptions}; Record<keyof …> makes a key added to the interface but not here a compile error. */
const GRPO_OPTION_KEYS = Object.keys({
  policy: true, dataset: true, rewardFunctions: true, rewardWeights: true, numGenerations: true,
  promptsPerStep: true, miniBatchSize: true, microBatchSize: true, numIterations: true, beta: true,
  epsilonLow: true, epsilonHigh: true, importanceSampling: true, lossType: true, scaleRewards: true,
  temperature: true, topP: true, maxCompletionLength: true, dynamicSampling: true,
  dynamicSamplingMaxTries: true, maskTruncatedCompletions: true, refModelSyncSteps: true, learningRate: true,
  optimizer: true, maxGradNorm: true, oldLogProbs: true, seed: true, onEvent: true, quiet: true,
  maxStaleness: true, rolloutCorrection: true, rolloutCorrectionCap: true,
} satisfies Record<keyof GrpoTrainerOptions, true>);

/** Names other libraries and papers use for these options (TRL, verl, the GSPO paper). */
const GRPO_OPTION_HINTS: Readonly<Record<string, string>> = {
  level: 'importanceSampling', importanceSamplingLevel: 'importanceSampling', importance_sampling_level: 'importanceSampling',
  lr: 'learningRate', num_generations: 'numGenerations', groupSize: 'numGenerations', G: 'numGenerations',
  epsilon: 'epsilonLow', epsilon_high: 'epsilonHigh', clipRange: 'epsilonLow', kl: 'beta', klCoef: 'beta',
  loss_type: 'lossType', scale_rewards: 'scaleRewards', max_completion_length: 'maxCompletionLength',
  mu: 'numIterations', num_iterations: 'numIterations', top_p: 'topP',
  max_staleness: 'maxStaleness', vllm_importance_sampling_mode: 'rolloutCorrection',
  vllm_importance_sampling_cap: 'rolloutCorrectionCap', vllm_importance_sampling_correction: 'rolloutCorrection',
};

/** Validates trainer options; the first bad field → ConfigError naming it, its value and what was expected. */
export function resolveGrpoOptions<S extends PromptSample>(o: GrpoTrainerOptions<S>): ResolvedGrpoOptions {
  if (!o || typeof o !== 'object') throw new ConfigError(`GrpoTrainer options must be an object, got ${String(o)}`);
  // A misspelt or foreign option (e.g. `level: 'sequence'`) would otherwise be ignored and the run would differ silently.
  rejectUnknownKeys(o, GRPO_OPTION_KEYS, 'GrpoTrainer options', GRPO_OPTION_HINTS);
  const p = o.policy as Partial<Policy> | undefined;
  for (const m of ['generate', 'logProbs', 'trainableVariables', 'clone', 'freeze', 'dispose'] as const) {
    if (typeof p?.[m] !== 'function') throw new ConfigError(`options.policy must implement Policy.${m}(), got ${p === undefined ? 'undefined' : typeof p?.[m]}`, ['policy']);
  }
  if (!Array.isArray(o.dataset) || o.dataset.length === 0) {
    throw new ConfigError(`options.dataset must be a non-empty array of samples, got ${Array.isArray(o.dataset) ? 'an empty array' : typeof o.dataset}`, ['dataset']);
  }
  const fns = o.rewardFunctions;
  if (!Array.isArray(fns) || fns.length === 0) {
    throw new ConfigError(`options.rewardFunctions must be a non-empty array of functions, got ${Array.isArray(fns) ? 'an empty array' : typeof fns}`, ['rewardFunctions']);
  }
  fns.forEach((f, k) => {
    if (typeof f !== 'function') throw new ConfigError(`options.rewardFunctions[${k}] must be a function, got ${typeof f}`, [`rewardFunctions.${k}`]);
  });
  const weights = o.rewardWeights ?? fns.map(() => 1);
  if (!Array.isArray(weights) || weights.length !== fns.length) {
    throw new ConfigError(`options.rewardWeights must have one weight per reward function (${fns.length}), got ${Array.isArray(weights) ? weights.length : typeof weights}`, ['rewardWeights']);
  }
  weights.forEach((w, k) => {
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new ConfigError(`options.rewardWeights[${k}] must be a finite number, got ${w}`, [`rewardWeights.${k}`]);
  });
  const parsed = grpoOptionsSchema.safeParse(o);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    const value = (o as unknown as Record<string, unknown>)[String(issue.path[0])];
    throw new ConfigError(`options.${field} is invalid: ${issue.message}, got ${JSON.stringify(value)}`, [field]);
  }
  const r = parsed.data;
  const batch = r.promptsPerStep * r.numGenerations;
  const miniBatchSize = r.miniBatchSize ?? batch;
  const microBatchSize = r.microBatchSize ?? miniBatchSize;
  if (microBatchSize > miniBatchSize) {
    throw new ConfigError(`options.microBatchSize must be ≤ miniBatchSize (${miniBatchSize}), got ${microBatchSize}`, ['microBatchSize']);
  }
  return { ...r, epsilonHigh: r.epsilonHigh ?? r.epsilonLow, miniBatchSize, microBatchSize, rewardWeights: [...weights] };
}

/**
 * The warning for a sequence-level ratio combined with an aggregation that weights sequences by
 * their length (GSPO §4.2 normalises per sequence): a message, or null when the pair is fine.
 *
 * @param importanceSampling - The ratio level: `token`, `sequence` or `sequence_token`.
 * @param lossType - The aggregation: `grpo`, `bnpo`, `dr_grpo` or `dapo`.
 * @example
 * ```ts
 * import { lengthWeightingWarning } from '@r1-ts/grpo';
 * console.log(lengthWeightingWarning('sequence', 'grpo')); // null
 * console.log(lengthWeightingWarning('sequence', 'dapo') !== null); // true
 * ```
 */
export function lengthWeightingWarning(importanceSampling: ImportanceSampling, lossType: LossType): string | null {
  if (importanceSampling === 'token' || lossType === 'grpo') return null;
  return `importanceSampling '${importanceSampling}' with lossType '${lossType}' weights each sequence's `
    + 'sequence-level ratio by its length; GSPO defines the objective with per-sequence normalisation (lossType \'grpo\')';
}

/**
 * The objective a set of resolved options runs and the options that define it, as one line (what
 * {@link GrpoTrainer} prints once and reports in its `resolved` event), so a GRPO → GSPO swap shows.
 *
 * @param o - Resolved trainer options (a `GrpoTrainer`'s `options`): the ratio level, clip range, β, aggregation, advantage scaling, G, μ and learning rate.
 * @example
 * ```ts
 * import { describeObjective, grpoOptionsSchema } from '@r1-ts/grpo';
 * const o = grpoOptionsSchema.parse({ importanceSampling: 'sequence', epsilonLow: 3e-4, epsilonHigh: 4e-4, beta: 0 });
 * console.log(describeObjective({ ...o, epsilonHigh: 4e-4 }).summary);
 * // GSPO (importanceSampling 'sequence'): epsilonLow 0.0003, epsilonHigh 0.0004, beta 0 (no reference model), lossType 'grpo', …
 * ```
 */
export function describeObjective(
  o: Pick<ResolvedGrpoOptions, 'importanceSampling' | 'epsilonLow' | 'beta' | 'lossType' | 'scaleRewards' | 'numGenerations' | 'numIterations' | 'learningRate'> & { epsilonHigh?: number },
): { objective: 'GRPO' | 'GSPO' | 'GSPO-token'; summary: string } {
  const objective = o.importanceSampling === 'token' ? 'GRPO' : o.importanceSampling === 'sequence' ? 'GSPO' : 'GSPO-token';
  const summary = `${objective} (importanceSampling '${o.importanceSampling}'): epsilonLow ${o.epsilonLow}, epsilonHigh ${o.epsilonHigh ?? o.epsilonLow}, `
    + `beta ${o.beta}${o.beta === 0 ? ' (no reference model)' : ''}, lossType '${o.lossType}', scaleRewards '${o.scaleRewards}', `
    + `numGenerations ${o.numGenerations}, numIterations ${o.numIterations}, learningRate ${o.learningRate}`;
  return { objective, summary };
}
