import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '@r1-ts/tensor-kernels';

/**
 * A prompt as text (the policy tokenizes it) or as token ids.
 *
 * @example
 * ```ts
 * import type { PromptInput } from '@r1-ts/grpo';
 * const prompts: PromptInput[] = ['12+7=', [1, 5, 9]];
 * ```
 */
export type PromptInput = string | readonly number[];

/**
 * Sampling options of {@link Policy.generate}.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import type { SamplingOptions } from '@r1-ts/grpo';
 * const o: SamplingOptions = { temperature: 0.7, topP: 0.95, maxNewTokens: 64, rng: new Rng(1) };
 * ```
 */
export interface SamplingOptions {
  /** Softmax temperature (> 0). */
  temperature: number;
  /** Nucleus sampling: keep the smallest token set with probability ≥ topP (0 < topP ≤ 1; 1 = off). */
  topP: number;
  /** Stop after this many new tokens; a completion that hits it without an end token is `truncated`. */
  maxNewTokens: number;
  /** The random stream to sample from (seeded by the trainer, so runs are reproducible). */
  rng: Rng;
}

/**
 * One sampled completion, as {@link Policy.generate} returns it.
 *
 * @example
 * ```ts
 * import type { Completion } from '@r1-ts/grpo';
 * const c: Completion = { promptIds: [5, 6], completionIds: [7, 2], text: '7', logProbs: [-0.1, -0.05], truncated: false };
 * ```
 */
export interface Completion {
  /** The prompt's token ids (what the completion is conditioned on). */
  promptIds: number[];
  /** The sampled token ids, including the end token if one was sampled; length ≤ maxNewTokens. */
  completionIds: number[];
  /** The completion decoded to text (what reward functions read). */
  text: string;
  /**
   * log-prob of each sampled token under the sampling distribution softmax(logits / temperature)
   * (before top-p truncation, i.e. the quantity {@link Policy.logProbs} computes), one per
   * `completionIds` entry. These are log π_old.
   */
  logProbs: ArrayLike<number>;
  /** True when generation stopped at maxNewTokens without an end token. */
  truncated: boolean;
}

/**
 * Completions to score with {@link Policy.logProbs}: row i is `promptIds[i]` followed by `completionIds[i]`.
 *
 * @example
 * ```ts
 * import type { SequenceBatch } from '@r1-ts/grpo';
 * const batch: SequenceBatch = { promptIds: [[5, 6], [5]], completionIds: [[7, 2], [8]], width: 2 };
 * ```
 */
export interface SequenceBatch {
  /** Prompt token ids per row. */
  promptIds: ReadonlyArray<readonly number[]>;
  /** Completion token ids per row (ragged). */
  completionIds: ReadonlyArray<readonly number[]>;
  /** T, the width of the returned [N, T] tensor (≥ every completion's length). */
  width: number;
}

/**
 * Options of {@link Policy.logProbs}.
 *
 * @example
 * ```ts
 * import type { LogProbOptions, Policy, SequenceBatch } from '@r1-ts/grpo';
 * declare const policy: Policy;
 * declare const batch: SequenceBatch;
 * const opts: LogProbOptions = { temperature: 0.7 };
 * policy.logProbs(batch, opts).dispose();
 * ```
 */
export interface LogProbOptions {
  /** Divide the logits by this before the softmax, as sampling did. Default 1. */
  temperature?: number;
}

/**
 * What the trainer tells {@link Policy.afterOptimizerStep}.
 *
 * @example
 * ```ts
 * import type { OptimizerStepStats } from '@r1-ts/grpo';
 * const hook = (s: OptimizerStepStats) => console.log(`update ${s.optimizerStep} of step ${s.trainerStep}`);
 * hook({ optimizerStep: 1, trainerStep: 1 });
 * ```
 */
export interface OptimizerStepStats {
  /** Optimizer steps taken so far, this one included (1-based). */
  optimizerStep: number;
  /** The trainer step (one rollout batch) this update belongs to (1-based). */
  trainerStep: number;
}

/**
 * What the GRPO trainer needs from a language model. `@r1-ts/model` implements it; tests implement
 * toy versions. The trainer never looks inside: weights are reached only through
 * `trainableVariables()`.
 *
 * @example
 * ```ts
 * import type { Policy } from '@r1-ts/grpo';
 * // A model class declares `implements Policy` and provides:
 * type Members = keyof Policy; // 'generate' | 'logProbs' | 'entropy' | 'trainableVariables' | 'clone' | 'freeze' | 'afterOptimizerStep' | 'dispose'
 * const members: Members[] = ['generate', 'logProbs', 'trainableVariables', 'clone', 'freeze', 'dispose'];
 * console.log(members.length);
 * ```
 */
export interface Policy {
  /**
   * Samples one completion per entry of `prompts` (the trainer repeats each prompt G times), in
   * order. Reads no gradients and leaves no tensors behind.
   */
  generate(prompts: readonly PromptInput[], options: SamplingOptions): Completion[] | Promise<Completion[]>;
  /**
   * Per-token log-probs of each completion given its prompt, [N, T = batch.width]; entry [i, t] is
   * log softmax(logits/temperature)[completionIds[i][t]] for t < length, any finite value beyond.
   * Differentiable with respect to `trainableVariables()`; the caller disposes the result.
   */
  logProbs(batch: SequenceBatch, options?: LogProbOptions): tf.Tensor2D;
  /**
   * Optional: per-token entropy of the (temperature-scaled) next-token distribution, [N, T], no
   * gradient needed. When present the trainer logs `entropy`.
   */
  entropy?(batch: SequenceBatch, options?: LogProbOptions): tf.Tensor2D;
  /** The variables the optimizer updates (none once frozen). */
  trainableVariables(): tf.Variable[];
  /** An independent copy with the same weights (new variables; used as the reference model). */
  clone(): Policy;
  /** Makes this policy read-only: no trainable variables from now on (the reference model). */
  freeze(): void;
  /** Optional hook after every optimizer step (e.g. DeepSeekMoE's expert-bias update). */
  afterOptimizerStep?(stats: OptimizerStepStats): void;
  /** Frees every tensor the policy owns. */
  dispose(): void;
}
