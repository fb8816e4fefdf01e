// The chunked head (tokenLogProbs / tokenEntropy over forwardHidden) against the plain path written
// out here from forward()'s full logits: log-softmax, take the target, mask — for the loss, the
// policy's log-probs and entropies, logProbs(), and their gradients.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import type { CausalLM } from './causal_lm';
import { presets } from './config';
import { DenseModel } from './dense/model';
import { logProbs } from './generate';
import { DeepSeekModel } from './model';
import { DeepSeekPolicy } from './policy';
import { CharTokenizer } from './tokenizer';

const tok = CharTokenizer.fromCorpus(['0123456789+=?<think></think><answer></answer> abcdefghij']);
const V = tok.vocabSize;

/** log softmax(logits / τ) at the targets, from the full logits. */
function plainLogProbs(logits: tf.Tensor3D, targets: tf.Tensor, tau = 1): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(tf.div(logits, tau)), tf.oneHot(targets as tf.Tensor2D, logits.shape[2])), -1));
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

const families: Array<[string, () => CausalLM<any>]> = [
  ['qwen2 (tied head)', () => new DenseModel({ model_type: 'qwen2', vocab_size: V, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6, tie_word_embeddings: true }, { seed: 3 })],
  ['llama (own head)', () => new DenseModel({ model_type: 'llama', vocab_size: V, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 4, max_position_embeddings: 64, rms_norm_eps: 1e-5 }, { seed: 4 })],
  ['deepseek_v3 (MLA + MoE + MTP)', () => new DeepSeekModel({ ...presets.tiny, vocab_size: V, num_hidden_layers: 2 }, { seed: 5 })],
];

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

describe.each(families)('the chunked head on %s', (_, make) => {
  it('loss equals the masked cross-entropy of the full logits, and so do its gradients', () => {
    const model = make();
    const tokens = tf.tensor2d([[1, 5, 7, 2, 9, 4, 3, 8], [6, 2, 2, 5, 1, 0, 7, 3]], undefined, 'int32');
    const lossMask = tf.tensor2d([[0, 0, 1, 1, 1, 1, 1, 0], [0, 1, 1, 1, 0, 1, 1, 1]]);
    const [B, S] = tokens.shape;
    const plainCe = () => {
      const { logits } = model.forward(tokens);
      const lp = plainLogProbs(tf.slice(logits, [0, 0, 0], [B, S - 1, V]), tf.slice(tokens, [0, 1], [B, S - 1]));
      const m = tf.slice(lossMask, [0, 0], [B, S - 1]);
      return tf.div(tf.neg(tf.sum(tf.mul(lp, m))), tf.sum(m)) as tf.Scalar;
    };
    const vars = model.trainableVariables();
    const fused = tf.variableGrads(() => model.loss(tokens, { lossMask }).ce, vars);
    const plain = tf.variableGrads(plainCe, vars);
    expect(Math.abs(fused.value.dataSync()[0] - plain.value.dataSync()[0])).toBeLessThan(1e-5);
    let compared = 0;
    for (const v of vars) {
      const [f, p] = [fused.grads[v.name] ?? null, plain.grads[v.name] ?? null];
      expect(f === null, `${v.name}: a gradient on one side only`).toBe(p === null); // the MTP module's: none on either (ce only)
      if (f && p) {
        expect(maxAbsDiff(f, p), v.name).toBeLessThan(1e-5);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10);
    tf.dispose([fused.value, plain.value, ...Object.values(fused.grads), ...Object.values(plain.grads), tokens, lossMask].filter((t) => t));
    model.dispose();
  });

  it('policy log-probs and entropies at τ = 0.7 and logProbs() equal the full-logit values', () => {
    const model = make();
    const policy = new DeepSeekPolicy(model, tok);
    const batch = { promptIds: [[1, 2, 3], [4, 5]], completionIds: [[6, 7, 8, 9], [2, 3]], width: 4 };
    const tau = 0.7;
    const lp = policy.logProbs(batch, { temperature: tau });
    const ent = policy.entropy(batch, { temperature: tau });
    // Plain: the same left-padded layout the policy builds (prompt of width 3, then the completions).
    const pad = tok.special.pad;
    const tokens = tf.tensor2d([[1, 2, 3, 6, 7, 8, 9], [pad, 4, 5, 2, 3, pad, pad]], undefined, 'int32');
    const keyMask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1, 1]]);
    const positions = [[0, 1, 2, 3, 4, 5, 6], [0, 0, 1, 2, 3, 4, 5]];
    const { logits } = model.forward(tokens, { keyMask, positions });
    const l = tf.slice(logits, [0, 2, 0], [2, 4, V]);
    const wantLp = plainLogProbs(l, tf.slice(tokens, [0, 3], [2, 4]), tau);
    const lsm = tf.logSoftmax(tf.div(l, tau));
    const wantEnt = tf.neg(tf.sum(tf.mul(tf.exp(lsm), lsm), -1));
    expect(maxAbsDiff(lp, wantLp)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ent, wantEnt)).toBeLessThan(1e-5);
    const seq = tf.tensor2d([[1, 2, 3, 6, 7, 8, 9]], undefined, 'int32');
    const all = logProbs(model, seq, { temperature: tau });
    const wantAll = plainLogProbs(tf.slice(model.forward(seq).logits, [0, 0, 0], [1, 6, V]), tf.slice(seq, [0, 1], [1, 6]), tau);
    expect(maxAbsDiff(all, wantAll)).toBeLessThan(1e-5);
    tf.dispose([lp, ent, tokens, keyMask, logits, l, wantLp, lsm, wantEnt, seq, all, wantAll]);
    model.dispose();
  });
});
