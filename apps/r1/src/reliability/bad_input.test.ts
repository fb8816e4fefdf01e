// Issue #11's bad-input corpus: every malformed config, dataset, checkpoint, tokenizer file and HTTP
// request gives a typed error whose message names the problem — never a crash, a hang or a partial
// file. Each `it` is one case; the error's class and message are both asserted.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CheckpointError, ConfigError, initBackend, readSafetensors, serializeSafetensors } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { CharTokenizer, DeepSeekModel, SPECIAL_TOKENS, loadCheckpoint, parseConfig, presets, saveCheckpoint, tokenizerFromJSON } from '@r1-ts/model';
import type { DeepSeekModel as Model, Tokenizer } from '@r1-ts/model';
import { resolveRecipeConfig } from '@r1-ts/pipeline';
import { DatasetError, TaskConfigError, arithmeticTask, loadJsonl, loadMathJsonl, writeJsonl } from '@r1-ts/tasks';
import { RewardConfigError, combineRewards, createCosineLengthReward, createRepetitionPenalty } from '@r1-ts/rewards';
import { startServer } from '../serve/server';
import type { RunningServer } from '../serve/server';

const dir = mkdtempSync(join(tmpdir(), 'r1-bad-input-'));
const good = join(dir, 'good-ckpt');
let tokenizer: Tokenizer;
let model: Model;
let srv: RunningServer;
let caseNo = 0;

/** The model config of the fixture checkpoint: presets.tiny shrunk. */
const small = (vocab: number) => ({
  ...presets.tiny, vocab_size: vocab, hidden_size: 32, num_hidden_layers: 2, q_lora_rank: 16, kv_lora_rank: 16,
  num_nextn_predict_layers: 0, max_position_embeddings: 64,
});

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  tokenizer = CharTokenizer.fromCorpus([Object.values(SPECIAL_TOKENS).join(''), 'What is 1+2? 0123456789']);
  const m = new DeepSeekModel(small(tokenizer.vocabSize), { seed: 0 });
  saveCheckpoint(good, m, tokenizer);
  m.dispose();
  model = loadCheckpoint(good).model;
  srv = await startServer({ model, tokenizer, port: 0, modelName: 'tiny', maxBatch: 2, maxBodyBytes: 64 << 10 });
});

afterAll(async () => {
  await srv?.drain();
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `f` and returns what it threw (fails the test when it returns). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, none came');
}

/** A fresh copy of the good checkpoint to corrupt. */
function copyCkpt(): string {
  const d = join(dir, `ckpt-${caseNo++}`);
  cpSync(good, d, { recursive: true });
  return d;
}

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('model config (parseConfig)', () => {
  const base = small(64);
  const cases: [string, Record<string, unknown>, RegExp, string][] = [
    ['wrong type', { hidden_size: '64' }, /config\.hidden_size: .*expected number/i, 'hidden_size'],
    ['non-integer size', { num_attention_heads: 2.5 }, /config\.num_attention_heads: .*int/i, 'num_attention_heads'],
    ['negative size', { kv_lora_rank: -3 }, /config\.kv_lora_rank: .*(>0|positive|greater)/i, 'kv_lora_rank'],
    ['infinite size', { vocab_size: Infinity }, /config\.vocab_size/, 'vocab_size'],
    ['unknown key', { colour: 'blue' }, /unknown field\(s\) "colour"/, 'colour'],
    ['odd rope dim', { qk_rope_head_dim: 7 }, /config\.qk_rope_head_dim: must be even, got 7/, 'qk_rope_head_dim'],
    ['n_group does not divide experts', { n_group: 3 }, /config\.n_group: must divide n_routed_experts \(8\), got 3/, 'n_group'],
    ['topk_group > n_group', { topk_group: 5 }, /config\.topk_group: must be <= n_group \(4\), got 5/, 'topk_group'],
    ['more experts per token than kept', { num_experts_per_tok: 5 }, /config\.num_experts_per_tok: must be <= the experts in the kept groups \(4\), got 5/, 'num_experts_per_tok'],
    ['more dense layers than layers', { first_k_dense_replace: 3 }, /config\.first_k_dense_replace: must be <= num_hidden_layers \(2\), got 3/, 'first_k_dense_replace'],
    ['half-set DSA fields', { index_topk: 8 }, /config\.index_topk: index_n_heads, index_head_dim and index_topk must be all set/, 'index_topk'],
    ['bad enum', { scoring_func: 'relu' }, /config\.scoring_func/, 'scoring_func'],
    ['yarn factor < 1', { rope_scaling: { ...presets.tiny.rope_scaling, factor: 0.5 } }, /config\.rope_scaling\.factor/, 'rope_scaling.factor'],
    ['unknown rope_scaling key', { rope_scaling: { ...presets.tiny.rope_scaling, kind: 'x' } }, /unknown field\(s\) "kind"/, 'kind'],
  ];
  for (const [name, patch, message, field] of cases) {
    it(name, () => {
      const e = thrown(() => parseConfig({ ...base, ...patch }));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(message);
      expect((e as ConfigError).fields).toContain(field);
    });
  }
  it('missing field', () => {
    const { hidden_size: _, ...rest } = base;
    const e = thrown(() => parseConfig(rest));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/config\.hidden_size: .*expected number, received undefined/i);
  });
  it('not an object', () => {
    for (const raw of [null, 'tiny', [1, 2], 42]) {
      const e = thrown(() => parseConfig(raw));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(/invalid model config.*\n\s+config: .*expected object/i);
    }
  });
  it('every problem at once', () => {
    const e = thrown(() => parseConfig({ ...base, hidden_size: 0, colour: 1, n_group: 3 }));
    expect(e.message).toMatch(/invalid model config \(3 problems\)/);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('recipe config (resolveRecipeConfig)', () => {
  const cases: [string, unknown, RegExp][] = [
    ['wrong type', { seed: 'one' }, /config\.seed: .*expected number/i],
    ['unknown top-level key', { colour: 'blue' }, /config: unknown key\(s\) "colour"/],
    ['unknown nested key', { coldStart: { stepz: 3 } }, /config\.coldStart: unknown key\(s\) "stepz"/],
    ['negative steps', { coldStart: { steps: -5 } }, /config\.coldStart\.steps: .*>=0/],
    ['one generation per group', { reasoningRl: { numGenerations: 1 } }, /config\.reasoningRl\.numGenerations: .*>=2/],
    ['top_p = 0', { eval: { topP: 0 } }, /config\.eval\.topP: .*>0/],
    ['bad run name', { name: '../escape' }, /config\.name: letters, digits, dot, dash or underscore/],
    ['unknown algo', { algo: 'ppo' }, /config\.algo: .*"grpo"\|"gspo"/],
    ['config file is not an object', ['seed', 3], /config: .*expected object/i],
    ['impossible teacher size', { teacher: { n_group: 3 } }, /config\.teacher\.n_group: must divide n_routed_experts \(4\), got 3/],
    ['impossible student size', { student: { first_k_dense_replace: 5 } }, /config\.student\.first_k_dense_replace: must be <= num_hidden_layers \(2\), got 5/],
  ];
  for (const [name, layer, message] of cases) {
    it(name, () => {
      const e = thrown(() => resolveRecipeConfig('quick', layer));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(message);
    });
  }

  it('`r1 run --config` with a file that is not JSON exits 2 and writes nothing', () => {
    const root = resolve(__dirname, '../../../..');
    const config = join(dir, 'broken.json');
    writeFileSync(config, '{"seed": 1,');
    const out = join(dir, 'cli-run');
    const res = spawnSync(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', join(root, 'apps/r1/src/bin.ts'), 'run', '--preset', 'quick', '--config', config, '--out', out], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`--config ${config}`);
    expect(res.stderr).toMatch(/JSON/);
    expect(existsSync(out)).toBe(false);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('task and reward options', () => {
  it('arithmetic digits = 0', () => {
    const e = thrown(() => arithmeticTask({ digits: 0 }));
    expect(e).toBeInstanceOf(TaskConfigError);
    expect(e.message).toMatch(/digits must be an integer in \[1, \d+\], got 0/);
  });
  it('combineRewards with no rewards', () => {
    const e = thrown(() => combineRewards([]));
    expect(e).toBeInstanceOf(RewardConfigError);
    expect(e.message).toMatch(/rewards must be a non-empty array of \{ fn, weight \}, got an array of length 0/);
  });
  it('cosine length reward with min > max', () => {
    const e = thrown(() => createCosineLengthReward({ minValueWrong: 1, maxValueWrong: 0 }));
    expect(e).toBeInstanceOf(RewardConfigError);
    expect(e.message).toMatch(/minValueWrong must be <= maxValueWrong \(0\), got 1/);
  });
  it('repetition penalty with a positive maximum', () => {
    const e = thrown(() => createRepetitionPenalty({ maxPenalty: 1 }));
    expect(e).toBeInstanceOf(RewardConfigError);
    expect(e.message).toMatch(/maxPenalty must be a finite number <= 0, got 1/);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('datasets (loadJsonl / loadMathJsonl)', () => {
  const schema = z.object({ prompt: z.string(), answer: z.string() });
  const file = (name: string, content: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const problemsOf = async (p: Promise<unknown>) => {
    const e = await rejected(p);
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  };

  it('a line that is not JSON', async () => {
    const e = await problemsOf(loadJsonl(file('bad-json.jsonl', '{"prompt":"a","answer":"b"}\n{"prompt": "a",\n'), schema));
    expect(e.problems).toEqual([expect.objectContaining({ line: 2, field: '(json)' })]);
    expect(e.message).toMatch(/bad-json\.jsonl: 1 problem\(s\)\n\s+line 2, \(json\): invalid JSON/);
  });
  it('a missing field', async () => {
    const e = await problemsOf(loadJsonl(file('missing.jsonl', '{"prompt":"a"}\n'), schema));
    expect(e.message).toMatch(/line 1, answer: .*expected string, received undefined/i);
  });
  it('a field of the wrong type', async () => {
    const e = await problemsOf(loadJsonl(file('wrongtype.jsonl', '{"prompt":"a","answer":4}\n'), schema));
    expect(e.message).toMatch(/line 1, answer: .*expected string, received number/i);
  });
  it('a line that is a JSON array', async () => {
    const e = await problemsOf(loadJsonl(file('array.jsonl', '["a","b"]\n'), schema));
    expect(e.message).toMatch(/line 1, \(root\): .*expected object/i);
  });
  it('an empty file', async () => {
    const e = await problemsOf(loadJsonl(file('empty.jsonl', ''), schema));
    expect(e.message).toMatch(/line 0, \(file\): empty file: no JSON lines/);
  });
  it('a file of blank lines', async () => {
    const e = await problemsOf(loadJsonl(file('blank.jsonl', '\n  \n\r\n'), schema));
    expect(e.message).toMatch(/empty file: no JSON lines/);
  });
  it('a huge line (streamed, not buffered)', async () => {
    const huge = `{"prompt":"${'x'.repeat(3 << 20)}","answer":"1"}\n{"prompt":"a","answer":"b"}\n`;
    const e = await problemsOf(loadJsonl(file('huge.jsonl', huge), schema));
    expect(e.problems).toHaveLength(1);
    expect(e.message).toMatch(/line 1, \(line\): line longer than maxLineBytes = 1048576 \(\d+ bytes\)/);
  });
  it('invalid UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","answer":"b"}\n')]);
    const e = await problemsOf(loadJsonl(file('utf8.jsonl', bytes), schema));
    expect(e.message).toMatch(/line 1, \(line\): invalid UTF-8/);
  });
  it('a line cut by a crash mid-write', async () => {
    const e = await problemsOf(loadJsonl(file('cut.jsonl', '{"prompt":"a","answer":"b"}\n{"prompt":"a","ans'), schema));
    expect(e.message).toMatch(/line 2, \(json\): invalid JSON/);
  });
  it('a missing file', async () => {
    const e = await problemsOf(loadJsonl(join(dir, 'nope.jsonl'), schema));
    expect(e.message).toMatch(/nope\.jsonl: 1 problem\(s\)\n\s+line 0, \(file\): cannot read: .*ENOENT/);
  });
  it('a directory instead of a file', async () => {
    const e = await problemsOf(loadJsonl(dir, schema));
    expect(e.message).toMatch(/\(file\): cannot read: .*EISDIR/);
  });
  it('math: a row that is neither GSM8K nor MATH', async () => {
    const e = await problemsOf(loadMathJsonl(file('neither.jsonl', '{"q":"1+1","a":"2"}\n')));
    expect(e.message).toMatch(/line 1, \(root\): expected \{question, answer\} \(GSM8K\) or \{problem, solution\|answer\} \(MATH\)/);
  });
  it('math: a GSM8K answer without ####', async () => {
    const e = await problemsOf(loadMathJsonl(file('gsm.jsonl', '{"question":"1+1?","answer":"it is 2"}\n')));
    expect(e.message).toMatch(/line 1, answer: GSM8K answer must be a string ending in '#### <final answer>'/);
  });
  it('math: a MATH solution without \\boxed', async () => {
    const e = await problemsOf(loadMathJsonl(file('math.jsonl', '{"problem":"1+1?","solution":"it is 2"}\n')));
    expect(e.message).toMatch(/line 1, solution: MATH row needs an answer or a solution with \\boxed\{…\}/);
  });
  it('every bad line is reported, none skipped', async () => {
    const e = await problemsOf(loadJsonl(file('many.jsonl', '{}\nnot json\n{"prompt":"a","answer":"b"}\n[]\n'), schema));
    expect(e.problems.map((p) => p.line)).toEqual([1, 1, 2, 4]);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('checkpoints (loadCheckpoint)', () => {
  const expectCkptError = (d: string, message: RegExp) => {
    const e = thrown(() => loadCheckpoint(d));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(message);
  };
  /** Replaces model.safetensors with raw bytes: an 8-byte little-endian header length, the header, data. */
  const withSafetensors = (bytes: Uint8Array) => {
    const d = copyCkpt();
    writeFileSync(join(d, 'model.safetensors'), bytes);
    return d;
  };
  const raw = (header: unknown, data = new Uint8Array(0), declared?: bigint) => {
    const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  /** Rewrites model.safetensors after editing its tensor map. */
  const withTensors = (edit: (t: Map<string, StoredTensor>) => void) => {
    const d = copyCkpt();
    const file = readSafetensors(join(d, 'model.safetensors'));
    edit(file.tensors);
    writeFileSync(join(d, 'model.safetensors'), serializeSafetensors(Object.fromEntries(file.tensors)));
    return d;
  };

  it('loads the good checkpoint (control)', () => {
    const { model: m, tokenizer: t } = loadCheckpoint(good);
    expect(t?.vocabSize).toBe(tokenizer.vocabSize);
    m.dispose();
  });
  it('not a checkpoint directory', () => expectCkptError(join(dir, 'nowhere'), /no config\.json \(not a checkpoint directory\)/));
  it('config.json is not JSON', () => {
    const d = copyCkpt();
    writeFileSync(join(d, 'config.json'), '{"vocab_size": 12,');
    expectCkptError(d, /config\.json: not valid JSON/);
  });
  it('config.json is JSON null', () => {
    const d = copyCkpt();
    writeFileSync(join(d, 'config.json'), 'null');
    expectCkptError(d, /config\.json: invalid model config.*\n\s+config: .*expected object/i);
  });
  it('config.json has an unknown field', () => {
    const d = copyCkpt();
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, colour: 'blue' }));
    expectCkptError(d, /config\.json: invalid model config.*\n\s+config: unknown field\(s\) "colour"/);
  });
  it('config.json disagrees with the tensors', () => {
    const d = copyCkpt();
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, hidden_size: 48 }));
    expectCkptError(d, /tensor "model\.embed_tokens\.weight" has shape \[\d+,32\], expected \[\d+,48\]/);
  });
  it('model.safetensors missing', () => {
    const d = copyCkpt();
    rmSync(join(d, 'model.safetensors'));
    expectCkptError(d, /model\.safetensors: cannot read \(ENOENT/);
  });
  it('model.safetensors truncated', () => {
    const d = copyCkpt();
    const p = join(d, 'model.safetensors');
    truncateSync(p, Math.floor(readFileSync(p).length / 2));
    expectCkptError(d, /data_offsets \[\d+, \d+\] run past the data section \(\d+ bytes\)/);
  });
  it('model.safetensors shorter than its header length', () => {
    expectCkptError(withSafetensors(new Uint8Array([1, 2, 3])), /file is 3 bytes, too short for the 8-byte header length/);
  });
  it('header length past EOF', () => {
    expectCkptError(withSafetensors(raw({}, new Uint8Array(0), 2n ** 63n)), /header length 9223372036854775808 runs past the end of the file \(10 bytes\)/);
  });
  it('huge header (over the 100 MB bound)', () => {
    const d = copyCkpt();
    const p = join(d, 'model.safetensors');
    const big = 100 * 1024 * 1024 + 16;
    writeFileSync(p, raw('{}', new Uint8Array(0), BigInt(big)));
    truncateSync(p, big + 8); // sparse: the bound is checked before the header is decoded
    expectCkptError(d, /header length 104857616 exceeds the 104857600-byte limit/);
  });
  it('header not JSON', () => expectCkptError(withSafetensors(raw('{"a": [1, 2')), /header is not valid JSON/));
  it('header not UTF-8', () => expectCkptError(withSafetensors(raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'))), /header is not valid JSON/));
  it('header is a JSON array', () => expectCkptError(withSafetensors(raw([1, 2])), /header is not a JSON object/));
  it('__metadata__ with a non-string value', () => expectCkptError(withSafetensors(raw({ __metadata__: { step: 3 } })), /__metadata__\.step must be a string, got number/));
  it('unknown dtype', () => {
    expectCkptError(withSafetensors(raw({ w: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8))), /tensor "w": dtype "Q4_K" is not one of F32, F16, BF16, I32, I64, F64/);
  });
  it('huge shape (no huge allocation)', () => {
    expectCkptError(withSafetensors(raw({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, new Uint8Array(8))), /tensor "w": shape \[1099511627776,1099511627776\] × F32 needs \S+ bytes, data_offsets span 8/);
  });
  it('negative dimension', () => {
    expectCkptError(withSafetensors(raw({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8))), /tensor "w": shape must be an array of non-negative integers, got \[-2\]/);
  });
  it('offsets out of range', () => {
    expectCkptError(withSafetensors(raw({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8))), /tensor "w": data_offsets \[0, 16\] run past the data section \(8 bytes\)/);
  });
  it('offsets reversed', () => {
    expectCkptError(withSafetensors(raw({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, new Uint8Array(8))), /data_offsets must be \[begin, end\] with 0 <= begin <= end, got \[8,0\]/);
  });
  it('an I64 value that does not fit int32', () => {
    const data = new Uint8Array(new BigInt64Array([2n ** 40n]).buffer);
    expectCkptError(withSafetensors(raw({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, data)), /tensor "w": I64 value 1099511627776 does not fit in int32/);
  });
  it('overlapping tensors', () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectCkptError(withSafetensors(raw(header, new Uint8Array(12))), /tensors "a" and "b" overlap/);
  });
  it('a tensor with the wrong shape', () => {
    const d = withTensors((t) => {
      const w = t.get('model.norm.weight')!;
      t.set('model.norm.weight', { ...w, shape: [w.data.length / 2, 2] });
    });
    expectCkptError(d, /tensor "model\.norm\.weight" has shape \[16,2\], expected \[32\]/);
  });
  it('a missing tensor', () => {
    const d = withTensors((t) => t.delete('lm_head.weight'));
    expectCkptError(d, /missing tensor "lm_head\.weight" \(expected shape \[\d+,32\]\)/);
  });
  it('an unexpected tensor', () => {
    const d = withTensors((t) => t.set('model.layers.9.extra', { dtype: 'F32', shape: [1], data: new Float32Array([1]) }));
    expectCkptError(d, /unexpected tensor "model\.layers\.9\.extra"/);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('tokenizer files', () => {
  const withTokenizer = (text: string) => {
    const d = copyCkpt();
    writeFileSync(join(d, 'tokenizer.json'), text);
    return d;
  };
  const vocabJson = (vocab: Record<string, number>) => {
    const json = tokenizer.toJSON() as { model: Record<string, unknown> };
    return JSON.stringify({ ...json, model: { ...json.model, vocab } });
  };
  const specials = () => Object.fromEntries(Object.values(SPECIAL_TOKENS).map((s, i) => [s, i]));
  const expectCkptError = (d: string, message: RegExp) => {
    const e = thrown(() => loadCheckpoint(d));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(message);
  };

  it('tokenizer.json is not JSON', () => expectCkptError(withTokenizer('{"model": '), /tokenizer\.json: .*JSON/));
  it('tokenizer.json is JSON null', () => expectCkptError(withTokenizer('null'), /tokenizer\.json: tokenizer\.json must be a JSON object, got null/));
  it('tokenizer.json without a model', () => expectCkptError(withTokenizer('{"version": "1.0"}'), /tokenizer\.json: tokenizer\.json has no "model" object/));
  it('wrong model type', () => {
    const json = JSON.stringify({ ...tokenizer.toJSON(), model: { type: 'Mystery', vocab: {} } });
    expectCkptError(withTokenizer(json), /tokenizer\.json: model\.type must be one of BPE, WordPiece, WordLevel, Unigram, got "Mystery"/);
  });
  it('non-contiguous ids', () => {
    const v = specials();
    v.a = 20;
    expectCkptError(withTokenizer(vocabJson(v)), /tokenizer\.json: .*vocabulary ids are not contiguous \(10 tokens, largest id 20\)/);
  });
  it('duplicate id', () => {
    const v = specials();
    v.a = 0;
    expectCkptError(withTokenizer(vocabJson(v)), /tokenizer\.json: .*bad id 0 for "a"/);
  });
  it('negative id', () => {
    const v = specials();
    v.a = -1;
    expectCkptError(withTokenizer(vocabJson(v)), /tokenizer\.json: .*bad id -1 for "a"/);
  });
  it('vocabulary smaller than needed (special tokens missing)', () => {
    expectCkptError(withTokenizer(vocabJson({ a: 0, b: 1 })), /tokenizer vocabulary lacks the special token <｜begin▁of▁sentence｜>/);
  });
  it("vocabulary larger than the model's", () => {
    const v = specials();
    for (let i = 0; i < 80; i++) v[String.fromCodePoint(0x4e00 + i)] = Object.keys(v).length;
    expectCkptError(withTokenizer(vocabJson(v)), /tokenizer has \d+ ids but config\.vocab_size is \d+/);
  });
  it('a Hugging Face tokenizer with an empty vocabulary', () => {
    const e = thrown(() => tokenizerFromJSON({ ...tokenizer.toJSON(), added_tokens: [], model: { type: 'WordLevel', vocab: {}, unk_token: '[UNK]' } }));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(/tokenizer\.json: the vocabulary is empty \(model\.vocab and added_tokens define no token\)/);
  });
  it('tokenizerFromJSON on a non-object', () => {
    const e = thrown(() => tokenizerFromJSON(42 as never));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(/tokenizer\.json must be a JSON object, got 42/);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('HTTP requests to r1 serve', () => {
  /** Raw request; resolves with the status and the parsed JSON body. */
  function send(method: string, path: string, body?: string | Buffer): Promise<{ status: number; json: any }> {
    return new Promise((done, fail) => {
      const req = request(`${srv.url}${path}`, { method, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          try {
            done({ status: res.statusCode!, json: JSON.parse(text) });
          } catch (e) {
            fail(new Error(`status ${res.statusCode}: body is not JSON: ${text.slice(0, 200)}`));
          }
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  }
  const chat = (body: unknown) => send('POST', '/v1/chat/completions', typeof body === 'string' ? body : JSON.stringify(body));
  const ok = { model: 'tiny', messages: [{ role: 'user', content: 'What is 1+2?' }] };
  /** OpenAI's error shape: { error: { message, type, param, code } }. */
  const expectApiError = (r: { status: number; json: any }, status: number, expected: { param?: string | null; code?: string; message: RegExp }) => {
    expect(r.status).toBe(status);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(r.json.error.type).toBe('invalid_request_error');
    expect(r.json.error.message).toMatch(expected.message);
    if (expected.param !== undefined) expect(r.json.error.param).toBe(expected.param);
    if (expected.code !== undefined) expect(r.json.error.code).toBe(expected.code);
  };

  it('malformed JSON', async () => expectApiError(await chat('{"model": "tiny",'), 400, { code: 'invalid_json', message: /could not parse the JSON body/ }));
  it('empty body', async () => expectApiError(await chat(''), 400, { code: 'invalid_json', message: /could not parse the JSON body/ }));
  it('body is a JSON array', async () => expectApiError(await chat('[1,2]'), 400, { code: 'invalid_body', message: /request body must be a JSON object/ }));
  it('messages missing', async () => expectApiError(await chat({ model: 'tiny' }), 400, { param: 'messages', code: 'invalid_type', message: /^messages: .*expected array.*\(got nothing\)/i }));
  it('messages empty', async () => expectApiError(await chat({ ...ok, messages: [] }), 400, { param: 'messages', message: /^messages: .*>=1/ }));
  it('message with an unknown role', async () => expectApiError(await chat({ ...ok, messages: [{ role: 'wizard', content: 'hi' }] }), 400, { param: 'messages[0].role', message: /messages\[0\]\.role: .*\(got "wizard"\)/ }));
  it('temperature of the wrong type', async () => expectApiError(await chat({ ...ok, temperature: 'hot' }), 400, { param: 'temperature', code: 'invalid_type', message: /temperature: .*expected number.*\(got "hot"\)/i }));
  it('temperature out of range', async () => expectApiError(await chat({ ...ok, temperature: 5 }), 400, { param: 'temperature', code: 'invalid_value', message: /temperature: .*<=2 \(got 5\)/ }));
  it('unknown model', async () => {
    const r = await chat({ ...ok, model: 'gpt-9' });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    expect(r.json.error.message).toMatch(/The model `gpt-9` does not exist; this server serves `tiny`/);
  });
  it('negative max_tokens', async () => expectApiError(await chat({ ...ok, max_tokens: -5 }), 400, { param: 'max_tokens', message: /max_tokens: .*>=1 \(got -5\)/ }));
  it('fractional max_tokens', async () => expectApiError(await chat({ ...ok, max_tokens: 2.5 }), 400, { param: 'max_tokens', message: /max_tokens: .*int.*\(got 2\.5\)/i }));
  it('huge max_tokens', async () => expectApiError(await chat({ ...ok, max_tokens: 1e9 }), 400, { param: 'messages', code: 'context_length_exceeded', message: /maximum context length is 64 tokens/ }));
  it('n out of range', async () => expectApiError(await chat({ ...ok, n: 1000 }), 400, { param: 'n', message: /n: .*<=16 \(got 1000\)/ }));
  it('text outside the vocabulary', async () => expectApiError(await chat({ ...ok, messages: [{ role: 'user', content: 'ŷ' }] }), 400, { param: 'messages', code: 'unsupported_text', message: /messages: character "ŷ" is not in the tokenizer's vocabulary/ }));
  it('oversize body → 413', async () => {
    const body = JSON.stringify({ ...ok, messages: [{ role: 'user', content: '1'.repeat(80 << 10) }] });
    expectApiError(await chat(body), 413, { code: 'request_too_large', message: /request body exceeds 65536 bytes/ });
  });
  it('GET on the completions route → 405', async () => expectApiError(await send('GET', '/v1/chat/completions'), 405, { code: 'method_not_allowed', message: /GET is not allowed on \/v1\/chat\/completions; use POST/ }));
  it('unknown route → 404', async () => expectApiError(await send('POST', '/v1/embeddings', '{}'), 404, { code: 'not_found', message: /no route for POST \/v1\/embeddings/ }));
  it('the server still answers after every bad request', async () => {
    const r = await send('GET', '/health');
    expect(r.status).toBe(200);
    expect(srv.stats().rejected).toBeGreaterThanOrEqual(17);
  });
});

// ────────────────────────────────────────────────────────────────────────────────────────────────
describe('failed writes leave no partial file', () => {
  it('saveCheckpoint that fails mid-write keeps the old checkpoint and leaves no temporary', () => {
    const d = copyCkpt();
    const before = readFileSync(join(d, 'model.safetensors'));
    const m = new DeepSeekModel(small(tokenizer.vocabSize), { seed: 1 });
    const broken = { ...tokenizer, toJSON: () => { throw new RangeError('tokenizer cannot be serialised'); } } as unknown as Tokenizer;
    const e = thrown(() => saveCheckpoint(d, m, broken));
    m.dispose();
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/tokenizer cannot be serialised/);
    expect(readFileSync(join(d, 'model.safetensors')).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((n) => /\.tmp-|\.old-/.test(n))).toEqual([]);
  });
  it('writeJsonl with a row that is not JSON writes nothing', async () => {
    const p = join(dir, 'out', 'rows.jsonl');
    const e = await rejected(writeJsonl(p, [{ a: 1 }, { f: undefined, toJSON: () => undefined }]));
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toMatch(/line 2, \(row\): row 1 is not JSON-serialisable/);
    expect(existsSync(p)).toBe(false);
  });
});
