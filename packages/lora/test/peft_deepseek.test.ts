import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readSafetensors, withoutLinearAdapters, writeSafetensors } from '@r1-ts/tensor-kernels';
import { loadPretrained, type CausalLM } from '@r1-ts/model';
import { LoraModel, loadAdapter, loraConfigFromPeft, saveAdapter } from '../src/index';
import { ConfigError } from '@r1-ts/tensor-kernels';

// Written by transformers' DeepseekV3ForCausalLM and PEFT themselves: fixtures/make_deepseek_fixture.py
// (tiny random DeepSeek-V3: MLA with q_lora_rank, a dense layer, an MoE layer; LoRA with random
// lora_B on every MLA projection; PEFT's logits for fixed input ids).
const FIXTURE = resolve(__dirname, 'fixtures/deepseek_v3');
const expected = readSafetensors(join(FIXTURE, 'logits.safetensors')).tensors;
const ids = expected.get('input_ids')!;

const loadBase = (): CausalLM => loadPretrained(join(FIXTURE, 'base'), { tokenizer: false }).model;
const run = (model: CausalLM) => tf.tidy(() => model.forward(tf.tensor2d(Array.from(ids.data), ids.shape as [number, number], 'int32')).logits.dataSync());

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('PEFT adapter on deepseek_v3 (MLA + MoE) written by peft', () => {
  it("loads and reproduces PEFT's logits; adapters off and merged too", () => {
    const model = loadBase();
    expect(model.modelType).toBe('deepseek_v3');
    const lora = loadAdapter(model, join(FIXTURE, 'adapter'));
    expect(lora.layers.map((l) => l.module.split('.').pop())).toContain('kv_b_proj');
    expect(maxAbsDiff(withoutLinearAdapters(() => run(model)), expected.get('base_logits')!.data)).toBeLessThan(1e-5);
    const adapted = run(model);
    expect(maxAbsDiff(adapted, expected.get('logits')!.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(adapted, expected.get('base_logits')!.data)).toBeGreaterThan(1e-2); // the adapter matters
    expect(lora.unusedModules()).toEqual([]);
    lora.merge();
    expect(maxAbsDiff(run(model), expected.get('logits')!.data)).toBeLessThan(1e-5);
    lora.dispose();
    model.dispose();
  });

  it('saves it back with the same tensor names and values', () => {
    const model = loadBase();
    const lora = loadAdapter(model, join(FIXTURE, 'adapter'));
    const dir = mkdtempSync(join(tmpdir(), 'peft-dsv3-'));
    saveAdapter(lora, dir);
    const theirs = readSafetensors(join(FIXTURE, 'adapter', 'adapter_model.safetensors')).tensors;
    const ours = readSafetensors(join(dir, 'adapter_model.safetensors')).tensors;
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [k, t] of theirs) expect(ours.get(k)!.data, k).toEqual(t.data);
    lora.dispose();
    model.dispose();
  });

  it('an adapter made here (MLA projections, rsLoRA, random B) is written for `make_deepseek_fixture.py --check`', () => {
    const model = loadBase();
    const targets = ['q_a_proj', 'q_b_proj', 'kv_a_proj_with_mqa', 'kv_b_proj', 'o_proj'];
    const lora = LoraModel.attach(model, { r: 3, lora_alpha: 6, target_modules: targets, use_rslora: true }, { seed: 5 });
    lora.trainableVariables().forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', i)));
    const dir = mkdtempSync(join(tmpdir(), 'peft-dsv3-ours-'));
    saveAdapter(lora, dir);
    const logits = run(model);
    expect(maxAbsDiff(logits, withoutLinearAdapters(() => run(model)))).toBeGreaterThan(1e-3);
    writeSafetensors(join(dir, 'r1_logits.safetensors'), { logits: { dtype: 'F32', shape: expected.get('logits')!.shape, data: logits } });
    if (process.env.R1_PEFT_CHECK_DIR) console.log(`deepseek_v3 adapter for --check: ${dir}`);
    lora.dispose();
    model.dispose();
  });

  it("PEFT's own all-linear on this model (target_parameters on the router and fused experts) is refused, naming the field", () => {
    // What PEFT 0.21 + transformers 5.18 wrote for LoraConfig(target_modules='all-linear') on this model.
    const peftAllLinear = {
      peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['o_proj', 'kv_b_proj', 'kv_a_proj_with_mqa', 'q_b_proj', 'q_a_proj'],
      target_parameters: ['gate.weight', 'down_proj', 'gate_up_proj'], rank_pattern: { '.*\\.gate_up_proj': 8 }, alpha_pattern: { '.*\\.gate_up_proj': 16 },
    };
    let error: unknown;
    try {
      loraConfigFromPeft(peftAllLinear, 'adapter_config.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).fields).toEqual(['target_parameters']);
    expect((error as ConfigError).message).toMatch(/target_parameters = \["gate.weight","down_proj","gate_up_proj"\] is not supported.*fused parameters/);
  });
});
