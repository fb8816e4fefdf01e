// Every option bag of @r1-ts/model rejects a key it does not define, naming it and the key meant.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AdamW, CharTokenizer, DeepSeekModel, DeepSeekPolicy, DenseModel, generate, loadPretrained, lrSchedule, parseConfig,
  presets, saveCheckpoint, savePretrained, verifyCheckpoint,
} from './index';

const dir = mkdtempSync(join(tmpdir(), 'r1-option-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tok = CharTokenizer.fromCorpus(['ab']);
const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
const denseConfig = { model_type: 'qwen3', vocab_size: 8, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1,
  num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, max_position_embeddings: 16, rms_norm_eps: 1e-6 };

function thrown(f: () => unknown): ConfigError {
  try { f(); } catch (e) { return e as ConfigError; }
  throw new Error('no error thrown');
}

// [call site, call with a bad key, the bad key, the key the message must suggest]
const cases: [string, () => unknown, string, string][] = [
  ['DeepSeekModel', () => new DeepSeekModel({ ...presets.tiny }, { sead: 1 } as never), 'sead', 'seed'],
  ['DenseModel', () => new DenseModel(denseConfig, { inti: 'empty' } as never), 'inti', 'init'],
  ['generate', () => generate(model, tok, [tok.encode('a')], { maxNewTokens: 2, temprature: 0 } as never), 'temprature', 'temperature'],
  ['generate', () => generate(model, tok, [tok.encode('a')], { max_new_tokens: 2 } as never), 'max_new_tokens', 'maxNewTokens'],
  ['AdamW', () => new AdamW(new Map(), { lr: 1, weight_decay: 0 } as never), 'weight_decay', 'weightDecay'],
  ['lrSchedule', () => lrSchedule({ peak: 1, warmupSteps: 3 } as never), 'warmupSteps', 'warmup'],
  ['saveCheckpoint', () => saveCheckpoint(join(dir, 'ckpt'), model, tok, { metadata: {} } as never), 'metadata', 'meta'],
  ['verifyCheckpoint', () => verifyCheckpoint(join(dir, 'ckpt'), { requireManifests: true } as never), 'requireManifests', 'requireManifest'],
  ['loadPretrained', () => loadPretrained(join(dir, 'none'), { maxbytes: 1 } as never), 'maxbytes', 'maxBytes'],
  ['savePretrained', () => savePretrained(join(dir, 'hf'), model, { maxShardsize: 1 } as never), 'maxShardsize', 'maxShardSize'],
  ['DeepSeekPolicy', () => new DeepSeekPolicy(model, tok, { chat_template: false } as never), 'chat_template', 'chatTemplate'],
];

describe('unknown option keys', () => {
  it.each(cases)('%s: a ConfigError names the key and the one meant', (where, call, bad, meant) => {
    const before = tf.memory().numTensors;
    const e = thrown(call);
    expect(e, where).toBeInstanceOf(ConfigError);
    expect(e.fields).toEqual([bad]);
    expect(e.message).toContain(`unknown key "${bad}" (did you mean "${meant}"?)`);
    expect(tf.memory().numTensors, 'rejected before anything is allocated').toBe(before);
  });

  it('writes nothing when saveCheckpoint rejects its options', async () => {
    const { existsSync, readdirSync } = await import('node:fs');
    thrown(() => saveCheckpoint(join(dir, 'c2'), model, tok, { metadata: {} } as never));
    expect(existsSync(join(dir, 'c2'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('c2'))).toEqual([]);
  });

  it('model configs (config.json mirrors) keep accepting keys this library does not read', () => {
    expect(() => parseConfig({ ...presets.tiny, torch_dtype: 'bfloat16', transformers_version: '4.46.0' })).not.toThrow();
    expect(() => new DenseModel({ ...denseConfig, architectures: ['Qwen3ForCausalLM'], use_cache: true }, { init: 'empty' }).dispose()).not.toThrow();
  });
});
