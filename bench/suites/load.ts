// `npm run bench -- load`: a random Qwen2.5-0.5B-shaped checkpoint (bf16, sharded, as published) loaded
// into an fp32 model by loadPretrained — seconds and peak RSS against the fp32 size — and cached greedy
// decode tokens/s of the loaded model. Each figure comes from a fresh child process (peak RSS is per
// process, runtime included, as ../shared/bench/README.md "load" asks). The decode shape defaults to a
// short run (B 1 × 32-token prompt, 16 new tokens); R1_LOAD_DECODE=8,32,128 runs the PyTorch
// reference's 8 × 32 × 128 (minutes on 2 cores).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { DenseModel, generate, loadPretrained, savePretrained } from '@r1-ts/model';
import type { Tokenizer } from '@r1-ts/model';
import { report } from '../lib';

/** Qwen/Qwen2.5-0.5B's config (shapes only; 494,032,768 parameters). */
const QWEN25_05B = {
  model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1e6,
  tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151643,
};

const maxRssMb = () => process.resourceUsage().maxRSS / 1024; // KiB → MiB

/** Child: writes the seeded random model as bf16 shards of ≤ 400 MiB. */
async function writeChild(dir: string): Promise<object> {
  await initBackend({ backend: 'cpu', quiet: true }); // no wasm heap limit for the 2 GB writer
  const model = new DenseModel(QWEN25_05B, { init: 'empty' });
  let s = 12345;
  for (const [name, v] of model.namedParameters()) {
    if (name.endsWith('norm.weight')) continue; // ones, as HF initialises them
    const a = new Float32Array(v.size);
    for (let i = 0; i < a.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = (s / 2 ** 32 - 0.5) * 0.0693; // uniform with std 0.02
    }
    v.assign(tf.tensor(a, v.shape));
  }
  const t0 = performance.now();
  savePretrained(dir, model, { dtype: 'bf16', maxShardSize: 400 * 2 ** 20 });
  return { write_s: (performance.now() - t0) / 1000, params: model.parameterCount() };
}

/** Child: one timed loadPretrained. */
async function loadChild(dir: string): Promise<object> {
  const info = await initBackend({ quiet: true });
  const rssInit = maxRssMb();
  const t0 = performance.now();
  const { model } = loadPretrained(dir, { tokenizer: false });
  const s = (performance.now() - t0) / 1000;
  return { load_s: s, peak_rss_mb: maxRssMb(), rss_after_init_mb: rssInit, backend: info.name, params: model.parameterCount() };
}

/** Child: load, then time one cached greedy generation (prefill included). */
async function decodeChild(dir: string, B: number, P: number, N: number): Promise<object> {
  const info = await initBackend({ quiet: true });
  const { model } = loadPretrained(dir, { tokenizer: false });
  const V = model.config.vocab_size;
  let s = 2;
  const prompts = Array.from({ length: B }, () => Array.from({ length: P }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % V));
  const tok = { vocabSize: V, special: { bos: 0, eos: -1, pad: 0 }, encode: () => [], decode: () => '', toJSON: () => ({}) } as unknown as Tokenizer;
  generate(model, tok, prompts, { maxNewTokens: 2, temperature: 0, stopIds: [] }); // warm-up
  const t0 = performance.now();
  generate(model, tok, prompts, { maxNewTokens: N, temperature: 0, stopIds: [] });
  const run_s = (performance.now() - t0) / 1000;
  return { tokens_per_s: (B * N) / run_s, run_s, peak_rss_mb: maxRssMb(), backend: info.name };
}

/** Runs this file as a child for one job; returns its JSON line. */
function child(job: string, ...args: string[]): Record<string, any> {
  const r = spawnSync(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, R1_LOAD_CHILD: JSON.stringify([job, ...args]) },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`load bench child ${job} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

/** Bench entry point. */
export async function run(): Promise<void> {
  const dir = join(mkdtempSync(join(tmpdir(), 'r1-bench-load-')), 'qwen2.5-0.5b-bf16');
  try {
    const w = child('write', dir);
    const files = readdirSync(dir);
    const bytes = files.filter((f) => f.endsWith('.safetensors')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const fp32Mb = (w.params * 4) / 2 ** 20;
    const loads = [child('load', dir), child('load', dir), child('load', dir)];
    const times = loads.map((l) => l.load_s).sort((a, b) => a - b);
    const peak = Math.max(...loads.map((l) => l.peak_rss_mb));
    report('load.qwen2.5-0.5b_bf16_sharded_to_fp32', times[1], 's', {
      peak_rss_mb: peak, fp32_mb: fp32Mb, peak_over_fp32: peak / fp32Mb, rss_after_init_mb: loads[0].rss_after_init_mb,
      checkpoint_mb: bytes / 2 ** 20, shards: files.filter((f) => f.endsWith('.safetensors')).length, params: w.params,
      runs: times.map((t) => t.toFixed(2)).join('/'), write_s: w.write_s, backend: loads[0].backend,
    });
    const [B, P, N] = (process.env.R1_LOAD_DECODE ?? '1,32,16').split(',').map(Number);
    const d = child('decode', dir, String(B), String(P), String(N));
    report(`load.qwen2.5-0.5b_decode_b${B}_p${P}_new${N}`, d.tokens_per_s, 'tokens/s', { run_s: d.run_s, peak_rss_mb: d.peak_rss_mb, backend: d.backend });
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

if (process.env.R1_LOAD_CHILD) {
  const [job, ...args] = JSON.parse(process.env.R1_LOAD_CHILD) as string[];
  const out = job === 'write' ? await writeChild(args[0]) : job === 'load' ? await loadChild(args[0]) : await decodeChild(args[0], Number(args[1]), Number(args[2]), Number(args[3]));
  console.log(JSON.stringify(out));
  process.exit(0);
}
