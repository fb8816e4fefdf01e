// `r1 generate` through the real CLI (source entry) on tiny checkpoints written here.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { CharTokenizer, DenseModel, loadPretrained, savePretrained } from '@r1-ts/model';
import type { CausalLM } from '@r1-ts/model';
import { LoraModel, saveAdapter } from '@r1-ts/lora';
import { samplingDefaults } from './generate';
import { runR1 } from './testing/cli';


const r1 = runR1;

/** Greedy continuation by re-running the whole sequence (no cache, no generate()). */
function greedy(model: CausalLM, prompt: number[], n: number, eos: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([seq], undefined, 'int32'));
      return tf.argMax(tf.reshape(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, -1]), [-1])).dataSync()[0];
    });
    out.push(id);
    seq.push(id);
    if (id === eos) break;
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'r1-generate-'));
const ckpt = join(dir, 'tiny-qwen3');
let tok: CharTokenizer;

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const chat = CharTokenizer.fromCorpus(['x']).applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'abc' }], { addGenerationPrompt: true });
  tok = CharTokenizer.fromCorpus([chat, 'abcdefghij 0123456789']);
  const model = new DenseModel({ model_type: 'qwen3', vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, max_position_embeddings: 256, rms_norm_eps: 1e-6, eos_token_id: tok.special.eos }, { seed: 11 });
  savePretrained(ckpt, model, { dtype: 'bf16', maxShardSize: 20_000, tokenizer: tok, generationConfig: { eos_token_id: tok.special.eos, max_new_tokens: 6 } });
  model.dispose();
});

describe('r1 generate', () => {
  it('greedy by default: --prompt-ids, --prompt and --chat print what the uncached forward picks', async () => {
    const { model } = loadPretrained(ckpt);
    const ids = tok.encode('abc 12');
    const chatPrompt = tok.encode(tok.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'abc' }], { addGenerationPrompt: true }));
    const [a, b, c, d] = await Promise.all([
      r1(['generate', '--model', ckpt, '--prompt-ids', ids.join(','), '--json', '--backend', 'cpu']),
      r1(['generate', '--model', ckpt, '--prompt', 'abc 12', '--json', '--max-tokens', '9', '--backend', 'cpu']),
      r1(['generate', '--model', ckpt, '--prompt', 'abc', '--chat', '--system', 'Be brief.', '--json', '--backend', 'cpu']),
      r1(['generate', '--model', ckpt, '--prompt', 'abc 12', '--backend', 'cpu']),
    ]);
    for (const r of [a, b, c, d]) expect(r.status, r.stderr).toBe(0);
    const ja = JSON.parse(a.stdout);
    expect(ja.prompt_ids).toEqual(ids);
    expect(ja.token_ids).toEqual(greedy(model, ids, 6, tok.special.eos)); // max_new_tokens 6 from generation_config.json
    expect(ja.text).toBe(tok.decode(ja.token_ids, { skipSpecial: true }));
    expect(JSON.parse(b.stdout).token_ids).toEqual(greedy(model, ids, 9, tok.special.eos));
    const jc = JSON.parse(c.stdout);
    expect(jc.prompt_ids).toEqual(chatPrompt);
    expect(jc.token_ids).toEqual(greedy(model, chatPrompt, 6, tok.special.eos));
    expect(d.stdout).toBe(`${ja.text}\n`);
    model.dispose();
  });

  it('--adapter applies a PEFT adapter: greedy output is the adapted model\'s, a bad adapter dir exits 2', async () => {
    const { model } = loadPretrained(ckpt);
    const base = greedy(model, tok.encode('abc 12'), 6, tok.special.eos);
    const lora = LoraModel.attach(model, { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 3 });
    // B = 0 at init: move it off zero so the adapter changes the model.
    for (const [name, v] of lora.namedAdapterParameters()) if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 2, 'float32', 7));
    const adapterDir = join(dir, 'adapter');
    saveAdapter(lora, adapterDir);
    const ids = tok.encode('abc 12');
    const adapted = greedy(model, ids, 6, tok.special.eos);
    const [r, missing] = await Promise.all([
      r1(['generate', '--model', ckpt, '--adapter', adapterDir, '--prompt-ids', ids.join(','), '--json', '--backend', 'cpu']),
      r1(['generate', '--model', ckpt, '--adapter', join(dir, 'no-such-adapter'), '--prompt-ids', ids.join(','), '--backend', 'cpu']),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).token_ids).toEqual(adapted);
    expect(adapted).not.toEqual(base); // the adapter matters, so the check above can fail
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--adapter .*no-such-adapter/);
    lora.dispose();
    model.dispose();
  });

  it('samples with a seed: the same seed repeats', async () => {
    const args = ['generate', '--model', ckpt, '--prompt', 'abc', '--json', '--temperature', '1.5', '--top-p', '0.9', '--max-tokens', '12', '--backend', 'cpu'];
    const [s1, s2] = await Promise.all([r1([...args, '--seed', '5']), r1([...args, '--seed', '5'])]);
    expect(s1.status, s1.stderr).toBe(0);
    expect(JSON.parse(s1.stdout)).toEqual(JSON.parse(s2.stdout));
  });

  it('bad input exits 2 with a message naming the problem', async () => {
    const bad = join(dir, 'mistral');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(bad);
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ model_type: 'mistral' }));
    const [both, unknown, outside] = await Promise.all([
      r1(['generate', '--model', ckpt, '--prompt', 'a', '--prompt-ids', '1']),
      r1(['generate', '--model', bad, '--prompt', 'a', '--backend', 'cpu']),
      r1(['generate', '--model', ckpt, '--prompt-ids', `1,${tok.vocabSize}`, '--backend', 'cpu']),
    ]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --prompt TEXT or --prompt-ids/);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/model_type "mistral" is not supported; supported model types: llama, qwen2, qwen3, deepseek_v2, deepseek_v3, deepseek_v32/);
    expect(outside.status).toBe(2);
    expect(outside.stderr).toMatch(new RegExp(`token id ${tok.vocabSize} is outside the model's vocabulary`));
  });
});

describe('sampling defaults', () => {
  it('flags win over generation_config.json, which applies only with do_sample', () => {
    const gen = { do_sample: true, temperature: 0.6, top_p: 0.95, max_new_tokens: 100 };
    expect(samplingDefaults({}, gen)).toEqual({ temperature: 0.6, topP: 0.95, maxTokens: 100 });
    expect(samplingDefaults({ temperature: '0.2', maxTokens: '5' }, gen)).toEqual({ temperature: 0.2, topP: 0.95, maxTokens: 5 });
    expect(samplingDefaults({}, { temperature: 0.6, top_p: 0.95 })).toEqual({ temperature: 0, topP: 1, maxTokens: 128 });
    expect(samplingDefaults({}, null)).toEqual({ temperature: 0, topP: 1, maxTokens: 128 });
    expect(() => samplingDefaults({ temperature: 'hot' }, null)).toThrow(/--temperature must be a number, got "hot"/);
  });
});
