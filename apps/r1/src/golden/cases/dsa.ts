import * as tf from '@tensorflow/tfjs';
import { SparseMla, indexerKl, selectionMask } from '@r1-ts/attention-dsa';
import type { DsaConfig } from '@r1-ts/attention-dsa';
import { take } from '../fixture';
import type { CaseOutputs, Fixture } from '../fixture';

/**
 * Golden case `dsa` (golden/README.md §4.6, §5 dsa): sparse MLA output, index scores, top-k sets,
 * gradients of Σ y ⊙ dy (MLA params and x), and the three indexer KLs with their indexer-only gradients.
 */
export function run(fx: Fixture): CaseOutputs {
  const out: CaseOutputs = new Map();
  const dsa = new SparseMla(fx.config as DsaConfig);
  try {
    dsa.loadState(new Map(fx.names('param.').map((n) => [n, fx.get(`param.${n}`)])), { prefix: 'self_attn.' });
    const pos = { startPos: fx.extra.start_pos ?? 0 };
    tf.tidy(() => {
      const x = fx.tensor('input.x'); // [B, S, D]
      const dy = fx.tensor('input.dy'); // [B, S, D]
      const S = x.shape[1] as number;
      const r = dsa.forwardDetailed(x, pos);
      out.set('output.y', take(r.y));
      out.set('output.index_scores', take(r.indexScores));
      out.set('output.topk_idx', take(r.indices.clone()));

      const all = dsa.namedParameters('self_attn.');
      const mlaNames = [...all.keys()].filter((n) => !n.startsWith('self_attn.indexer.'));
      const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ...ws: tf.Tensor[]) => {
        void ws; // read inside forward; listed so tfjs returns their gradients
        return tf.sum(tf.mul(dsa.forward(xx, pos), dy));
      })([x, ...mlaNames.map((n) => all.get(n)!)]);
      value.dispose();
      out.set('grad.x', take(grads[0]));
      mlaNames.forEach((n, i) => out.set(`grad.${n}`, take(grads[i + 1])));

      const indexerParams = dsa.indexer.namedParameters('self_attn.indexer.');
      const klCase = (tag: string, output: string, loss: () => tf.Scalar) => {
        const res = tf.variableGrads(loss, [...indexerParams.values()]);
        out.set(output, take(res.value));
        for (const [n, v] of indexerParams) out.set(`grad.${tag}.${n}`, take(res.grads[v.name]));
      };
      klCase('kl', 'output.indexer_kl_dense', () => dsa.indexerLossDense(x, pos));
      klCase('kl_sparse_attn', 'output.indexer_kl_sparse_attn', () => dsa.indexerLossSparse(x, pos));
      // For comparison only: the dense target restricted to the selected set and renormalised.
      const target = tf.mean(dsa.attentionProbs(x, pos), 1); // [B, S, S]
      const qr = dsa.project(x, pos).qr!; // [B, S, R]
      const selected = selectionMask(r.indices, S); // [B, S, S]
      klCase('kl_sparse', 'output.indexer_kl_sparse', () => indexerKl(dsa.indexer.indexScores(x, qr, pos), target, selected));
    });
  } finally {
    dsa.dispose();
  }
  return out;
}
