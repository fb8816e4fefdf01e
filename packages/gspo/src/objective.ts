import { lengthWeightingWarning, policyLoss } from '@r1-ts/grpo';
import type { PolicyLossInputs, PolicyLossOptions, PolicyLossResult } from '@r1-ts/grpo';

/**
 * GSPO's defaults (Zheng et al. 2025, §5.1; SPEC-R1 §2): sequence-level ratio, ε_low 3e-4,
 * ε_high 4e-4, no KL term, per-sequence normalisation (`lossType: 'grpo'`).
 *
 * @example
 * ```ts
 * import { gspoDefaults } from '@r1-ts/gspo';
 * console.log(gspoDefaults.epsilonLow, gspoDefaults.importanceSampling); // 0.0003 'sequence'
 * ```
 */
export const gspoDefaults = Object.freeze({
  importanceSampling: 'sequence',
  epsilonLow: 3e-4,
  epsilonHigh: 4e-4,
  beta: 0,
  lossType: 'grpo',
} as const satisfies PolicyLossOptions);

const warned = new Set<string>();

function withDefaults(overrides: PolicyLossOptions, importanceSampling: 'sequence' | 'sequence_token'): PolicyLossOptions {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const options: PolicyLossOptions = { ...gspoDefaults, importanceSampling, ...set };
  const warning = lengthWeightingWarning(options.importanceSampling ?? importanceSampling, options.lossType ?? 'grpo');
  if (warning && !warned.has(warning)) {
    warned.add(warning);
    console.warn(`[r1-ts/gspo] ${warning}`);
  }
  return options;
}

/**
 * The GSPO objective (GSPO eq. 5–7): {@link policyLoss} with a sequence-level importance ratio
 * s_i = exp(mean_t(logπ_θ − logπ_old)) and {@link gspoDefaults}; `overrides` replace any option
 * (warns once if they make the aggregation weight sequences by length).
 *
 * @param inputs - As for `policyLoss`: `logp`, `oldLogp`, `mask` [N, T] and one advantage per sequence.
 * @param overrides - Options that replace a GSPO default (`gspoDefaults`); an aggregation that weights sequences by length warns once.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { gspoObjective } from '@r1-ts/gspo';
 * const logp = tf.tensor2d([[-1.0, -0.5], [-2.0, -0.1]]);
 * const oldLogp = tf.tensor2d([[-1.0, -0.5], [-2.0, -0.1]]);
 * const mask = tf.tensor2d([[1, 1], [1, 0]]);
 * const { loss } = gspoObjective({ logp, oldLogp, mask, advantages: [1, -1] });
 * console.log(loss.dataSync()[0]); // 0: −mean(Â·1)
 * ```
 */
export function gspoObjective(inputs: PolicyLossInputs, overrides: PolicyLossOptions = {}): PolicyLossResult {
  return policyLoss(inputs, withDefaults(overrides, 'sequence'));
}

/**
 * GSPO-token (GSPO eq. 13–14): the same value as {@link gspoObjective}, with
 * log w_{i,t} = logπ_θ − sg(logπ_θ) + sg(log s_i), so each token's gradient is its own (useful when
 * advantages are later made per-token). With per-sequence advantages it equals GSPO exactly.
 *
 * @param inputs - As for `policyLoss`: `logp`, `oldLogp`, `mask` [N, T] and one advantage per sequence.
 * @param overrides - Options that replace a GSPO default (`gspoDefaults`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { gspoTokenObjective } from '@r1-ts/gspo';
 * const logp = tf.tensor2d([[-1.0, -0.5]]);
 * const { loss } = gspoTokenObjective({ logp, oldLogp: logp, mask: tf.ones([1, 2]), advantages: [0.5] });
 * console.log(loss.dataSync()[0]); // -0.5
 * ```
 */
export function gspoTokenObjective(inputs: PolicyLossInputs, overrides: PolicyLossOptions = {}): PolicyLossResult {
  return policyLoss(inputs, withDefaults(overrides, 'sequence_token'));
}
