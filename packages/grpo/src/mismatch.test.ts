// TIS / MIS weights against a plain reference written from TRL's definition, and the weighted loss
// against a hand-computed GRPO objective.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { rolloutCorrectionWeights } from './mismatch';
import type { RolloutCorrection } from './mismatch';
import { policyLoss } from './policy_loss';

const trainer = [[-1.0, -0.5, -2.0], [-0.3, -0.9], [-1.5]];
const engine = [[-1.4, -0.45, -0.5], [-0.35, -0.7], [-1.5]];

/** TRL: ratio = exp(old − sampling) (summed over the row in sequence modes); truncate: min(·, C); mask: 0 where > C. */
function reference(mode: Exclude<RolloutCorrection, 'none'>, cap: number): number[][] {
  return trainer.map((old, i) => {
    const diffs = old.map((o, t) => o - engine[i][t]);
    const seq = Math.exp(diffs.reduce((a, b) => a + b, 0));
    return diffs.map((d) => {
      const r = mode.startsWith('sequence') ? seq : Math.exp(d);
      if (r <= cap) return r;
      return mode.endsWith('mask') ? 0 : cap;
    });
  });
}

describe('rolloutCorrectionWeights', () => {
  it.each(['token_truncate', 'token_mask', 'sequence_truncate', 'sequence_mask'] as const)('%s matches the reference', (mode) => {
    const cap = 1.2;
    const { weights, metrics } = rolloutCorrectionWeights(trainer, engine, { mode, cap });
    const ref = reference(mode, cap);
    weights.forEach((w, i) => ref[i].forEach((r, t) => expect(w[t]).toBeCloseTo(r, 6)));
    const overTokens = trainer.flat().filter((o, k) => Math.exp(o - engine.flat()[k]) > cap).length;
    const overRows = trainer.filter((old, i) => Math.exp(old.reduce((a, o, t) => a + o - engine[i][t], 0)) > cap).length;
    expect(metrics['sampling/is_capped_frac']).toBeCloseTo(mode.startsWith('sequence') ? overRows / 3 : overTokens / 6, 6);
  });

  it('reports the logp difference and both KL estimates', () => {
    const { metrics } = rolloutCorrectionWeights(trainer, engine, { mode: 'token_truncate', cap: 2 });
    const d = trainer.flat().map((o, k) => o - engine.flat()[k]);
    expect(metrics['sampling/sampling_logp_difference/mean']).toBeCloseTo(d.reduce((a, x) => a + Math.abs(x), 0) / 6, 6);
    expect(metrics['sampling/sampling_logp_difference/max']).toBeCloseTo(1.5, 6);
    expect(metrics['sampling/mismatch_kl']).toBeCloseTo(-d.reduce((a, x) => a + x, 0) / 6, 6);
    expect(metrics['sampling/mismatch_k3_kl']).toBeCloseTo(d.reduce((a, x) => a + Math.exp(x) - x - 1, 0) / 6, 6);
  });

  it('leaves masked tokens out and gives them weight 0 in sequence modes', () => {
    const mask = [[1, 1, 0], [1, 1], [1]];
    const { weights, metrics } = rolloutCorrectionWeights(trainer, engine, { mode: 'sequence_truncate', cap: 5, mask });
    expect(weights[0][2]).toBe(0);
    expect(weights[0][0]).toBeCloseTo(Math.exp(0.4 - 0.05), 6);
    expect(metrics['sampling/sampling_logp_difference/max']).toBeCloseTo(0.4, 6);
  });

  it('identical log-probs give weight 1 and zero mismatch', () => {
    const { weights, metrics } = rolloutCorrectionWeights(trainer, trainer, { mode: 'token_mask', cap: 2 });
    expect(weights.every((w) => w.every((x) => x === 1))).toBe(true);
    expect(metrics['sampling/mismatch_k3_kl']).toBe(0);
  });
});

describe('policyLoss with rolloutWeights', () => {
  it('multiplies each token’s policy-gradient term by ρ before the KL term', () => {
    const logp = tf.tensor2d([[-1, -2], [-0.5, -0.1]]);
    const oldLogp = tf.tensor2d([[-1.1, -1.8], [-0.5, -0.3]]);
    const refLogp = tf.tensor2d([[-1.2, -2.1], [-0.4, -0.2]]);
    const mask = tf.tensor2d([[1, 1], [1, 0]]);
    const rho = [[0.5, 2], [1.5, 3]];
    const adv = [1, -0.5];
    const beta = 0.1;
    const { loss } = policyLoss(
      { logp, oldLogp, refLogp, mask, advantages: adv, rolloutWeights: tf.tensor2d(rho) },
      { epsilonLow: 0.2, epsilonHigh: 0.2, beta },
    );
    // Plain reference: grpo = mean over rows of the row's token mean.
    const L = [[-1, -2], [-0.5, -0.1]];
    const O = [[-1.1, -1.8], [-0.5, -0.3]];
    const R = [[-1.2, -2.1], [-0.4, -0.2]];
    const M = [[1, 1], [1, 0]];
    let total = 0;
    for (let i = 0; i < 2; i++) {
      let s = 0;
      let n = 0;
      for (let t = 0; t < 2; t++) {
        if (!M[i][t]) continue;
        const w = Math.exp(L[i][t] - O[i][t]);
        const pg = -Math.min(w * adv[i], Math.min(Math.max(w, 0.8), 1.2) * adv[i]);
        const d = R[i][t] - L[i][t];
        s += rho[i][t] * pg + beta * (Math.exp(d) - d - 1);
        n++;
      }
      total += s / n;
    }
    expect(loss.dataSync()[0]).toBeCloseTo(total / 2, 5);
    expect(() => policyLoss({ logp, oldLogp, mask, advantages: adv, rolloutWeights: tf.ones([2, 3]) as tf.Tensor2D })).toThrow(/rolloutWeights must have shape \[2, 2\]/);
    tf.dispose([logp, oldLogp, refLogp, mask, loss]);
  });
});
