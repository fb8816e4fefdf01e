import * as tf from '@tensorflow/tfjs';
import { Rng } from '@r1-ts/tensor-kernels';
import type { LoadableTensor } from '@r1-ts/tensor-kernels';
import { MoE, sequenceBalanceLoss, BIAS_UPDATE_GAMMA, SEQ_AUX_ALPHA } from '@r1-ts/moe';
import type { MoeConfig } from '@r1-ts/moe';
import { take } from '../fixture';
import type { CaseOutputs, Fixture } from '../fixture';

/**
 * Golden case `moe` (golden/README.md §4.5, §5 moe): router selection and weights, MoE output,
 * expert load, bias update, sequence-wise aux loss, gradients of Σ y ⊙ dy w.r.t. x and every
 * parameter, and the aux-loss gradient w.r.t. the gate weight.
 */
export function run(fx: Fixture): CaseOutputs {
  const out: CaseOutputs = new Map();
  const config = fx.config as MoeConfig;
  const moe = new MoE(config, new Rng(0));
  const state = new Map<string, LoadableTensor>(fx.names('param.').map((n) => [n, fx.get(`param.${n}`)]));
  moe.loadState(state, { prefix: 'mlp.' });
  const params = [...moe.namedParameters('mlp.')].filter(([, v]) => v.trainable);
  const alpha = fx.extra.seq_aux_alpha ?? SEQ_AUX_ALPHA;
  const x = tf.variable(fx.tensor('input.x') as tf.Tensor3D);

  tf.tidy(() => {
    const dy = fx.tensor('input.dy');
    const varList = [x, ...params.map(([, v]) => v)];
    let load: Int32Array = new Int32Array(0);
    const { grads } = tf.variableGrads(() => {
      const r = moe.forwardWithRouting(x as tf.Tensor3D);
      load = r.expertLoad;
      out.set('output.y', r.y.dataSync().slice() as Float32Array);
      out.set('output.topk_idx', r.topkIdx.dataSync().slice() as Int32Array);
      out.set('output.topk_weight', r.topkWeight.dataSync().slice() as Float32Array);
      out.set('output.expert_load', r.expertLoad);
      return tf.sum(tf.mul(r.y, dy)) as tf.Scalar;
    }, varList);
    out.set('grad.x', take(grads[x.name]));
    for (const [name, v] of params) out.set(`grad.${name}`, grads[v.name] ? take(grads[v.name]) : new Float32Array(v.size));

    const aux = tf.variableGrads(() => {
      const r = moe.forwardWithRouting(x as tf.Tensor3D);
      return sequenceBalanceLoss(r.scores, r.topkIdx, alpha);
    }, [moe.gate.weight]);
    out.set('output.seq_aux_loss', take(aux.value));
    out.set('grad.aux.mlp.gate.weight', take(aux.grads[moe.gate.weight.name]));

    if (fx.tensors.has('output.bias_updated')) {
      moe.updateBias(load, fx.extra.bias_update_gamma ?? BIAS_UPDATE_GAMMA);
      out.set('output.bias_updated', moe.gate.eScoreCorrectionBias!.dataSync().slice() as Float32Array);
    }
  });
  x.dispose();
  moe.dispose();
  return out;
}
