import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { withoutLinearAdapters } from '@r1-ts/tensor-kernels';
import { DeepSeekModel, presets } from '@r1-ts/model';
import { LoraModel } from '../src/index';

// LoRA on the DeepSeek families: MLA (absorbed decode folds kv_b_proj), DSA (its indexer and latent
// form), the dense MLP and the shared experts (fused SwiGLU without an adapter, `linear` with one).

const TOKENS = [[3, 17, 42, 8, 5, 60, 2], [11, 0, 33, 7, 9, 1, 50]];
const S = TOKENS[0].length;
const PREFILL = 3;
const dsa = { index_n_heads: 2, index_head_dim: 16, index_topk: 3 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Logits [B, S, V] of the whole sequence in one uncached (expanded) forward. */
const full = (model: DeepSeekModel) => tf.tidy(() => model.forward(tf.tensor2d(TOKENS, undefined, 'int32')).logits.arraySync());

/** The same logits from a cached prefill of the first tokens, then one absorbed decode step per token. */
function cached(model: DeepSeekModel): number[][][] {
  const cache = model.newCache();
  const rows: number[][][] = TOKENS.map(() => []);
  const take = (from: number, to: number) => tf.tidy(() => {
    const ids = tf.tensor2d(TOKENS.map((r) => r.slice(from, to)), undefined, 'int32');
    return model.forward(ids, {}, cache).logits.arraySync();
  });
  take(0, PREFILL).forEach((r, b) => rows[b].push(...r));
  for (let t = PREFILL; t < S; t++) take(t, t + 1).forEach((r, b) => rows[b].push(...r));
  cache.dispose();
  return rows;
}

/** Greedy continuation of TOKENS' first row: uncached (re-running the whole prefix) or cached (decode). */
function greedy(model: DeepSeekModel, steps: number, useCache: boolean): number[] {
  const seq = TOKENS[0].slice(0, PREFILL);
  const cache = useCache ? model.newCache() : undefined;
  let fed = 0;
  for (let i = 0; i < steps; i++) {
    const next = tf.tidy(() => {
      const ids = tf.tensor2d([seq.slice(useCache ? fed : 0)], undefined, 'int32');
      const logits = model.forward(ids, {}, cache).logits; // [1, n, V]
      return tf.argMax(tf.squeeze(tf.slice(logits, [0, logits.shape[1] - 1, 0], [1, 1, -1])), -1).dataSync()[0];
    });
    fed = seq.length;
    seq.push(next);
  }
  cache?.dispose();
  return seq.slice(PREFILL);
}

describe.each([
  ['deepseek_v3 (MLA)', {}],
  ['deepseek_v2-Lite style (q_proj, no q_lora_rank)', { q_lora_rank: null }],
  ['deepseek_v32 (DSA)', dsa],
])('LoRA on %s', (_, extra: Record<string, unknown>) => {
  const build = () => new DeepSeekModel({ ...presets.tiny, num_hidden_layers: 2, num_nextn_predict_layers: 0, ...extra }, { seed: 7 });

  it('reaches every MLA/DSA projection, the dense MLP and the shared experts (not the router or routed experts)', () => {
    const model = build();
    const lora = LoraModel.attach(model, { r: 4, lora_alpha: 8, target_modules: 'all-linear' });
    const names = lora.layers.map((l) => l.module.replace(/^model\.layers\.\d+\./, ''));
    const query = extra.q_lora_rank === null ? ['self_attn.q_proj'] : ['self_attn.q_a_proj', 'self_attn.q_b_proj'];
    for (const m of [...query, 'self_attn.kv_a_proj_with_mqa', 'self_attn.kv_b_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.shared_experts.down_proj']) expect(names).toContain(m);
    if ('index_topk' in extra) for (const m of ['self_attn.indexer.wq_b', 'self_attn.indexer.wk', 'self_attn.indexer.weights_proj']) expect(names).toContain(m);
    expect(names.filter((n) => /experts\.\d|mlp\.gate$/.test(n))).toEqual([]);
    tf.tidy(() => void model.forward(tf.tensor2d(TOKENS, undefined, 'int32')));
    expect(lora.unusedModules()).toEqual([]);
    lora.dispose();
    model.dispose();
  });

  it('cached absorbed decode equals the uncached forward with adapters (random B) on every projection; merge gives the same logits', () => {
    const model = build();
    const lora = LoraModel.attach(model, { r: 4, lora_alpha: 8, target_modules: 'all-linear' }, { seed: 1 });
    lora.training = false;
    lora.trainableVariables().forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 100 + i)));
    const before = tf.memory().numTensors;
    const ref = full(model);
    expect(tf.memory().numTensors).toBe(before);
    const base = withoutLinearAdapters(() => full(model));
    expect(maxAbsDiff(ref.flat(2), base.flat(2))).toBeGreaterThan(1e-2); // the adapters change the model
    const dec = cached(model);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(dec.flat(2), ref.flat(2))).toBeLessThan(2e-5);
    // kv_b_proj's adapter alone matters in the absorbed form (it is folded, not applied by `linear`).
    const kvb = lora.layers.filter((l) => l.module.endsWith('kv_b_proj'));
    const saved = kvb.map((l) => l.loraB.clone());
    kvb.forEach((l) => l.loraB.assign(tf.zerosLike(l.loraB)));
    expect(maxAbsDiff(cached(model).flat(2), dec.flat(2))).toBeGreaterThan(1e-3);
    kvb.forEach((l, i) => l.loraB.assign(saved[i]));
    tf.dispose(saved);
    expect(greedy(model, 5, true)).toEqual(greedy(model, 5, false));
    lora.merge();
    expect(maxAbsDiff(full(model).flat(2), ref.flat(2))).toBeLessThan(2e-5);
    expect(maxAbsDiff(cached(model).flat(2), ref.flat(2))).toBeLessThan(2e-5);
    lora.unmerge();
    expect(maxAbsDiff(full(model).flat(2), ref.flat(2))).toBeLessThan(2e-5);
    lora.dispose();
    expect(maxAbsDiff(full(model).flat(2), base.flat(2))).toBeLessThan(2e-5);
    model.dispose();
  });
});

it("DSA's latent form (q_b_proj, kv_b_proj and o_proj folded) equals its expanded form under adapters", () => {
  const model = new DeepSeekModel({ ...presets.tiny, num_hidden_layers: 1, num_nextn_predict_layers: 0, ...dsa }, { seed: 3 });
  const lora = LoraModel.attach(model, { r: 2, lora_alpha: 4, target_modules: ['q_b_proj', 'kv_b_proj', 'o_proj'] });
  lora.trainableVariables().forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 7 + i)));
  // A SparseMla (@r1-ts/attention-dsa, not a dependency of this package): its two forward forms.
  const attn = model.layers[0].selfAttn as unknown as { forwardLatent(x: tf.Tensor): tf.Tensor; forwardDetailed(x: tf.Tensor): { y: tf.Tensor } };
  const x = tf.randomNormal([2, 6, presets.tiny.hidden_size], 0, 1, 'float32', 5);
  const expanded = tf.tidy(() => attn.forwardDetailed(x).y.dataSync());
  const latent = tf.tidy(() => attn.forwardLatent(x).dataSync());
  const latentBase = withoutLinearAdapters(() => tf.tidy(() => attn.forwardLatent(x).dataSync()));
  expect(maxAbsDiff(latent, expanded)).toBeLessThan(1e-5);
  expect(maxAbsDiff(latentBase, expanded)).toBeGreaterThan(1e-3);
  x.dispose();
  lora.dispose();
  model.dispose();
});

it('naming a routed expert, the router or the MTP layer gives a ConfigError that says why', () => {
  const model = new DeepSeekModel({ ...presets.tiny, num_hidden_layers: 2 }, { seed: 0 }); // with its MTP layer
  expect(() => LoraModel.attach(model, { r: 2, target_modules: 'model\\.layers\\.1\\.mlp\\.experts\\.3\\.up_proj' })).toThrow(/not found in the model \(model\.layers\.1\.mlp\.experts\.3\.up_proj is a routed MoE expert/);
  expect(() => LoraModel.attach(model, { r: 2, target_modules: ['gate'] })).toThrow(/model\.layers\.1\.mlp\.gate is the MoE router/);
  expect(() => LoraModel.attach(model, { r: 2, target_modules: ['eh_proj'] })).toThrow(/model\.layers\.2\.eh_proj is in the multi-token-prediction layer/);
  // all-linear skips the MTP layer: everything it picks runs in the main model's forward.
  const lora = LoraModel.attach(model, { r: 2, target_modules: 'all-linear' });
  expect(lora.layers.some((l) => l.module.startsWith('model.layers.2.'))).toBe(false);
  tf.tidy(() => void model.forward(tf.tensor2d(TOKENS, undefined, 'int32')));
  expect(lora.unusedModules()).toEqual([]);
  lora.dispose();
  model.dispose();
});
