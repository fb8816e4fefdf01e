import * as tf from '@tensorflow/tfjs';
import { CheckpointError, maskedCrossEntropy } from '@r1-ts/tensor-kernels';
import { DenseModel, valueAndNamedGrads } from '@r1-ts/model';
import type { SequenceOptions } from '@r1-ts/model';
import { take } from '../fixture';
import type { CaseOutputs, Fixture, GoldenCaseRunner } from '../fixture';

/**
 * Golden case `dense` (golden/README.md §7): a Hugging Face llama / qwen2 / qwen3 causal LM on a
 * left-padded batch — logits (zeroed at padding), the masked loss, the gradient of every parameter
 * and of the input embeddings, and one KV-cache decode step.
 */
export const run: GoldenCaseRunner = (fx: Fixture): CaseOutputs => {
  const out: CaseOutputs = new Map();
  const model = new DenseModel(fx.config, { init: 'empty' });
  checkRope(fx, model);
  model.loadState(new Map(fx.names('param.').map((n) => [n, fx.get(`param.${n}`)])));
  const ids = fx.tensor('input.input_ids');
  const mask = fx.tensor('input.attention_mask');
  const positions = fx.tensor('input.position_ids').arraySync() as number[][];
  const targets = fx.tensor('input.targets');
  const opts: SequenceOptions = { keyMask: mask, positions };
  const [B, S] = ids.shape;
  // −100 marks ignored positions (transformers' convention); the CE reads a valid id there, weight 0.
  const lossMask = tf.cast(tf.notEqual(targets, -100), 'float32');
  const safeTargets = tf.where(tf.notEqual(targets, -100), targets, tf.zerosLike(targets));
  const loss = (logits: tf.Tensor) => maskedCrossEntropy(logits, safeTargets, lossMask);

  tf.tidy(() => {
    const { logits } = model.forward(ids, opts);
    out.set('output.logits', take(tf.mul(logits, tf.reshape(tf.cast(mask, 'float32'), [B, S, 1])))); // 0 at padding (§7.4)
    out.set('output.loss', take(loss(logits)));
  });

  const { grads } = valueAndNamedGrads(() => loss(model.forward(ids, opts).logits), model.namedParameters());
  for (const [name, g] of grads) out.set(`grad.${name}`, take(g));
  const h0 = model.embed(ids);
  const dh0 = tf.grad((h: tf.Tensor) => loss(model.forwardEmbeds(h, opts).logits))(h0);
  out.set('grad.inputs_embeds', take(dh0));
  h0.dispose();

  const cache = model.newCache();
  tf.tidy(() => {
    model.forward(ids, opts, cache); // prefill, padding slots included (§7.6)
    const decPos = fx.tensor('input.decode_position_ids').arraySync() as number[][];
    const { logits } = model.forward(fx.tensor('input.decode_input_ids'), { positions: decPos }, cache);
    out.set('output.decode_logits', take(tf.reshape(logits, [B, -1])));
  });
  cache.dispose();
  for (const t of [ids, mask, targets, lossMask, safeTargets]) t.dispose();
  model.dispose();
  return out;
};

/** The fixture lists its final RoPE frequencies and attention factor: a wrong table fails loudly. */
function checkRope(fx: Fixture, model: DenseModel): void {
  const want = fx.extra.rope_inv_freq as number[] | undefined;
  const got = model.rope.invFreq;
  if (want && (want.length !== got.length || want.some((f, i) => Math.abs(f - got[i]) > 1e-12 * Math.max(1, Math.abs(f))))) {
    throw new CheckpointError(`${fx.path}: RoPE frequencies [${Array.from(got)}] differ from extra.rope_inv_freq [${want}]`);
  }
  const a = fx.extra.rope_attention_factor as number | undefined;
  if (a !== undefined && Math.abs(a - model.rope.attentionFactor) > 1e-12) {
    throw new CheckpointError(`${fx.path}: RoPE attention factor ${model.rope.attentionFactor} differs from extra.rope_attention_factor ${a}`);
  }
}
