import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readSafetensors, withoutLinearAdapters, writeSafetensors } from '@r1-ts/tensor-kernels';
import { loadPretrained, type CausalLM } from '@r1-ts/model';
import { LoraModel, loadAdapter, saveAdapter } from '../src/index';

// Fixtures written by PEFT itself: test/fixtures/peft/make_fixture.py (tiny random Llama / Qwen2,
// a LoRA with random lora_B, and PEFT's logits for fixed input ids).
const FIXTURES = resolve(__dirname, '../../../test/fixtures/peft');

/** The base model as transformers saved it, through @r1-ts/model's loader. */
function loadBase(family: string): CausalLM {
  return loadPretrained(join(FIXTURES, family, 'base'), { tokenizer: false }).model;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(['llama', 'qwen2'])('PEFT adapter written by peft (%s)', (family) => {
  const expected = readSafetensors(join(FIXTURES, family, 'logits.safetensors')).tensors;
  const ids = expected.get('input_ids')!;
  const run = (model: CausalLM) => tf.tidy(() => model.forward(tf.tensor2d(Array.from(ids.data), ids.shape as [number, number], 'int32')).logits.dataSync());

  it("loads and reproduces PEFT's logits; adapters off reproduce the base's", () => {
    const model = loadBase(family);
    const lora = loadAdapter(model, join(FIXTURES, family, 'adapter'));
    expect(lora.config.lora_dropout).toBe(0);
    expect(maxAbsDiff(run(model), expected.get('logits')!.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(withoutLinearAdapters(() => run(model)), expected.get('base_logits')!.data)).toBeLessThan(1e-5);
    // Merged into the weights, the same logits.
    lora.merge();
    expect(maxAbsDiff(run(model), expected.get('logits')!.data)).toBeLessThan(1e-5);
    lora.dispose();
    model.dispose();
  });

  it('saves it back with the same tensor names, shapes and values', () => {
    const model = loadBase(family);
    const lora = loadAdapter(model, join(FIXTURES, family, 'adapter'));
    const dir = mkdtempSync(join(tmpdir(), 'peft-'));
    saveAdapter(lora, dir);
    const theirs = readSafetensors(join(FIXTURES, family, 'adapter', 'adapter_model.safetensors')).tensors;
    const ours = readSafetensors(join(dir, 'adapter_model.safetensors')).tensors;
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [k, t] of theirs) expect(ours.get(k)!.data, k).toEqual(t.data);
    // What `make_fixture.py --check DIR --family <f>` compares PEFT's logits with.
    writeSafetensors(join(dir, 'r1_logits.safetensors'), { logits: { dtype: 'F32', shape: expected.get('logits')!.shape, data: run(model) } });
    if (process.env.R1_PEFT_CHECK_DIR) console.log(`${family} adapter for --check: ${dir}`);
    lora.dispose();
    model.dispose();
  });

  it('an adapter made here (all-linear, rsLoRA, random B) is written for `make_fixture.py --check`', () => {
    const model = loadBase(family);
    const lora = LoraModel.attach(model, { r: 3, lora_alpha: 6, target_modules: 'all-linear', use_rslora: true }, { seed: 5 });
    lora.trainableVariables().forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', i)));
    const dir = mkdtempSync(join(tmpdir(), 'peft-ours-'));
    saveAdapter(lora, dir);
    const logits = run(model);
    expect(maxAbsDiff(logits, withoutLinearAdapters(() => run(model)))).toBeGreaterThan(1e-3);
    writeSafetensors(join(dir, 'r1_logits.safetensors'), { logits: { dtype: 'F32', shape: expected.get('logits')!.shape, data: logits } });
    if (process.env.R1_PEFT_CHECK_DIR) console.log(`${family} adapter for --check: ${dir}`);
    lora.dispose();
    model.dispose();
  });
});
