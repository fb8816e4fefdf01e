// Activation checkpointing (@r1-ts/model's `gradientCheckpointing`) under LoRA: only the adapters get
// gradients, equal to those without checkpointing, with the dropout masks replayed in the recompute.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { DeepSeekModel, DenseModel, presets } from '@r1-ts/model';
import type { CausalLM } from '@r1-ts/model';
import { LoraModel } from './index';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

const llama = {
  model_type: 'llama', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5,
};

const cases: [string, () => CausalLM][] = [
  ['llama', () => new DenseModel(llama, { seed: 1 })],
  ['qwen3', () => new DenseModel({ ...llama, model_type: 'qwen3', head_dim: 8 }, { seed: 2 })],
  ['deepseek (MLA + MoE)', () => new DeepSeekModel({ ...presets.tiny, vocab_size: 32, num_hidden_layers: 2 }, { seed: 3 })],
];

function adapterGrads(model: CausalLM, lora: LoraModel, on: boolean): Map<string, Float32Array> {
  model.gradientCheckpointing = on;
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const tokens = tf.tensor2d([[1, 5, 9, 3, 7, 2], [2, 2, 7, 15, 4, 1]], [2, 6], 'int32');
    const names = new Map([...lora.namedAdapterParameters()].map(([n, v]) => [v.name, n]));
    const { grads } = tf.variableGrads(() => model.loss(tokens).total);
    for (const [id, g] of Object.entries(grads)) out.set(names.get(id) ?? `not an adapter: ${id}`, g.dataSync() as Float32Array);
  });
  return out;
}

describe('gradient checkpointing with LoRA', () => {
  it.each(cases)('%s: only adapter gradients, equal with and without checkpointing (dropout replayed)', (_name, make) => {
    const model = make();
    const lora = LoraModel.attach(model, { r: 4, lora_alpha: 8, lora_dropout: 0.3, target_modules: 'all-linear' }, { seed: 5 });
    // Non-zero B, so A's gradient (and the dropout on its input) matters.
    lora.trainableVariables().forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 10 + i)));
    const start = lora.getRngState();
    const off = adapterGrads(model, lora, false);
    const afterOff = lora.getRngState();
    lora.setRngState(start);
    const on = adapterGrads(model, lora, true);
    expect(lora.getRngState()).toEqual(afterOff); // the recompute leaves the dropout stream where the forward did
    expect([...off.keys()].every((k) => k.startsWith('base_model.model.'))).toBe(true);
    expect(off.size).toBeGreaterThan(0);
    expect([...on.keys()].sort()).toEqual([...off.keys()].sort());
    let worst = 0;
    for (const [k, g] of off) {
      const d = Math.max(...Array.from(g, (v, i) => Math.abs(v - on.get(k)![i])));
      worst = Math.max(worst, d);
      expect(d, k).toBeLessThan(1e-5);
    }
    console.log(`${_name} + LoRA: ${off.size} adapter grads, max |Δ| = ${worst.toExponential(2)}`);
    lora.dispose();
    model.dispose();
  });
});
