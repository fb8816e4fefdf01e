import * as tf from '@tensorflow/tfjs';
import { groupRelativeAdvantages, policyLoss } from '@r1-ts/grpo';
import type { ImportanceSampling, LossType, PolicyLossOptions } from '@r1-ts/grpo';
import { take } from '../fixture';
import type { CaseOutputs, Fixture } from '../fixture';

/**
 * Golden case `grpo` (golden/README.md §4.8, §5 grpo): group advantages in three scalings, every
 * importance level × loss type, GSPO, and d loss / d logp for each.
 */
export function run(fx: Fixture): CaseOutputs {
  const out: CaseOutputs = new Map();
  const x = fx.extra;
  const G = x.num_generations as number;
  const stdEps = (x.std_eps as number | undefined) ?? 1e-4;
  const rewards = Array.from(fx.get('input.rewards').data as Float32Array);
  for (const scale of ['group', 'batch', 'none'] as const) {
    out.set(`output.adv_${scale}`, groupRelativeAdvantages(rewards, G, { scaleRewards: scale, stdEps }));
  }
  const advName = (x.advantage_for_losses as string | undefined) ?? 'adv_group';
  const advantages = out.get(`output.${advName}`) as number[];

  const logp = fx.tensor('input.logp') as tf.Tensor2D;
  const oldLogp = fx.tensor('input.old_logp') as tf.Tensor2D;
  const refLogp = fx.tensor('input.ref_logp') as tf.Tensor2D;
  const mask = fx.tensor('input.mask') as tf.Tensor2D;
  const variant = (key: string, opts: PolicyLossOptions) => {
    if (!fx.tensors.has(`output.loss.${key}`)) return;
    const f = (lp: tf.Tensor) => policyLoss({ logp: lp as tf.Tensor2D, oldLogp, refLogp, mask, advantages }, { ...opts, metrics: false }).loss;
    const { value, grads } = tf.valueAndGrads(f)([logp]);
    out.set(`output.loss.${key}`, take(value));
    out.set(`grad.loss.${key}`, take(grads[0]));
  };
  const common = { maxCompletionLength: x.max_completion_length as number };
  for (const level of ['token', 'sequence', 'sequence_token'] as ImportanceSampling[]) {
    for (const lossType of ['grpo', 'bnpo', 'dr_grpo'] as LossType[]) {
      variant(`${level}.${lossType}`, {
        ...common, importanceSampling: level, lossType, epsilonLow: x.epsilon_low, epsilonHigh: x.epsilon_high, beta: x.beta,
      });
    }
  }
  variant('gspo', {
    ...common, importanceSampling: 'sequence', lossType: 'grpo',
    epsilonLow: x.gspo_epsilon_low, epsilonHigh: x.gspo_epsilon_high, beta: x.gspo_beta,
  });
  tf.dispose([logp, oldLogp, refLogp, mask]);
  return out;
}
