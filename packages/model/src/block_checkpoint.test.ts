import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CausalLM } from './causal_lm';
import { presets, withAttention } from './config';
import { DenseModel } from './dense/model';
import { DeepSeekModel } from './model';
import { AdamW } from './optim';
import { trainStep } from './train';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

const llama = {
  model_type: 'llama', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 3,
  num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512, rms_norm_eps: 1e-5,
};
const qwen3 = { ...llama, model_type: 'qwen3', head_dim: 8, tie_word_embeddings: true };
// MLA + MoE (layers 1, 2) + MTP; a large balance weight so the router scores' gradient matters.
const deepseek = { ...presets.tiny, vocab_size: 32, aux_loss_alpha: 0.1 };

const models: [string, () => CausalLM][] = [
  ['llama', () => new DenseModel(llama, { seed: 1 })],
  ['qwen3', () => new DenseModel(qwen3, { seed: 2 })],
  ['deepseek (MLA + MoE + MTP)', () => new DeepSeekModel(deepseek, { seed: 3 })],
];

/** Row 0 left-padded by two tokens; loss on the last four predictions of each row. */
function batch(S: number) {
  const tokens = tf.tensor2d(Array.from({ length: 2 * S }, (_, i) => (i * 7 + 3) % 32), [2, S], 'int32');
  const keyMask = tf.tensor2d([[0, 0, ...Array(S - 2).fill(1)], Array(S).fill(1)]);
  const positions = [[0, 0, ...Array.from({ length: S - 2 }, (_, t) => t)], Array.from({ length: S }, (_, t) => t)];
  const lossMask = tf.tensor2d([0, 1].flatMap(() => Array.from({ length: S }, (_, t) => (t >= S - 5 && t < S - 1 ? 1 : 0))), [2, S]);
  return { tokens, keyMask, positions, lossMask };
}

/** Loss and the gradient of every trainable variable, by parameter name. */
function lossGrads(model: CausalLM, on: boolean, S = 8): { loss: number; grads: Map<string, Float32Array> } {
  model.gradientCheckpointing = on;
  let result: { loss: number; grads: Map<string, Float32Array> } | undefined;
  tf.tidy(() => {
    const { tokens, keyMask, positions, lossMask } = batch(S);
    const names = new Map([...model.namedParameters()].map(([n, v]) => [v.name, n]));
    const { value, grads } = tf.variableGrads(() => model.loss(tokens, { keyMask, positions, lossMask }).total);
    const out = new Map<string, Float32Array>();
    for (const [id, g] of Object.entries(grads)) out.set(names.get(id) ?? id, g.dataSync() as Float32Array);
    result = { loss: value.dataSync()[0], grads: out };
  });
  return result!;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('gradient checkpointing', () => {
  it.each(models)('%s: every gradient equals the one without checkpointing', (_name, make) => {
    const model = make();
    const off = lossGrads(model, false);
    const on = lossGrads(model, true);
    expect(on.loss).toBeCloseTo(off.loss, 6);
    expect([...on.grads.keys()].sort()).toEqual([...off.grads.keys()].sort());
    expect(off.grads.size).toBe(model.trainableVariables().length);
    let worst = 0;
    for (const [name, g] of off.grads) {
      const d = maxAbsDiff(on.grads.get(name)!, g);
      worst = Math.max(worst, d);
      expect(d, name).toBeLessThan(1e-5);
    }
    console.log(`${_name}: ${off.grads.size} grads, max |Δ| = ${worst.toExponential(2)}`);
    model.dispose();
  });

  it.each(['dense', 'sparse'] as const)('DSA (V3.2) with the %s indexer loss: same gradients, indexer loss included', (mode) => {
    const model = new DeepSeekModel(withAttention(deepseek, 'dsa', { index_n_heads: 2, index_head_dim: 16, index_topk: 4 }), { seed: 4 });
    const grads = (on: boolean) => {
      model.gradientCheckpointing = on;
      const out = new Map<string, Float32Array>();
      tf.tidy(() => {
        const { tokens, keyMask, lossMask } = batch(8);
        const names = new Map([...model.namedParameters()].map(([n, v]) => [v.name, n]));
        const { grads: g } = tf.variableGrads(() => model.loss(tokens, { keyMask, lossMask, indexerLoss: mode }).total);
        for (const [id, t] of Object.entries(g)) out.set(names.get(id)!, t.dataSync() as Float32Array);
      });
      return out;
    };
    const off = grads(false);
    const on = grads(true);
    expect([...off.keys()].some((k) => k.includes('indexer'))).toBe(true);
    expect([...on.keys()].sort()).toEqual([...off.keys()].sort());
    for (const [k, g] of off) expect(maxAbsDiff(on.get(k)!, g), k).toBeLessThan(1e-5);
    model.dispose();
  });

  it('DeepSeek router scores carry the balance-loss gradient through the checkpoint', () => {
    // With α = 0 the gates' gradient differs: the balance term must reach them through the op's outputs.
    const model = new DeepSeekModel(deepseek, { seed: 3 });
    const withBalance = lossGrads(model, true).grads.get('model.layers.1.mlp.gate.weight')!;
    const noBalance = new DeepSeekModel({ ...deepseek, aux_loss_alpha: 0 }, { seed: 3 });
    const without = lossGrads(noBalance, true).grads.get('model.layers.1.mlp.gate.weight')!;
    expect(maxAbsDiff(withBalance, without)).toBeGreaterThan(1e-6);
    model.dispose();
    noBalance.dispose();
  });

  it.each(models)('%s: a training loop with it on keeps the tensor count flat', (_name, make) => {
    const model = make();
    model.gradientCheckpointing = true;
    const opt = new AdamW(model.namedParameters(), { lr: 1e-3 });
    const { tokens, lossMask } = batch(8);
    const step = () => trainStep(model, opt, { tokens, lossMask, lengths: [8, 8] });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(step().skipped).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([tokens, lossMask]);
    opt.disposeState();
    model.dispose();
  });

  it.each(models)('%s: lowers the peak bytes of one backward at a longer sequence', async (name, make) => {
    const model = make();
    const S = 128;
    const peak = async (on: boolean) => {
      model.gradientCheckpointing = on;
      const base = tf.memory().numBytes; // the weights and whatever else is alive: not the backward's
      return (await tf.profile(() => tf.tidy(() => {
        const { tokens, keyMask, lossMask } = batch(S);
        const { grads, value } = tf.variableGrads(() => model.loss(tokens, { keyMask, lossMask }).total);
        tf.dispose([...Object.values(grads), value]);
      }))).peakBytes - base;
    };
    const off = await peak(false);
    const on = await peak(true);
    console.log(`${name}: peak bytes above the weights, one backward at S=${S}: off ${off}, on ${on} (${(on / off).toFixed(2)}×)`);
    expect(on).toBeLessThan(off);
    model.dispose();
  });

  it('is ignored for cached decoding (generation has no tape)', () => {
    const model = new DenseModel(llama, { seed: 1, gradientCheckpointing: true });
    const cache = model.newCache();
    tf.tidy(() => {
      const a = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), {}, cache).logits;
      model.gradientCheckpointing = false;
      const b = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')).logits;
      expect(maxAbsDiff(a.dataSync() as Float32Array, b.dataSync() as Float32Array)).toBe(0);
    });
    cache.dispose();
    model.dispose();
  });
});
