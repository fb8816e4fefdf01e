import type { StepMetrics } from './events';
import type { PolicyLossMetrics } from './policy_loss';
import { nanMeanStd } from './rewards';
import { hasZeroRewardStd } from './rollout';
import type { Group } from './rollout';

/** Reward and completion-length metrics of every group sampled in a step (TRL names). */
export function rolloutMetrics(groups: readonly Group<unknown>[], rewardNames: readonly string[]): StepMetrics {
  const m: StepMetrics = {};
  const totals = groups.flatMap((g) => g.total);
  m.reward = nanMeanStd(totals).mean;
  m.reward_std = groups.reduce((a, g) => a + nanMeanStd(g.total).std, 0) / Math.max(1, groups.length);
  rewardNames.forEach((name, k) => {
    const { mean, std } = nanMeanStd(groups.flatMap((g) => g.perFunction[k]));
    m[`rewards/${name}/mean`] = mean;
    m[`rewards/${name}/std`] = std;
  });
  m.frac_reward_zero_std = groups.filter(hasZeroRewardStd).length / Math.max(1, groups.length);
  const completions = groups.flatMap((g) => g.completions);
  const lengths = completions.map((c) => c.completionIds.length);
  m['completions/mean_length'] = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length);
  m['completions/min_length'] = Math.min(...lengths);
  m['completions/max_length'] = Math.max(...lengths);
  m['completions/clipped_ratio'] = completions.filter((c) => c.truncated).length / Math.max(1, completions.length);
  return m;
}

/** Token-weighted running mean of {@link PolicyLossMetrics} over micro-batches. */
export class LossMetricsMean {
  private tokens = 0;
  private sums = { kl: 0, low: 0, high: 0, region: 0, ratio: 0 };
  private hasKl = false;
  private min = Infinity;
  private max = -Infinity;

  add(m: PolicyLossMetrics): void {
    const w = m.tokens;
    this.tokens += w;
    this.sums.low += w * m.clipRatioLow;
    this.sums.high += w * m.clipRatioHigh;
    this.sums.region += w * m.clipRatioRegion;
    this.sums.ratio += w * m.ratioMean;
    if (w > 0) {
      this.min = Math.min(this.min, m.ratioMin);
      this.max = Math.max(this.max, m.ratioMax);
    }
    if (m.kl !== undefined) {
      this.hasKl = true;
      this.sums.kl += w * m.kl;
    }
  }

  /** The means so far, as TRL-named metrics. */
  value(): PolicyLossMetrics {
    const d = Math.max(1, this.tokens);
    const out: PolicyLossMetrics = {
      clipRatioLow: this.sums.low / d, clipRatioHigh: this.sums.high / d, clipRatioRegion: this.sums.region / d,
      ratioMean: this.sums.ratio / d, ratioMin: this.min, ratioMax: this.max, tokens: this.tokens,
    };
    if (this.hasKl) out.kl = this.sums.kl / d;
    return out;
  }
}
