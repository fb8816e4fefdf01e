import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, readSafetensors, withoutLinearAdapters, writeSafetensors } from '@r1-ts/tensor-kernels';
import { LoraModel, loadAdapter, loraScale, parseLoraConfig, saveAdapter } from './index';
import { TinyLm } from './testing/tiny_lm';

const ids = tf.tensor2d([[1, 5, 9, 3], [2, 2, 7, 15]], [2, 4], 'int32');
const logitsOf = (m: TinyLm) => m.forward(ids).dataSync().slice() as Float32Array;
const tmp = () => mkdtempSync(join(tmpdir(), 'lora-'));

/** Random non-zero B (and A) so the adapters change the output. */
function randomise(lora: LoraModel, seed: number): void {
  let s = seed;
  for (const v of lora.trainableVariables()) {
    v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', s++));
  }
}

let live: { dispose(): void }[] = [];
afterEach(() => {
  for (const x of live.reverse()) x.dispose();
  live = [];
});
const keep = <T extends { dispose(): void }>(x: T): T => (live.push(x), x);

describe('LoraModel', () => {
  it('with B = 0 the adapted logits equal the base exactly; adapters off equals the base', () => {
    const model = keep(new TinyLm(1));
    const base = logitsOf(model);
    const lora = LoraModel.attach(model, { r: 4, lora_alpha: 8, target_modules: 'all-linear' });
    keep(lora);
    expect(lora.layers.map((l) => l.module)).toEqual([
      'model.layers.0.q_proj', 'model.layers.0.up_proj', 'model.layers.0.down_proj',
      'model.layers.1.q_proj', 'model.layers.1.up_proj', 'model.layers.1.down_proj',
    ]); // all-linear: no embeddings, no lm_head
    expect(logitsOf(model)).toEqual(base);
    randomise(lora, 3);
    const adapted = logitsOf(model);
    expect(adapted).not.toEqual(base);
    expect(withoutLinearAdapters(() => logitsOf(model))).toEqual(base);
  });

  it('adapted logits equal a model whose weights are W + (α/r)·B·A computed in float64', () => {
    const model = keep(new TinyLm(2));
    const lora = keep(LoraModel.attach(model, { r: 3, lora_alpha: 5, target_modules: ['q_proj', 'down_proj'], use_rslora: true }));
    randomise(lora, 7);
    expect(lora.scale).toBeCloseTo(5 / Math.sqrt(3), 12);
    const adapted = logitsOf(model);
    // Independent reference: plain float64 W + s·B·A loaded into a fresh copy of the base.
    const ref = keep(new TinyLm(2));
    const params = ref.namedParameters();
    for (const l of lora.layers) {
      const [out, inp] = l.weight.shape;
      const W = l.weight.dataSync(), A = l.loraA.dataSync(), B = l.loraB.dataSync();
      const merged = new Float32Array(out * inp);
      for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) {
        let d = 0;
        for (let k = 0; k < 3; k++) d += B[o * 3 + k] * A[k * inp + i];
        merged[o * inp + i] = W[o * inp + i] + (5 / Math.sqrt(3)) * d;
      }
      params.get(`${l.module}.weight`)!.assign(tf.tensor2d(merged, [out, inp]));
    }
    const expected = logitsOf(ref);
    const err = Math.max(...adapted.map((v, i) => Math.abs(v - expected[i])));
    expect(err).toBeLessThan(1e-5);
  });

  it('merge and unmerge: merged logits agree with unmerged to float32 tolerance; unmerge restores W', () => {
    const model = keep(new TinyLm(3));
    const w0 = model.blocks[0].q_proj.dataSync().slice();
    const lora = keep(LoraModel.attach(model, { r: 2, lora_alpha: 16 }));
    randomise(lora, 11);
    const unmerged = logitsOf(model);
    lora.merge();
    expect(lora.merged).toBe(true);
    expect(() => lora.trainableVariables()).toThrow(ConfigError);
    const merged = logitsOf(model);
    expect(Math.max(...merged.map((v, i) => Math.abs(v - unmerged[i])))).toBeLessThan(1e-5);
    lora.unmerge();
    const w1 = model.blocks[0].q_proj.dataSync();
    expect(Math.max(...w1.map((v, i) => Math.abs(v - w0[i])))).toBeLessThan(1e-6);
    expect(Math.max(...logitsOf(model).map((v, i) => Math.abs(v - unmerged[i])))).toBeLessThan(1e-5);
  });

  it('freezes the base while attached, restores it on dispose, and the model is its base again', () => {
    const model = keep(new TinyLm(4));
    const base = logitsOf(model);
    const lora = LoraModel.attach(model, { r: 2 });
    randomise(lora, 5);
    expect(model.trainableVariables()).toEqual([]);
    expect(lora.trainableVariables()).toHaveLength(12);
    lora.dispose();
    expect(model.trainableVariables().length).toBe(model.namedParameters().size);
    expect(logitsOf(model)).toEqual(base);
  });

  it('a training step changes only adapter variables, and the tensor count stays flat', () => {
    const model = keep(new TinyLm(5));
    const lora = keep(LoraModel.attach(model, { r: 4, lora_alpha: 8, lora_dropout: 0.1 }));
    const opt = keep(tf.train.adam(1e-2));
    const before = new Map([...model.namedParameters()].map(([k, v]) => [k, v.dataSync().slice()]));
    const adaptersBefore = lora.trainableVariables().map((v) => v.dataSync().slice());
    const targets = tf.tensor2d([[5, 9, 3, 1], [2, 7, 15, 0]], [2, 4], 'int32');
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
        const logits = model.forward(ids); // [2, 4, 16]
        return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, 16), logits) as tf.Scalar;
      }), lora.trainableVariables());
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      step();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    for (const [k, v] of model.namedParameters()) expect(v.dataSync(), k).toEqual(before.get(k));
    const after = lora.trainableVariables().map((v) => v.dataSync());
    // B moves off zero, and so does A (its gradient is non-zero once B is).
    after.forEach((a, i) => expect(a, `adapter ${i}`).not.toEqual(adaptersBefore[i]));
    targets.dispose();
  });

  it('reports adapted modules whose projection never ran through linear', () => {
    const model = keep(new TinyLm(10));
    const lora = keep(LoraModel.attach(model, { r: 2, target_modules: ['q_proj', 'embed_tokens'] }));
    expect(lora.unusedModules()).toHaveLength(3); // nothing has run yet
    logitsOf(model);
    expect(lora.unusedModules()).toEqual(['model.embed_tokens']); // a gather, not a linear layer
  });

  it('dropout masks replay from a saved stream position', () => {
    const model = keep(new TinyLm(6));
    const lora = keep(LoraModel.attach(model, { r: 2, lora_dropout: 0.5 }));
    randomise(lora, 9);
    const state = lora.getRngState();
    const a = logitsOf(model);
    const b = logitsOf(model);
    expect(a).not.toEqual(b); // a new mask each pass
    lora.setRngState(state);
    expect(logitsOf(model)).toEqual(a);
    expect(lora.evalMode(() => logitsOf(model))).toEqual(lora.evalMode(() => logitsOf(model)));
  });
});

describe('PEFT adapter files', () => {
  it('save → load round-trips bit-identically, with PEFT names and config', () => {
    const dir = tmp();
    const model = keep(new TinyLm(7));
    const lora = keep(LoraModel.attach(model, { r: 4, lora_alpha: 32, lora_dropout: 0.05, target_modules: 'all-linear', base_model_name_or_path: 'tiny' }));
    randomise(lora, 13);
    const logits = lora.evalMode(() => logitsOf(model));
    saveAdapter(lora, dir);
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 32, lora_dropout: 0.05, bias: 'none', fan_in_fan_out: false, use_rslora: false, base_model_name_or_path: 'tiny' });
    expect(config.target_modules).toEqual(['down_proj', 'q_proj', 'up_proj']);
    const file = readSafetensors(join(dir, 'adapter_model.safetensors'));
    expect(file.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')).toBeUndefined(); // toy has no self_attn level
    expect(file.tensors.get('base_model.model.model.layers.1.q_proj.lora_A.weight')?.shape).toEqual([4, 8]);
    expect(file.tensors.get('base_model.model.model.layers.1.up_proj.lora_B.weight')?.shape).toEqual([12, 4]);
    expect(file.metadata.format).toBe('pt');

    const model2 = keep(new TinyLm(7));
    const lora2 = keep(loadAdapter(model2, dir));
    expect(lora2.config).toEqual({ ...lora.config, target_modules: ['down_proj', 'q_proj', 'up_proj'] });
    expect(lora2.layers.map((l) => l.module)).toEqual(lora.layers.map((l) => l.module));
    const a = lora.trainableVariables(), b = lora2.trainableVariables();
    a.forEach((v, i) => expect(Buffer.from(b[i].dataSync().buffer)).toEqual(Buffer.from(v.dataSync().buffer)));
    expect(lora2.evalMode(() => logitsOf(model2))).toEqual(logits);
    const dir2 = tmp();
    saveAdapter(lora2, dir2);
    expect(readFileSync(join(dir2, 'adapter_model.safetensors'))).toEqual(readFileSync(join(dir, 'adapter_model.safetensors')));
  });

  it('bad adapter directories give typed errors naming the file and tensor, and leave the model untouched', () => {
    const dir = tmp();
    const model = keep(new TinyLm(8));
    expect(() => loadAdapter(model, dir)).toThrow(/adapter_config.json is missing/);
    const lora = LoraModel.attach(model, { r: 2, target_modules: ['q_proj'] });
    saveAdapter(lora, dir);
    lora.dispose();

    const other = tmp();
    writeFileSync(join(other, 'adapter_config.json'), readFileSync(join(dir, 'adapter_config.json')));
    expect(() => loadAdapter(model, other)).toThrow(/adapter_model.safetensors is missing/);

    const name = 'base_model.model.model.layers.0.q_proj.lora_B.weight';
    const tensors = Object.fromEntries([...readSafetensors(join(dir, 'adapter_model.safetensors')).tensors].map(([k, t]) => [k, k === name ? { dtype: 'F32' as const, shape: [8, 3], data: new Float32Array(24) } : t]));
    writeSafetensors(join(other, 'adapter_model.safetensors'), tensors);
    const err = (() => { try { loadAdapter(model, other); } catch (e) { return e as Error; } })();
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err?.message).toContain(`"${name}" has shape [8,3], expected [8,2]`);
    expect(model.trainableVariables().length).toBe(model.namedParameters().size); // unfrozen after the failure

    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(other, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: ['k_proj'] }));
    expect(() => loadAdapter(model, other)).toThrow(/"k_proj" not found in the model/);
    writeFileSync(join(other, 'adapter_config.json'), JSON.stringify({ ...cfg, use_dora: true }));
    expect(() => loadAdapter(model, other)).toThrow(ConfigError);
    writeFileSync(join(other, 'adapter_config.json'), '{ not json');
    expect(() => loadAdapter(model, other)).toThrow(CheckpointError);
  });
});

describe('config', () => {
  it('validates fields and fills PEFT defaults', () => {
    const c = parseLoraConfig({ r: 8 });
    expect(c).toMatchObject({ lora_alpha: 8, lora_dropout: 0, target_modules: 'all-linear', use_rslora: false });
    expect(loraScale({ r: 16, lora_alpha: 32, use_rslora: false })).toBe(2);
    expect(() => parseLoraConfig({ r: 0 })).toThrow(/r is invalid/);
    expect(() => parseLoraConfig({ r: 4, lora_dropout: 1 })).toThrow(/lora_dropout/);
    expect(() => parseLoraConfig({ r: 4, rank: 3 } as never)).toThrow(/unknown key "rank" \(did you mean "r"\?\)/);
  });

  it('picks lm_head only when named, and regex targets match whole module names', () => {
    const model = keep(new TinyLm(9));
    const head = keep(LoraModel.attach(model, { r: 2, target_modules: ['lm_head'] }));
    expect(head.layers.map((l) => l.module)).toEqual(['lm_head']);
    head.dispose();
    const re = keep(LoraModel.attach(model, { r: 2, target_modules: 'model\\.layers\\.1\\..*_proj', exclude_modules: ['down_proj'] }));
    expect(re.layers.map((l) => l.module)).toEqual(['model.layers.1.q_proj', 'model.layers.1.up_proj']);
  });
});
