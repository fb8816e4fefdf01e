import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, initBackend } from '@r1-ts/tensor-kernels';
import { policyLoss } from './policy_loss';
import type { LossType } from './policy_loss';
import { stopGradient } from './stop_gradient';

const N = 5;
const T = 6;
const eL = 0.2;
const eH = 0.28;
const beta = 0.05;

// Random inputs with ragged masks; ratios spread across both clip bounds.
function data(seed: number) {
  const rng = new Rng(seed);
  const logp = Array.from({ length: N * T }, () => -0.2 - 2 * rng.uniform());
  const old = logp.map((l) => l + 0.5 * rng.normal());
  const ref = logp.map((l) => l + 0.3 * rng.normal());
  const lens = [6, 1, 3, 5, 4];
  const mask = Array.from({ length: N * T }, (_, k) => (k % T < lens[Math.floor(k / T)] ? 1 : 0));
  const adv = [1.2, -0.7, 0.4, -1.5, 0.9];
  return { logp, old, ref, mask, adv, lens };
}

// Plain float64 reference of the token-level loss and its analytic gradient (R1 eq. 1–2).
function reference(d: ReturnType<typeof data>, lossType: LossType, items?: number) {
  const grad = new Array<number>(N * T).fill(0);
  const tokens = d.mask.reduce((a: number, b) => a + b, 0);
  let loss = 0;
  const weight = (i: number) => {
    if (lossType === 'grpo') return 1 / (N * Math.max(1, d.lens[i]));
    if (lossType === 'bnpo') return 1 / Math.max(1, tokens);
    if (lossType === 'dapo') return 1 / Math.max(1, items ?? tokens);
    return 1 / (N * T);
  };
  for (let i = 0; i < N; i++) {
    for (let t = 0; t < T; t++) {
      const k = i * T + t;
      if (!d.mask[k]) continue;
      const w = Math.exp(d.logp[k] - d.old[k]);
      const c = Math.min(Math.max(w, 1 - eL), 1 + eH);
      const A = d.adv[i];
      const unclipped = w * A <= c * A;
      const dd = d.ref[k] - d.logp[k];
      const L = -Math.min(w * A, c * A) + beta * (Math.exp(dd) - dd - 1);
      const dL = (unclipped ? -A * w : 0) + beta * (1 - Math.exp(dd));
      loss += weight(i) * L;
      grad[k] = weight(i) * dL;
    }
  }
  return { loss, grad };
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

describe('policyLoss', () => {
  const d = data(11);
  const t2 = (v: number[]) => tf.tensor2d(v, [N, T]);
  it.each(['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const)('token level, %s: value and d/dlogp match a float64 reference', (lossType) => {
    const items = lossType === 'dapo' ? 40 : undefined;
    const want = reference(d, lossType, items);
    const [oldLogp, refLogp, mask] = [t2(d.old), t2(d.ref), t2(d.mask)];
    const { value, grads } = tf.valueAndGrads((lp: tf.Tensor) => policyLoss(
      { logp: lp as tf.Tensor2D, oldLogp, refLogp, mask, advantages: d.adv, numItemsInBatch: items },
      { lossType, epsilonLow: eL, epsilonHigh: eH, beta, maxCompletionLength: T, metrics: false },
    ).loss)([t2(d.logp)]);
    expect(value.dataSync()[0]).toBeCloseTo(want.loss, 5);
    const g = grads[0].dataSync();
    want.grad.forEach((x, k) => expect(g[k]).toBeCloseTo(x, 5));
    tf.dispose([value, grads, oldLogp, refLogp, mask]);
  });

  it('reports TRL clip metrics over masked tokens, and leaks no tensor', () => {
    const [logp, oldLogp, refLogp, mask] = [t2(d.logp), t2(d.old), t2(d.ref), t2(d.mask)];
    const before = tf.memory().numTensors;
    const { loss, metrics } = policyLoss({ logp, oldLogp, refLogp, mask, advantages: d.adv }, { epsilonLow: eL, epsilonHigh: eH, beta });
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
    let low = 0;
    let high = 0;
    let kl = 0;
    let ratio = 0;
    let n = 0;
    for (let k = 0; k < N * T; k++) {
      if (!d.mask[k]) continue;
      const w = Math.exp(d.logp[k] - d.old[k]);
      const A = d.adv[Math.floor(k / T)];
      n++;
      ratio += w;
      if (w < 1 - eL && A < 0) low++;
      if (w > 1 + eH && A > 0) high++;
      const dd = d.ref[k] - d.logp[k];
      kl += Math.exp(dd) - dd - 1;
    }
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0);
    expect(metrics.clipRatioLow).toBeCloseTo(low / n, 6);
    expect(metrics.clipRatioHigh).toBeCloseTo(high / n, 6);
    expect(metrics.clipRatioRegion).toBeCloseTo((low + high) / n, 6);
    expect(metrics.kl).toBeCloseTo(kl / n, 5);
    expect(metrics.ratioMean).toBeCloseTo(ratio / n, 5);
    expect(metrics.tokens).toBe(n);
    tf.dispose([logp, oldLogp, refLogp, mask]);
  });

  it('sequence level: w is exp(mean ℓ) shared by the row', () => {
    const [logp, oldLogp, mask] = [t2(d.logp), t2(d.old), t2(d.mask)];
    const { loss, metrics } = policyLoss({ logp, oldLogp, mask, advantages: d.adv }, { importanceSampling: 'sequence', epsilonLow: 10, epsilonHigh: 10 });
    // No clipping (ε huge), β = 0, grpo: loss = −mean_i Â_i·w_i.
    let want = 0;
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let t = 0; t < d.lens[i]; t++) s += d.logp[i * T + t] - d.old[i * T + t];
      want += -d.adv[i] * Math.exp(s / d.lens[i]) / N;
    }
    expect(loss.dataSync()[0]).toBeCloseTo(want, 5);
    expect(metrics.clipRatioRegion).toBe(0);
    tf.dispose([loss, logp, oldLogp, mask]);
  });

  it('rejects bad options and shapes with ConfigError naming the field', () => {
    const [logp, mask] = [t2(d.logp), t2(d.mask)];
    const x = { logp, oldLogp: logp, mask, advantages: d.adv };
    expect(() => policyLoss(x, { epsilonLow: 0 })).toThrow(/epsilonLow/);
    expect(() => policyLoss(x, { epsilonHigh: -1 })).toThrow(/epsilonHigh/);
    expect(() => policyLoss(x, { beta: 0.1 })).toThrow(/refLogp/);
    expect(() => policyLoss(x, { lossType: 'dr_grpo' })).toThrow(/maxCompletionLength/);
    expect(() => policyLoss({ ...x, advantages: [1] })).toThrow(ConfigError);
    tf.dispose([logp, mask]);
  });
});

describe('stopGradient', () => {
  it('passes the value and blocks the gradient', () => {
    const x = tf.tensor1d([2, -3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x);
    expect(Array.from(g.dataSync())).toEqual([2, -3]);
    tf.dispose([x, g]);
  });
});
