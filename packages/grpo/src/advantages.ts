import { ConfigError } from '@r1-ts/tensor-kernels';

/**
 * How group-relative advantages are scaled (SPEC-R1 §2): `group` divides by the group's std
 * (DeepSeekMath / R1), `batch` by the std over the whole batch, `none` not at all (Dr. GRPO).
 *
 * @example
 * ```ts
 * import type { ScaleRewards } from '@r1-ts/grpo';
 * const drGrpo: ScaleRewards = 'none';
 * ```
 */
export type ScaleRewards = 'group' | 'batch' | 'none';

/**
 * Options of {@link groupRelativeAdvantages}.
 *
 * @example
 * ```ts
 * import { groupRelativeAdvantages } from '@r1-ts/grpo';
 * import type { AdvantageOptions } from '@r1-ts/grpo';
 * const opts: AdvantageOptions = { scaleRewards: 'batch', stdEps: 1e-4 };
 * console.log(groupRelativeAdvantages([0, 1, 1, 1], 2, opts));
 * ```
 */
export interface AdvantageOptions {
  /** Std used to scale `r − group mean`. Default `group`. */
  scaleRewards?: ScaleRewards;
  /** Added to the std before dividing. Default 1e-4 (golden §4.8). */
  stdEps?: number;
}

/** Bessel-corrected standard deviation; 0 for fewer than two values. */
function besselStd(values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return Math.sqrt(ss / (n - 1));
}

/**
 * Group-relative advantages (DeepSeekMath eq. 3; R1 eq. 3): Â_i = (r_i − mean_group(r)) / (std + 1e-4),
 * rows in group-major order (rows g·G … g·G+G−1 belong to prompt g).
 *
 * - The baseline is always the group mean; the std is Bessel-corrected, over the group (`group`),
 *   over every reward of the batch (`batch`), or not used (`none`, Dr. GRPO).
 * - A `null` reward (no reward function applied) is left out of the mean and of both stds, and gets
 *   advantage 0. A group whose rewards are all equal gets 0 exactly.
 *
 * Pure function on plain arrays, float64 throughout.
 *
 * @param rewards - One reward per completion, group-major: the G completions of prompt 0, then of prompt 1, …
 * @param groupSize - G, completions per prompt (≥ 2); `rewards.length` must be a multiple of it.
 * @param options - `scaleRewards`: divide by the group's std (`group`, default), the batch's (`batch`) or not at all (`none`, Dr. GRPO).
 * @example
 * ```ts
 * import { groupRelativeAdvantages } from '@r1-ts/grpo';
 * const adv = groupRelativeAdvantages([1, 0, 0, 1, 2, 2], 2, { scaleRewards: 'group' });
 * console.log(adv.map((a) => a.toFixed(3))); // ['0.707', '-0.707', '-0.707', '0.707', '0.000', '0.000']
 * ```
 */
export function groupRelativeAdvantages(
  rewards: ReadonlyArray<number | null>,
  groupSize: number,
  options: AdvantageOptions = {},
): number[] {
  const scale = options.scaleRewards ?? 'group';
  const eps = options.stdEps ?? 1e-4;
  if (!Number.isInteger(groupSize) || groupSize < 1) {
    throw new ConfigError(`groupSize must be a positive integer, got ${groupSize}`, ['groupSize']);
  }
  if (rewards.length % groupSize !== 0) {
    throw new ConfigError(
      `rewards.length must be a multiple of groupSize (${groupSize}), got ${rewards.length}`,
      ['groupSize'],
    );
  }
  if (!['group', 'batch', 'none'].includes(scale)) {
    throw new ConfigError(`scaleRewards must be 'group', 'batch' or 'none', got ${String(scale)}`, ['scaleRewards']);
  }
  if (!(eps >= 0)) throw new ConfigError(`stdEps must be ≥ 0, got ${eps}`, ['stdEps']);
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i];
    if (r !== null && !Number.isFinite(r)) {
      throw new ConfigError(`rewards[${i}] must be a finite number or null, got ${r}`, ['rewards']);
    }
  }
  const valid = (xs: ReadonlyArray<number | null>) => xs.filter((r): r is number => r !== null);
  const batchStd = besselStd(valid(rewards));
  const out = new Array<number>(rewards.length).fill(0);
  for (let g = 0; g < rewards.length; g += groupSize) {
    const group = rewards.slice(g, g + groupSize);
    const vals = valid(group);
    if (vals.length === 0 || vals.every((v) => v === vals[0])) continue; // all equal → 0
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const denom = scale === 'group' ? besselStd(vals) + eps : scale === 'batch' ? batchStd + eps : 1;
    group.forEach((r, j) => {
      if (r !== null) out[g + j] = (r - mean) / denom;
    });
  }
  return out;
}
