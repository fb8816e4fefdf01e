import type { ResolvedGrpoOptions } from './options';
import type { PolicyLossMetrics } from './policy_loss';

/**
 * Per-step log, keyed by TRL's metric names: `reward`, `reward_std`, `rewards/<fn>/mean`,
 * `rewards/<fn>/std`, `frac_reward_zero_std`, `kl` (when a reference model exists),
 * `clip_ratio/low_mean`, `clip_ratio/high_mean`, `clip_ratio/region_mean`, `completions/mean_length`,
 * `completions/min_length`, `completions/max_length`, `completions/clipped_ratio`, `entropy` (when
 * the policy has `entropy()`), `loss`, `grad_norm`, `num_tokens` (cumulative prompt + completion
 * tokens), `tokens/s` (completion tokens per second of the step) and, with dynamic sampling,
 * `dynamic_sampling/tries` and `dynamic_sampling/dropped_groups`.
 *
 * @example
 * ```ts
 * import type { StepMetrics } from '@r1-ts/grpo';
 * const m: StepMetrics = { reward: 0.5, 'clip_ratio/high_mean': 0.01 };
 * console.log(m.reward);
 * ```
 */
export type StepMetrics = Record<string, number>;

/**
 * One scored completion of a step (what a run writes to samples.jsonl).
 *
 * @example
 * ```ts
 * import { GrpoTrainer } from '@r1-ts/grpo';
 * declare const trainer: GrpoTrainer;
 * const { rollouts } = await trainer.step();
 * for (const r of rollouts) console.log(r.text, r.reward, r.advantage);
 * ```
 */
export interface RolloutRecord<S = unknown> {
  /** The prompt sample it answers. */
  sample: S;
  /** Its text. */
  text: string;
  /** Number of completion tokens. */
  length: number;
  /** Stopped at maxCompletionLength. */
  truncated: boolean;
  /** Weighted total reward (null when no function applied). */
  reward: number | null;
  /** Each function's reward by name. */
  rewards: Record<string, number | null>;
  /** Its group-relative advantage (0 for dropped groups). */
  advantage: number;
  /** The weights version a rollout engine sampled it from (absent for a local policy). */
  weightsVersion?: number;
}

/**
 * What {@link GrpoTrainer.step} returns.
 *
 * @example
 * ```ts
 * import { GrpoTrainer } from '@r1-ts/grpo';
 * declare const trainer: GrpoTrainer;
 * const { step, metrics } = await trainer.step();
 * console.log(step, metrics['completions/mean_length']);
 * ```
 */
export interface StepResult<S = unknown> {
  /** The trainer step just taken (1-based). */
  step: number;
  /** The step's metrics. */
  metrics: StepMetrics;
  /** Every completion sampled in the step, in group-major order. */
  rollouts: RolloutRecord<S>[];
}

/**
 * Events the trainer reports through `onEvent`, for progress bars and dashboards.
 *
 * @example
 * ```ts
 * import type { TrainerEvent } from '@r1-ts/grpo';
 * const onEvent = (e: TrainerEvent) => {
 *   if (e.type === 'step_end') console.log(e.step, e.metrics.reward);
 * };
 * onEvent({ type: 'step_start', step: 1 });
 * ```
 */
export type TrainerEvent =
  /**
   * Once, from the constructor: the objective that will run (`GRPO`, `GSPO` or `GSPO-token`, from
   * `importanceSampling`), every option with its default filled in, and `summary`, the one line the
   * trainer prints (unless `quiet`), e.g. `GSPO (importanceSampling 'sequence'): epsilonLow 0.0003, …`.
   */
  | { type: 'resolved'; objective: 'GRPO' | 'GSPO' | 'GSPO-token'; options: Readonly<ResolvedGrpoOptions>; summary: string }
  | { type: 'step_start'; step: number }
  /** Completions sampled and scored (one event per sampling round). */
  | { type: 'rollout'; step: number; completions: number; keptGroups: number; round: number }
  /** After each optimizer update: its loss, gradient norm and the token-weighted loss metrics. */
  | { type: 'optimizer_step'; step: number; iteration: number; optimizerStep: number; loss: number; gradNorm: number; metrics: PolicyLossMetrics }
  | { type: 'step_end'; step: number; metrics: StepMetrics }
  | { type: 'warning'; message: string };
