import * as tf from '@tensorflow/tfjs';
import { DeepSeekModel, valueAndNamedGrads } from '@r1-ts/model';
import { take } from '../fixture';
import type { CaseOutputs, Fixture, GoldenCaseRunner } from '../fixture';

/**
 * Golden case `model` (golden/README.md §4.7): logits, MTP logits, both losses, the routing of every
 * MoE layer and the gradient of loss + λ·mtp_loss for every parameter.
 */
export const run: GoldenCaseRunner = (fx: Fixture): CaseOutputs => {
  const out: CaseOutputs = new Map();
  const model = new DeepSeekModel(fx.config as never, { seed: 0 });
  const params = new Map(fx.names('param.').map((n) => [n, fx.get(`param.${n}`)]));
  model.loadState(params);
  const tokens = fx.tensor('input.tokens');
  const lambda = fx.extra.mtp_lambda ?? 0.3;
  const named = model.namedParameters();

  tf.tidy(() => {
    const { logits, hidden } = model.forward(tokens);
    out.set('output.logits', take(logits));
    const res = model.loss(tokens, { mtpLambda: lambda, balanceAlpha: 0 });
    out.set('output.loss', take(res.ce));
    if (res.mtp) out.set('output.mtp_loss', take(res.mtp));
    for (const r of res.routing) {
      const [B, S, K] = r.topkIdx.shape;
      out.set(`output.routing.${r.layer}.topk_idx`, take(tf.reshape(r.topkIdx, [B * S, K])));
    }
    if (model.mtp) out.set('output.mtp_logits', take(model.mtp.predict(hidden, model.embed(tokens)).logits));
  });

  const { grads } = valueAndNamedGrads(() => model.loss(tokens, { mtpLambda: lambda, balanceAlpha: 0 }).total, named);
  for (const [name, g] of grads) out.set(`grad.${name}`, take(g));
  tokens.dispose();
  model.dispose();
  return out;
};
