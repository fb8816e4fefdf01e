import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readSafetensors, Rng, writeSafetensors } from '@r1-ts/tensor-kernels';
import { DenseModel } from '../dense/model';
import { DeepSeekModel } from '../model';
import { parseConfig, presets } from '../config';
import type { CausalLM } from '../causal_lm';
import { loadPretrained } from './load';
import { savePretrained } from './save';
import { deepSeekTensorShapes } from './deepseek_shapes';

const root = mkdtempSync(join(tmpdir(), 'r1-pretrained-'));
let n = 0;
const fresh = () => join(root, `ckpt-${n++}`);

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dense = {
  llama: { model_type: 'llama', vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-5, rope_theta: 5e5, attention_bias: true,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 }, bos_token_id: 1, eos_token_id: 2 },
  qwen2: { model_type: 'qwen2', vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-6, rope_theta: 1e6, tie_word_embeddings: true, eos_token_id: 3 },
  qwen3: { model_type: 'qwen3', vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, head_dim: 12, max_position_embeddings: 128, rms_norm_eps: 1e-6, rope_theta: 1e6,
    rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32 } },
};

/** Random weights everywhere (norms and biases too), so a swapped or dropped tensor shows. */
function randomize(model: CausalLM, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, v] of model.namedParameters()) {
    const vals = rng.normalArray(v.size, 0.1);
    if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) vals.forEach((x, i) => (vals[i] = 1 + x));
    v.assign(tf.tensor(vals, v.shape));
  }
}

const params = (m: CausalLM) => new Map([...m.namedParameters()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
const logitsOf = (m: CausalLM) => tf.tidy(() => Float32Array.from(m.forward(tf.tensor2d([[1, 5, 9, 3]], [1, 4], 'int32')).logits.dataSync()));

/** bf16 by truncating to the nearest even 16-bit pattern, written independently of safetensors.ts. */
function toBf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  const lsb = (u[0] >>> 16) & 1;
  u[0] = ((u[0] + 0x7fff + lsb) >>> 16) << 16;
  return f[0];
}

/** Writes a safetensors file from raw little-endian bytes per tensor. */
function writeRaw(path: string, tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>): void {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const h = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, ...Object.values(tensors).map((t) => Buffer.from(t.bytes))]));
}

const f32bytes = (a: Float32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

describe('savePretrained → loadPretrained', () => {
  it.each(Object.entries(dense))('%s: f32 single file round-trips bit-identically', (type, config) => {
    const model = new DenseModel(config, { seed: 1 });
    randomize(model, 2);
    const dir = fresh();
    const files = savePretrained(dir, model, { dtype: 'f32' });
    expect(files).toContain('model.safetensors');
    expect(files).not.toContain('model.safetensors.index.json');
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.model_type).toBe(type);
    expect(cfg.architectures[0]).toMatch(/ForCausalLM$/);
    expect(cfg.torch_dtype).toBe('float32');
    const loaded = loadPretrained(dir);
    expect(loaded.modelType).toBe(type);
    expect(params(loaded.model)).toEqual(params(model));
    expect(logitsOf(loaded.model)).toEqual(logitsOf(model));
    if (type === 'qwen2') expect(loaded.model.namedParameters().has('lm_head.weight')).toBe(false);
    loaded.model.dispose();
    model.dispose();
  });

  it('bf16 shards with an index: values are the bf16 roundings, and a re-save writes identical bytes', () => {
    const model = new DenseModel(dense.llama, { seed: 1 });
    randomize(model, 3);
    const dir = fresh();
    savePretrained(dir, model, { dtype: 'bf16', maxShardSize: 6000, generationConfig: { eos_token_id: 2, temperature: 0.6, top_p: 0.95 } });
    const shards = readdirSync(dir).filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(2);
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map).sort()).toEqual([...model.namedParameters().keys()].sort());
    expect(JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')).top_p).toBe(0.95);
    const loaded = loadPretrained(dir);
    expect(loaded.dtypes).toEqual({ BF16: model.namedParameters().size });
    const want = params(model);
    for (const [k, v] of params(loaded.model)) expect(Array.from(v)).toEqual(Array.from(want.get(k)!, toBf16));
    const again = fresh();
    savePretrained(again, loaded.model, { dtype: 'bf16', maxShardSize: 6000, generationConfig: loaded.generationConfig! });
    for (const f of readdirSync(dir)) expect(readFileSync(join(again, f)).equals(readFileSync(join(dir, f))), f).toBe(true);
    loaded.model.dispose();
    model.dispose();
  });

  it('reads F16 weights (and an old checkpoint\'s rotary_emb.inv_freq buffers, skipped by rule)', () => {
    const model = new DenseModel(dense.qwen3, { seed: 1 });
    randomize(model, 9);
    const dir = fresh();
    savePretrained(dir, model, { dtype: 'f32' });
    const tensors: Record<string, tf.Tensor> = Object.fromEntries(model.namedParameters());
    tensors['model.layers.0.self_attn.rotary_emb.inv_freq'] = tf.ones([6]);
    writeSafetensors(join(dir, 'model.safetensors'), tensors, {}, { floatDtype: 'F16' });
    const loaded = loadPretrained(dir);
    expect(loaded.dtypes).toEqual({ F16: model.namedParameters().size });
    expect(loaded.skipped.map((s) => s.reason)).toEqual(['RoPE buffer, recomputed from the config']);
    const want = params(model);
    for (const [k, v] of params(loaded.model)) {
      // Half precision keeps 11 significant bits: relative error ≤ 2^-11 (these values are normal halves).
      v.forEach((x, i) => expect(Math.abs(x - want.get(k)![i])).toBeLessThanOrEqual(Math.abs(want.get(k)![i]) * 2 ** -11 + 1e-7));
    }
    loaded.model.dispose();
    model.dispose();
  });

  it('deepseek_v3 with MTP round-trips; the MTP embed_tokens copy is skipped by rule; rope_type is accepted', () => {
    const config = { ...presets.tiny, num_hidden_layers: 2, model_type: 'deepseek_v3' };
    const model = new DeepSeekModel(config, { seed: 4 });
    const dir = fresh();
    savePretrained(dir, model, { dtype: 'f32' });
    // Add what published V3 checkpoints carry in the MTP layer: its own embed_tokens copy.
    const file = join(dir, 'model.safetensors');
    const stored = readSafetensors(file).tensors;
    const raw: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }> = {};
    for (const [k, t] of stored) raw[k] = { dtype: 'F32', shape: t.shape, bytes: f32bytes(t.data as Float32Array) };
    raw['model.layers.2.embed_tokens.weight'] = raw['model.embed_tokens.weight'];
    writeRaw(file, raw);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.rope_scaling.rope_type).toBe('yarn');
    const loaded = loadPretrained(dir);
    expect(loaded.skipped).toEqual([{ name: 'model.layers.2.embed_tokens.weight', reason: "MTP layer's copy of model.embed_tokens.weight" }]);
    expect(params(loaded.model)).toEqual(params(model));
    expect(logitsOf(loaded.model)).toEqual(logitsOf(model));
    loaded.model.dispose();
    model.dispose();
  });

  it('deepseek_v2 (V2-Lite routing, no MTP fields) and deepseek_v32 (DSA) load', () => {
    const v2 = { ...presets.tiny, model_type: 'deepseek_v2', num_hidden_layers: 2, q_lora_rank: null, n_group: 1, topk_group: 1,
      topk_method: 'greedy', scoring_func: 'softmax', norm_topk_prob: false, routed_scaling_factor: 1,
      rope_scaling: { ...presets.tiny.rope_scaling, mscale: 0.707, mscale_all_dim: 0.707 } } as Record<string, unknown>;
    delete v2.num_nextn_predict_layers;
    delete v2.index_n_heads;
    delete v2.index_head_dim;
    delete v2.index_topk;
    const v32 = { ...presets.tiny, model_type: 'deepseek_v32', num_hidden_layers: 2, index_n_heads: 2, index_head_dim: 16, index_topk: 4 };
    for (const config of [v2, v32]) {
      const dir = fresh();
      const parsed = parseConfig({ ...config, num_nextn_predict_layers: config.num_nextn_predict_layers ?? 0 });
      const model = new DeepSeekModel(parsed, { seed: 5 });
      savePretrained(dir, model, { dtype: 'f32' });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config)); // the published form, exactly
      const loaded = loadPretrained(dir);
      expect(loaded.modelType).toBe(config.model_type);
      expect(params(loaded.model)).toEqual(params(model));
      loaded.model.dispose();
      model.dispose();
    }
  });

  it('deepSeekTensorShapes lists exactly the parameters DeepSeekModel declares', () => {
    for (const c of [presets.tiny, presets.small, { ...presets.tiny, q_lora_rank: null, topk_method: 'greedy', num_nextn_predict_layers: 0 }]) {
      const config = parseConfig(c);
      const model = new DeepSeekModel(config, { seed: 0 });
      expect(deepSeekTensorShapes(config)).toEqual(new Map([...model.namedParameters()].map(([k, v]) => [k, v.shape])));
      model.dispose();
    }
  });
});

describe('FP8 (F8_E4M3 with 128×128 weight_scale_inv blocks)', () => {
  // e4m3fn decoded from its definition: sign, 4 exponent bits (bias 7), 3 mantissa bits.
  const e4m3 = (b: number) => {
    const s = b & 0x80 ? -1 : 1;
    const e = (b >> 3) & 15;
    const m = b & 7;
    return e === 0 ? (s * m) / 8 / 64 : s * (1 + m / 8) * Math.pow(2, e - 7);
  };
  const config = { model_type: 'llama', vocab_size: 40, hidden_size: 136, intermediate_size: 260, num_hidden_layers: 1, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5, quantization_config: { quant_method: 'fp8', weight_block_size: [128, 128] } };

  /** A checkpoint whose projections are FP8 with block scales; returns the dequantised values expected. */
  function writeFp8(dir: string, scaleShape?: (s: number[]) => number[]): Map<string, Float32Array> {
    const model = new DenseModel(config, { seed: 6 });
    randomize(model, 7);
    savePretrained(dir, model, { dtype: 'f32' });
    const expected = params(model);
    const rng = new Rng(8);
    const raw: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }> = {};
    for (const [k, v] of model.namedParameters()) {
      if (!/proj\.weight$/.test(k)) {
        raw[k] = { dtype: 'F32', shape: v.shape, bytes: f32bytes(expected.get(k)!) };
        continue;
      }
      const [rows, cols] = v.shape;
      const bytes = new Uint8Array(rows * cols).map(() => {
        const b = rng.int(0, 256);
        return (b & 0x7f) === 0x7f ? 0 : b; // no NaN codes
      });
      const sShape = [Math.ceil(rows / 128), Math.ceil(cols / 128)];
      const scales = Float32Array.from({ length: sShape[0] * sShape[1] }, (_, i) => 0.001 * (i + 1));
      const want = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[i * cols + j] = e4m3(bytes[i * cols + j]) * scales[Math.floor(i / 128) * sShape[1] + Math.floor(j / 128)];
      expected.set(k, want);
      raw[k] = { dtype: 'F8_E4M3', shape: v.shape, bytes };
      const ss = scaleShape ? scaleShape(sShape) : sShape;
      raw[`${k}_scale_inv`] = { dtype: 'F32', shape: ss, bytes: f32bytes(ss.length === sShape.length && ss.every((d, i) => d === sShape[i]) ? scales : new Float32Array(ss.reduce((a, b) => a * b, 1))) };
    }
    writeRaw(join(dir, 'model.safetensors'), raw);
    model.dispose();
    return expected;
  }

  it('dequantises on load, partial edge blocks included', () => {
    const dir = fresh();
    const expected = writeFp8(dir);
    const loaded = loadPretrained(dir);
    expect(loaded.dtypes.F8_E4M3).toBe(7);
    for (const [k, v] of params(loaded.model)) expect(v, k).toEqual(Float32Array.from(expected.get(k)!));
    loaded.model.dispose();
  });

  it('a scale tensor of the wrong shape names the file, the tensor and the expected shape', () => {
    const dir = fresh();
    writeFp8(dir, ([a, b]) => [a, b + 1]);
    expect(() => loadPretrained(dir)).toThrow(/model\.safetensors: tensor "model\.layers\.0\.self_attn\.q_proj\.weight_scale_inv" has shape \[2,3\] \(F32\), expected \[2,2\]/);
  });
});

describe('loadPretrained errors', () => {
  const saved = () => {
    const dir = fresh();
    const model = new DenseModel(dense.qwen2, { seed: 1 });
    savePretrained(dir, model, { dtype: 'bf16', maxShardSize: 8000 });
    model.dispose();
    return dir;
  };

  it('an unknown model_type lists the supported types', () => {
    const dir = fresh();
    savePretrained(dir, new DenseModel(dense.qwen2), { dtype: 'f32' });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...dense.qwen2, model_type: 'mistral' }));
    expect(() => loadPretrained(dir)).toThrow(/model_type "mistral" is not supported; supported model types: llama, qwen2, qwen3, deepseek_v2, deepseek_v3, deepseek_v32/);
  });

  it('a corrupt shard names the file', () => {
    const dir = saved();
    const shard = readdirSync(dir).find((f) => f.endsWith('-of-00003.safetensors') || /^model-00002/.test(f))!;
    const bytes = readFileSync(join(dir, shard));
    writeFileSync(join(dir, shard), bytes.subarray(0, 40)); // truncated inside its header
    expect(() => loadPretrained(dir)).toThrow(new RegExp(`${shard.replace(/\./g, '\\.')}: header length \\d+ runs past the end of the file`));
  });

  it('a tensor missing from the index names the tensor and the index', () => {
    const dir = saved();
    const path = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(path, 'utf8'));
    delete index.weight_map['model.layers.1.mlp.up_proj.weight'];
    writeFileSync(path, JSON.stringify(index));
    expect(() => loadPretrained(dir)).toThrow(/model\.safetensors\.index\.json: has no entry for tensor "model\.layers\.1\.mlp\.up_proj\.weight" of .*model-0000\d-of-0000\d\.safetensors/);
  });

  it('a shape that disagrees with config.json is reported with both shapes, before the model is built', () => {
    const dir = saved();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...dense.qwen2, intermediate_size: 50 }));
    const tensors = tf.memory().numTensors;
    expect(() => loadPretrained(dir)).toThrow(/tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[48,32\], expected \[50,32\] from config\.json/);
    expect(tf.memory().numTensors).toBe(tensors); // checked from the headers: no model was built
  });

  it("DeepSeek-V3's real 671B config fails fast with the memory it needs, allocating nothing", () => {
    const dir = fresh();
    mkdirSync(dir);
    const v3 = {
      architectures: ['DeepseekV3ForCausalLM'], model_type: 'deepseek_v3', vocab_size: 129280, hidden_size: 7168, intermediate_size: 18432,
      moe_intermediate_size: 2048, num_hidden_layers: 61, num_nextn_predict_layers: 1, num_attention_heads: 128, num_key_value_heads: 128,
      n_shared_experts: 1, n_routed_experts: 256, ep_size: 1, routed_scaling_factor: 2.5, kv_lora_rank: 512, q_lora_rank: 1536,
      qk_rope_head_dim: 64, v_head_dim: 128, qk_nope_head_dim: 128, topk_method: 'noaux_tc', n_group: 8, topk_group: 4,
      num_experts_per_tok: 8, moe_layer_freq: 1, first_k_dense_replace: 3, norm_topk_prob: true, scoring_func: 'sigmoid',
      hidden_act: 'silu', max_position_embeddings: 163840, initializer_range: 0.02, rms_norm_eps: 1e-6, use_cache: true,
      tie_word_embeddings: false, rope_theta: 10000, attention_bias: false, attention_dropout: 0, bos_token_id: 0, eos_token_id: 1,
      rope_scaling: { beta_fast: 32, beta_slow: 1, factor: 40, mscale: 1, mscale_all_dim: 1, original_max_position_embeddings: 4096, type: 'yarn' },
      quantization_config: { activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] },
      torch_dtype: 'bfloat16', transformers_version: '4.33.1',
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(v3));
    // V3's parameter count from its architecture (V3 §2; MTP §2.2 without its embed_tokens copy).
    const [V, D, H, C, Rq, dn, dr, dv, E, Im, I] = [129280, 7168, 128, 512, 1536, 128, 64, 128, 256, 2048, 18432];
    const attn = D * Rq + Rq + Rq * H * (dn + dr) + D * (C + dr) + C + C * H * (dn + dv) + H * dv * D + 2 * D;
    const moe = E * D + E + (E + 1) * 3 * D * Im;
    const count = 2 * V * D + D + 3 * (attn + 3 * D * I) + 58 * (attn + moe) + (attn + moe + 2 * D + 2 * D * D + D + V * D);
    const before = process.memoryUsage().rss;
    const tensors = tf.memory().numTensors;
    const gib = ((count * 4) / 2 ** 30).toFixed(1);
    expect(() => loadPretrained(dir)).toThrow(`the deepseek_v3 model has ${count.toLocaleString('en-US')} parameters and needs ${gib} GiB as float32, more than the`);
    expect(() => loadPretrained(dir, { maxBytes: 2 ** 40 })).toThrow(/GiB limit \(maxBytes\); nothing was allocated/);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
  });
});
