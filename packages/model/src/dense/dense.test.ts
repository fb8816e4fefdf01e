import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, disposeBackend, initBackend, Rng } from '@r1-ts/tensor-kernels';
import { DenseModel } from './model';
import { denseRope } from './rope';
import { parseDenseConfig } from './config';
import { denseForward64 } from './reference64';
import { generate, logProbs } from '../generate';
import { CharTokenizer } from '../tokenizer';
import { DeepSeekPolicy } from '../policy';
import { SftTrainer } from '../train';

// §7.3 formulas, written out independently of rope.ts.
function refInvFreq(hd: number, theta: number, s: any): { f: number[]; a: number } {
  const base = Array.from({ length: hd / 2 }, (_, i) => Math.pow(theta, (-2 * i) / hd));
  if (!s) return { f: base, a: 1 };
  if (s.rope_type === 'linear') return { f: base.map((x) => x / s.factor), a: 1 };
  if (s.rope_type === 'llama3') {
    const L = s.original_max_position_embeddings;
    return {
      f: base.map((fi) => {
        const lam = (2 * Math.PI) / fi;
        if (lam < L / s.high_freq_factor) return fi;
        if (lam > L / s.low_freq_factor) return fi / s.factor;
        const sig = (L / lam - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        return ((1 - sig) * fi) / s.factor + sig * fi;
      }),
      a: 1,
    };
  }
  const L = s.original_max_position_embeddings;
  const cd = (r: number) => (hd * Math.log(L / (2 * Math.PI * r))) / (2 * Math.log(theta));
  const low = Math.max(Math.floor(cd(s.beta_fast)), 0);
  let high = Math.min(Math.ceil(cd(s.beta_slow)), hd - 1);
  if (low === high) high += 0.001;
  return {
    f: base.map((fi, i) => {
      const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      return (fi / s.factor) * ramp + fi * (1 - ramp);
    }),
    a: 0.1 * Math.log(s.factor) + 1,
  };
}

const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
const yarn = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32, beta_fast: 32, beta_slow: 1 };
const linear = { type: 'linear', factor: 2 }; // legacy `type` spelling

describe('dense RoPE frequencies (golden/README §7.3)', () => {
  it.each([
    ['null', null, 16, 1e4],
    ['linear', linear, 16, 1e4],
    ['llama3', llama3, 32, 5e5],
    ['yarn', yarn, 16, 1e4],
    ['yarn (large theta, wide head)', { ...yarn, factor: 32, original_max_position_embeddings: 4096 }, 128, 1e6],
  ])('%s matches the formulas', (_, scaling, hd, theta) => {
    const c = parseDenseConfig({ model_type: 'llama', vocab_size: 8, hidden_size: hd * 2, intermediate_size: 8, num_hidden_layers: 1,
      num_attention_heads: 2, max_position_embeddings: 256, rms_norm_eps: 1e-5, rope_theta: theta, rope_scaling: scaling });
    const ref = refInvFreq(hd, theta, scaling && { ...scaling, rope_type: (scaling as any).rope_type ?? (scaling as any).type });
    const got = denseRope(c);
    ref.f.forEach((f, i) => expect(Math.abs(got.invFreq[i] - f) / f).toBeLessThan(1e-14));
    expect(got.attentionFactor).toBeCloseTo(ref.a, 14);
  });

  it('llama3 exercises all three regions and yarn divides the slow pairs', () => {
    const f = denseRope({ head_dim: 32, rope_theta: 5e5, rope_scaling: llama3 as never }).invFreq;
    const base = Array.from({ length: 16 }, (_, i) => Math.pow(5e5, (-2 * i) / 32));
    const kept = base.filter((b, i) => f[i] === b).length;
    const divided = base.filter((b, i) => Math.abs(f[i] - b / 8) < 1e-18).length;
    expect(kept).toBeGreaterThan(0);
    expect(divided).toBeGreaterThan(0);
    expect(kept + divided).toBeLessThan(16);
  });
});

type Variant = [string, Record<string, unknown>];
const variants: Variant[] = [
  ['llama GQA 4/2, llama3 rope, attention_bias', { model_type: 'llama', num_key_value_heads: 2, rope_theta: 5e5, rope_scaling: llama3, attention_bias: true }],
  ['llama MQA 4/1, linear rope, mlp_bias, tied', { model_type: 'llama', num_key_value_heads: 1, rope_scaling: linear, mlp_bias: true, tie_word_embeddings: true }],
  ['qwen2 tied, yarn', { model_type: 'qwen2', num_key_value_heads: 2, rope_theta: 1e6, rope_scaling: yarn, tie_word_embeddings: true }],
  ['qwen3 head_dim 12 ≠ D/H, attention_bias, yarn', { model_type: 'qwen3', num_key_value_heads: 2, head_dim: 12, attention_bias: true, rope_scaling: yarn }],
  ['qwen3 no GQA, rope_parameters (transformers 5)', { model_type: 'qwen3', head_dim: 8, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } }],
];

describe.each(['wasm', 'cpu'] as const)('DenseModel on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it.each(variants)('%s: logits of a left-padded batch match a float64 reference, cached decode equals prefill', (_, extra) => {
    const raw = { vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
      max_position_embeddings: 256, rms_norm_eps: 1e-6, ...extra };
    const model = new DenseModel(raw, { seed: 3 });
    // Random norms and biases too, so a missing or misplaced one shows.
    const rng = new Rng(9);
    for (const [name, v] of model.namedParameters()) {
      if (name.includes('norm') || name.endsWith('bias')) v.assign(tf.tensor(rng.normalArray(v.size, 0.3).map((x) => x + (name.endsWith('bias') ? 0 : 1)), v.shape));
      else v.assign(tf.tensor(rng.normalArray(v.size, 0.2), v.shape));
    }
    const c = model.config;
    const w = new Map([...model.namedParameters()].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
    const rows = [[5, 9, 1, 33, 7, 2, 18], [0, 0, 0, 4, 11, 30, 6]];
    const mask = [[1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]];
    const positions = mask.map((m) => { let n = -1; return m.map((v) => (v ? ++n : 1)); }); // cumsum − 1, padding 1
    const rope64 = refInvFreq(c.head_dim, c.rope_theta, c.rope_scaling);
    const before = tf.memory().numTensors;
    const logits = tf.tidy(() => model.forward(tf.tensor2d(rows, undefined, 'int32'), { keyMask: tf.tensor2d(mask), positions }).logits.arraySync());
    expect(tf.memory().numTensors).toBe(before);
    rows.forEach((r, b) => {
      const ref = denseForward64(c, w, r, positions[b], mask[b], rope64.f, rope64.a);
      let num = 0;
      let den = 0;
      ref.forEach((row, t) => mask[b][t] && row.forEach((v, i) => { num += (logits[b][t][i] - v) ** 2; den += v * v; }));
      expect(Math.sqrt(num / den)).toBeLessThan(2e-5);
    });
    // Cached: prefill the first 5 tokens, then decode the last 2 one by one.
    const cache = model.newCache();
    const step = tf.tidy(() => {
      model.forward(tf.tensor2d(rows.map((r) => r.slice(0, 5)), undefined, 'int32'), { keyMask: tf.tensor2d(mask.map((m) => m.slice(0, 5))), positions: positions.map((p) => p.slice(0, 5)) }, cache);
      model.forward(tf.tensor2d(rows.map((r) => [r[5]]), undefined, 'int32'), {}, cache);
      return model.forward(tf.tensor2d(rows.map((r) => [r[6]]), undefined, 'int32'), {}, cache).logits.arraySync();
    });
    expect(cache.length).toBe(7);
    rows.forEach((_, b) => step[b][0].forEach((v, i) => expect(v).toBeCloseTo(logits[b][6][i], 4)));
    cache.dispose();
    model.dispose();
  });
});

describe('DenseModel with generate(), logProbs() and the policy', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });
  const tok = CharTokenizer.fromCorpus(['abcdefghij 0123456789']);
  const config = { model_type: 'qwen2', vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-6, tie_word_embeddings: true };

  it('greedy generation with the KV cache equals the uncached forward, with a flat tensor count', () => {
    const model = new DenseModel(config, { seed: 1 });
    const prompts = [tok.encode('abc 12'), tok.encode('j9')];
    const cached = generate(model, tok, prompts, { maxNewTokens: 12, temperature: 0, stopIds: [] });
    const uncached = generate(model, tok, prompts, { maxNewTokens: 12, temperature: 0, stopIds: [], useCache: false });
    expect(cached.map((r) => r.tokens)).toEqual(uncached.map((r) => r.tokens));
    cached.forEach((r, b) => r.logProbs.forEach((lp, i) => expect(lp).toBeCloseTo(uncached[b].logProbs[i], 4)));
    const counts: number[] = [];
    generate(model, tok, prompts, { maxNewTokens: 30, temperature: 1, seed: 2, stopIds: [], onToken: () => void counts.push(tf.memory().numTensors) });
    expect(new Set(counts.slice(2)).size).toBe(1);
    model.dispose();
  });

  it('logProbs equal the log-softmax of the forward logits; the policy clones and scores', () => {
    const model = new DenseModel(config, { seed: 2 });
    const ids = [tok.encode('abcdef')];
    const lp = tf.tidy(() => logProbs(model, tf.tensor2d(ids, undefined, 'int32')).arraySync()[0]);
    const logits = tf.tidy(() => tf.logSoftmax(model.forward(tf.tensor2d(ids, undefined, 'int32')).logits).arraySync()[0]);
    lp.forEach((v, t) => expect(v).toBeCloseTo(logits[t][ids[0][t + 1]], 5));
    const policy = new DeepSeekPolicy(model, tok, { chatTemplate: false });
    const ref = policy.clone();
    const batch = { promptIds: [tok.encode('ab')], completionIds: [tok.encode('cdef')], width: 4 };
    const a = tf.tidy(() => policy.logProbs(batch).arraySync());
    const b = tf.tidy(() => ref.logProbs(batch).arraySync());
    expect(b).toEqual(a);
    a[0].forEach((v, t) => expect(v).toBeCloseTo(lp[t + 1], 4));
    ref.dispose();
    policy.dispose();
  });

  it('trains with SftTrainer: the loss falls and the tensor count stays flat', () => {
    const model = new DenseModel(config, { seed: 3 });
    const trainer = new SftTrainer(model, tok, { lr: 1e-2, batchSize: 2, weightDecay: 0 });
    const data = [{ prompt: 'ab', completion: 'cdef' }, { prompt: 'j9', completion: '8765' }];
    const first = trainer.step(data);
    const count = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 30; i++) last = trainer.step(data);
    expect(tf.memory().numTensors).toBe(count);
    expect(last.ce).toBeLessThan(first.ce / 2);
    model.dispose();
  });

  it('rejects a bad config naming the field', () => {
    expect(() => new DenseModel({ ...config, num_key_value_heads: 3 })).toThrow(/num_key_value_heads: must divide num_attention_heads \(4\), got 3/);
    expect(() => new DenseModel({ ...config, hidden_act: 'gelu' })).toThrow(ConfigError);
  });
});
