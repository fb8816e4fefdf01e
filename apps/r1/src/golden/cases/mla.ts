import * as tf from '@tensorflow/tfjs';
import { Mla } from '@r1-ts/attention-mla';
import type { MlaConfig } from '@r1-ts/attention-mla';
import { take } from '../fixture';
import type { CaseOutputs, Fixture } from '../fixture';

/**
 * Golden case `mla` (golden/README.md §4.4, §5 mla): causal prefill y, its gradients of Σ y ⊙ dy,
 * the latent caches of the whole sequence and the absorbed decode of the last token from the caches
 * of the first S − 1.
 */
export function run(fx: Fixture): CaseOutputs {
  const out: CaseOutputs = new Map();
  const mla = new Mla(fx.config as MlaConfig);
  try {
    const state = new Map(fx.names('param.').map((n) => [n, fx.get(`param.${n}`)]));
    mla.loadState(state, { prefix: 'self_attn.' });
    const startPos = fx.extra.start_pos ?? 0;
    tf.tidy(() => {
      const x = fx.tensor('input.x'); // [B, S, D]
      const dy = fx.tensor('input.dy'); // [B, S, D]
      const S = x.shape[1] as number;
      const params = mla.namedParameters('self_attn.');
      const names = [...params.keys()];
      const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ...ws: tf.Tensor[]) => {
        void ws; // the variables are read inside forward; listing them makes tfjs return their gradients
        return tf.sum(tf.mul(mla.forward(xx, { startPos }), dy));
      })([x, ...names.map((n) => params.get(n)!)]);
      value.dispose();
      out.set('grad.x', take(grads[0]));
      names.forEach((n, i) => out.set(`grad.${n}`, take(grads[i + 1])));
      out.set('output.y', take(mla.forward(x, { startPos })));

      const full = mla.prefill(x, { startPos });
      out.set('output.kv_cache', take(full.cache.c!.clone()));
      out.set('output.pe_cache', take(full.cache.kPe!.clone()));
      full.cache.dispose();

      const head = mla.prefill(tf.slice(x, [0, 0, 0], [-1, S - 1, -1]), { startPos });
      const last = mla.decode(tf.slice(x, [0, S - 1, 0], [-1, 1, -1]), head.cache, { startPos: startPos + S - 1 }); // [B, 1, D]
      out.set('output.y_decode_last', take(tf.squeeze(last, [1])));
      head.cache.dispose();
    });
  } finally {
    mla.dispose();
  }
  return out;
}
