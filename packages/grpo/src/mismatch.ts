// Rollout correction: the engine that sampled a completion (vLLM, SGLang, another process) computes
// log π slightly differently from the trainer (kernels, precision, batching), and in async mode from
// older weights. The policy gradient assumes samples from the trainer's π_old, so each token's loss is
// reweighted by ρ = π_old / π_engine (TRL `vllm_importance_sampling_*`, verl rollout correction):
//   token_truncate     ρ_t = min(exp(old_t − eng_t), C)                      (TIS, Yao et al. 2025)
//   token_mask         ρ_t = exp(old_t − eng_t), 0 where it exceeds C        (MIS)
//   sequence_truncate  ρ = min(exp(Σ_t (old_t − eng_t)), C), shared by the row
//   sequence_mask      ρ = exp(Σ_t (old_t − eng_t)), 0 for the row where it exceeds C
// Pure functions on plain arrays: the weights are constants of the loss.

/**
 * The rollout-correction mode (TRL's `vllm_importance_sampling_mode` values), or `none`.
 *
 * @example
 * ```ts
 * import type { RolloutCorrection } from '@r1-ts/grpo';
 * const tis: RolloutCorrection = 'token_truncate';
 * ```
 */
export type RolloutCorrection = 'none' | 'token_truncate' | 'token_mask' | 'sequence_truncate' | 'sequence_mask';

/**
 * What {@link rolloutCorrectionWeights} measured, with TRL's metric names where TRL has one.
 *
 * @example
 * ```ts
 * import type { MismatchMetrics } from '@r1-ts/grpo';
 * const m: Partial<MismatchMetrics> = { 'sampling/mismatch_kl': 0.002 };
 * ```
 */
export interface MismatchMetrics {
  /** Mean |old − eng| over completion tokens. */
  'sampling/sampling_logp_difference/mean': number;
  /** Largest |old − eng|. */
  'sampling/sampling_logp_difference/max': number;
  /** Smallest ρ (per token, or per sequence in sequence modes), after truncation or masking. */
  'sampling/importance_sampling_ratio/min': number;
  /** Mean ρ. */
  'sampling/importance_sampling_ratio/mean': number;
  /** Largest ρ. */
  'sampling/importance_sampling_ratio/max': number;
  /** KL(π_engine ‖ π_old) per token, k1 estimate on the engine's samples: mean(eng − old) (verl's `rollout_corr/kl`). */
  'sampling/mismatch_kl': number;
  /** The same KL, k3 estimate: mean(e^{old−eng} − (old − eng) − 1) (always ≥ 0). */
  'sampling/mismatch_k3_kl': number;
  /** Fraction of ratios (tokens, or sequences in sequence modes) above the cap: truncated or masked. */
  'sampling/is_capped_frac': number;
}

/**
 * Importance weights correcting the engine/trainer mismatch, one per completion token (rows are
 * ragged, each as long as its completion), and metrics of the mismatch. Tokens with `mask` 0 (e.g.
 * truncated completions filtered out of the loss) are left out of the sums and metrics.
 *
 * @param trainerLogProbs - log π_old of each completion token as the trainer computes it (per row).
 * @param engineLogProbs - log π of each token as the engine reported it when sampling (per row).
 * @param options - `mode` (a {@link RolloutCorrection}), `cap` C (> 0), optional per-row `mask` (1 = counts).
 * @example
 * ```ts
 * import { rolloutCorrectionWeights } from '@r1-ts/grpo';
 * const { weights, metrics } = rolloutCorrectionWeights([[-1.0, -0.5]], [[-1.2, -0.4]], { mode: 'token_truncate', cap: 1.1 });
 * console.log(weights[0], metrics['sampling/is_capped_frac']); // Float32Array [1.1, 0.904…] 0.5
 * ```
 */
export function rolloutCorrectionWeights(
  trainerLogProbs: ReadonlyArray<ArrayLike<number>>,
  engineLogProbs: ReadonlyArray<ArrayLike<number>>,
  options: { mode: Exclude<RolloutCorrection, 'none'>; cap: number; mask?: ReadonlyArray<ArrayLike<number>> },
): { weights: Float32Array[]; metrics: MismatchMetrics } {
  const { mode, cap } = options;
  const sequence = mode.startsWith('sequence');
  const masking = mode.endsWith('mask');
  const weights: Float32Array[] = [];
  let tokens = 0;
  let diffSum = 0;
  let diffMax = 0;
  let k1 = 0;
  let k3 = 0;
  // Running min/mean/max of ρ (no spread into Math.min: a batch can hold 10⁵ tokens).
  const ratio = { n: 0, sum: 0, min: Infinity, max: -Infinity };
  const record = (r: number) => {
    ratio.n++;
    ratio.sum += r;
    ratio.min = Math.min(ratio.min, r);
    ratio.max = Math.max(ratio.max, r);
  };
  let capped = 0;
  trainerLogProbs.forEach((old, i) => {
    const eng = engineLogProbs[i];
    const m = options.mask?.[i];
    const L = eng.length;
    const w = new Float32Array(L);
    let rowLog = 0;
    for (let t = 0; t < L; t++) {
      if (m && !m[t]) continue;
      const d = old[t] - eng[t]; // log ρ_t
      tokens++;
      diffSum += Math.abs(d);
      diffMax = Math.max(diffMax, Math.abs(d));
      k1 -= d;
      k3 += Math.exp(d) - d - 1;
      rowLog += d;
      if (!sequence) {
        const r = Math.exp(d);
        const over = r > cap;
        if (over) capped++;
        w[t] = over ? (masking ? 0 : cap) : r;
        record(w[t]);
      }
    }
    if (sequence) {
      const r = Math.exp(rowLog);
      const over = r > cap;
      if (over) capped++;
      const v = over ? (masking ? 0 : cap) : r;
      for (let t = 0; t < L; t++) w[t] = m && !m[t] ? 0 : v;
      record(v);
    }
    weights.push(w);
  });
  const n = Math.max(1, tokens);
  const metrics: MismatchMetrics = {
    'sampling/sampling_logp_difference/mean': diffSum / n,
    'sampling/sampling_logp_difference/max': diffMax,
    'sampling/importance_sampling_ratio/min': ratio.n ? ratio.min : 0,
    'sampling/importance_sampling_ratio/mean': ratio.n ? ratio.sum / ratio.n : 0,
    'sampling/importance_sampling_ratio/max': ratio.n ? ratio.max : 0,
    'sampling/mismatch_kl': k1 / n,
    'sampling/mismatch_k3_kl': k3 / n,
    'sampling/is_capped_frac': ratio.n ? capped / ratio.n : 0,
  };
  return { weights, metrics };
}
