import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, initBackend, serializeSafetensors } from '@r1-ts/tensor-kernels';
import { CharTokenizer } from './tokenizer';
import { DeepSeekModel } from './model';
import { parseConfig, presets } from './config';
import { SftTrainer } from './train';
import { generate } from './generate';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { encodeExample } from './batch';

const data = [
  { prompt: '12+34?', completion: '<think>2+4=6,1+3=4</think><answer>46</answer>' },
  { prompt: '25+17?', completion: '<think>5+7=12,2+1+1=4</think><answer>42</answer>' },
  { prompt: '60+31?', completion: '<think>0+1=1,6+3=9</think><answer>91</answer>' },
  { prompt: '48+45?', completion: '<think>8+5=13,4+4+1=9</think><answer>93</answer>' },
];
const tok = CharTokenizer.fromCorpus(data.flatMap((d) => [d.prompt, d.completion]));
// A smaller tiny: same architecture (MLA + MoE + MTP), fewer layers so the test is quick.
const config = { ...presets.tiny, vocab_size: tok.vocabSize, num_hidden_layers: 2 };

let model: DeepSeekModel;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  model = new DeepSeekModel(config, { seed: 1 });
});

describe('DeepSeekModel training and generation', () => {
  it('memorises a small corpus with a flat tensor count', () => {
    const trainer = new SftTrainer(model, tok, { lr: 3e-3, batchSize: 4, weightDecay: 0 });
    const first = trainer.step(data);
    const tensorsAfterFirst = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 119; i++) last = trainer.step(data);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(first.ce).toBeGreaterThan(2);
    expect(last.ce).toBeLessThan(0.05);
    expect(last.skipped).toBe(false);
    expect(last.expertLoad.map((l) => l.layer)).toEqual([1, 2]); // layer 1 and the MTP module
  });

  it('greedy generation with the latent cache equals generation without it', () => {
    const prompts = data.slice(0, 3).map((d) => encodeExample(tok, d).ids.slice(0, encodeExample(tok, d).promptLength));
    prompts[1] = prompts[1].slice(2); // different lengths: left padding is exercised
    const cached = generate(model, tok, prompts, { maxNewTokens: 20, temperature: 0 });
    const uncached = generate(model, tok, prompts, { maxNewTokens: 20, temperature: 0, useCache: false });
    expect(cached.map((r) => r.tokens)).toEqual(uncached.map((r) => r.tokens));
    cached[0].logProbs.forEach((lp, i) => expect(lp).toBeCloseTo(uncached[0].logProbs[i], 3));
    // The memorised completion comes back for an unpadded prompt.
    expect(cached[0].text).toBe(data[0].completion);
    expect(cached[0].finishReason).toBe('stop');
  });

  it('keeps the tensor count flat across 100 generated tokens and honours stop strings', () => {
    const prompt = [encodeExample(tok, data[0]).ids.slice(0, 5)];
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const [res] = generate(model, tok, prompt, {
      maxNewTokens: 100, temperature: 1, seed: 3, stopIds: [], onToken: () => void counts.push(tf.memory().numTensors),
    });
    expect(res.tokens).toHaveLength(100);
    expect(res.truncated).toBe(true);
    expect(counts[99]).toBe(counts[1]);
    expect(tf.memory().numTensors).toBe(before);
    const [cut] = generate(model, tok, [encodeExample(tok, data[0]).ids.slice(0, encodeExample(tok, data[0]).promptLength)], {
      maxNewTokens: 40, temperature: 0, stopStrings: ['</think>'],
    });
    expect(cut.text).toBe('<think>2+4=6,1+3=4');
  });

  it('is seeded: the same seed samples the same completions', () => {
    const prompt = [encodeExample(tok, data[1]).ids.slice(0, 6)];
    const a = generate(model, tok, prompt, { maxNewTokens: 15, temperature: 1, seed: 7 });
    const b = generate(model, tok, prompt, { maxNewTokens: 15, temperature: 1, seed: 7 });
    expect(a[0].tokens).toEqual(b[0].tokens);
  });
});

describe('checkpoints', () => {
  it('save → load gives identical logits and tokenizer', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'step-1');
    saveCheckpoint(dir, model, tok);
    const { model: loaded, tokenizer } = loadCheckpoint(dir);
    const tokens = tf.tensor2d([tok.encode('12+34?<think>2')], undefined, 'int32');
    const a = tf.tidy(() => model.forward(tokens).logits.dataSync());
    const b = tf.tidy(() => loaded.forward(tokens).logits.dataSync());
    expect([...b]).toEqual([...a]);
    expect(tokenizer!.encode('12+34?')).toEqual(tok.encode('12+34?'));
    loaded.dispose();
    tokens.dispose();
  });

  it('reports every tensor that disagrees with the config at once', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'bad');
    saveCheckpoint(dir, model, tok);
    const tensors = Object.fromEntries(model.namedParameters()) as Record<string, tf.Tensor>;
    const bad: Record<string, tf.Tensor> = { ...tensors, 'model.norm.weight': tf.ones([3]), 'model.layers.9.extra.weight': tf.ones([1]) };
    delete bad['lm_head.weight'];
    writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(bad));
    let err: unknown;
    try {
      loadCheckpoint(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/missing tensor "lm_head.weight"/);
    expect(msg).toMatch(/"model.norm.weight" has shape \[3\], expected \[64\]/);
    expect(msg).toMatch(/unexpected tensor "model.layers.9.extra.weight"/);
  });

  it('rejects a config with unknown, missing and impossible fields, listing each', () => {
    const { vocab_size, ...missing } = presets.tiny;
    expect(vocab_size).toBe(64);
    let err: unknown;
    try {
      parseConfig({ ...missing, hidden_size: 'wide', topk_group: 9, colour: 'blue' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/config.vocab_size/);
    expect(msg).toMatch(/config.hidden_size/);
    expect(msg).toMatch(/unknown field\(s\) "colour"/);
    const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'cfg');
    saveCheckpoint(dir, model, tok);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_group: 3 }));
    expect(() => loadCheckpoint(dir)).toThrow(/config.n_group: must divide n_routed_experts \(8\), got 3/);
  });
});
