import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { collate } from './batch';
import { presets } from './config';
import { convertToDsa, indexerParameters, indexerWarmupStep } from './dsa';
import { generate } from './generate';
import { DeepSeekModel } from './model';
import { AdamW } from './optim';
import { CharTokenizer } from './tokenizer';
import { trainStep } from './train';

const tok = CharTokenizer.fromCorpus(['abcdefghij0123456789']);
const dense = () => new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize, num_hidden_layers: 2, num_nextn_predict_layers: 0 }, { seed: 3 });
const sizes = { index_n_heads: 2, index_head_dim: 16, index_topk: 6 };
const seqs = [tok.encode('abcdefghij0123456789'), tok.encode('0123456789abcdefghij')];

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

describe('DSA training (V3.2-Exp)', () => {
  it('converts a dense checkpoint: same weights, new indexers, equal output while L ≤ index_topk', () => {
    const d = dense();
    const s = convertToDsa(d, sizes, 1);
    const names = [...s.namedParameters().keys()];
    expect(names.filter((n) => n.includes('indexer')).length).toBe(2 * 5);
    const short = tf.tensor2d([seqs[0].slice(0, 6)], undefined, 'int32');
    const a = tf.tidy(() => d.forward(short).logits.dataSync());
    const b = tf.tidy(() => s.forward(short).logits.dataSync());
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
    d.dispose();
    s.dispose();
    short.dispose();
  });

  it('warm-up lowers the indexer KL and changes only the indexers', () => {
    const s = convertToDsa(dense(), sizes, 1);
    const before = new Map([...s.namedParameters()].map(([n, v]) => [n, v.dataSync().slice()]));
    const opt = new AdamW(indexerParameters(s), { lr: 3e-3, weightDecay: 0 });
    const batch = collate(seqs, [0, 0], tok.special.pad);
    const first = indexerWarmupStep(s, opt, batch).loss;
    let last = first;
    for (let i = 0; i < 30; i++) last = indexerWarmupStep(s, opt, batch).loss;
    expect(last).toBeLessThan(first * 0.7);
    for (const [n, v] of s.namedParameters()) {
      const changed = v.dataSync().some((x, i) => x !== before.get(n)![i]);
      expect(changed, n).toBe(n.includes('indexer'));
    }
    opt.disposeState();
    s.dispose();
    tf.dispose([batch.tokens, batch.lossMask]);
  });

  it('sparse training trains the model and the indexer together, and cached generation matches', () => {
    const s = convertToDsa(dense(), sizes, 1);
    const opt = new AdamW(s.namedParameters(), { lr: 3e-3, weightDecay: 0 });
    const batch = collate(seqs, [0, 0], tok.special.pad);
    const first = trainStep(s, opt, batch, { indexerLoss: 'sparse' });
    let last = first;
    const count = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) last = trainStep(s, opt, batch, { indexerLoss: 'sparse' });
    expect(tf.memory().numTensors).toBe(count);
    expect(last.ce).toBeLessThan(first.ce);
    const prompts = [seqs[0].slice(0, 9), seqs[1].slice(0, 5)];
    const a = generate(s, tok, prompts, { maxNewTokens: 10, temperature: 0, stopIds: [] });
    const b = generate(s, tok, prompts, { maxNewTokens: 10, temperature: 0, stopIds: [], useCache: false });
    expect(a.map((r) => r.tokens)).toEqual(b.map((r) => r.tokens));
    opt.disposeState();
    s.dispose();
    tf.dispose([batch.tokens, batch.lossMask]);
  });
});
