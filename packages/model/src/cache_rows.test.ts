// Continuous batching through mergeCacheRows / selectCacheRows: rows join a running batch (their own
// left-padded prefill merged in) and leave it (gathered out, common padding trimmed); every row's
// greedy tokens and logits must equal that row decoded alone with its own cache.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import type { CausalLM, DecodeCache } from './causal_lm';
import { cacheLength, mergeCacheRows, selectCacheRows } from './cache_rows';
import { DenseModel } from './dense/model';
import { leftPad } from './generate';
import { DeepSeekModel } from './model';
import { presets } from './config';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

interface Trace {
  tokens: number[];
  /** The logits [V] each token was picked from. */
  logits: Float32Array[];
}

const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

/** Last-position logits [B, V] of a forward, as one row per batch entry. */
function lastLogits(model: CausalLM, tokens: tf.Tensor2D, cache: DecodeCache, opts: { keyMask?: tf.Tensor2D; positions?: number[][] } = {}): Float32Array[] {
  const flat = tf.tidy(() => {
    const { logits } = model.forward(tokens, opts, cache); // [B, S, V]
    const [B, S, V] = logits.shape;
    return tf.reshape(tf.slice(logits, [0, S - 1, 0], [B, 1, V]), [B, V]);
  });
  tokens.dispose();
  const [B, V] = flat.shape;
  const data = flat.dataSync() as Float32Array;
  flat.dispose();
  return Array.from({ length: B }, (_, b) => data.slice(b * V, (b + 1) * V));
}

/** One row alone: prefill, then greedy decode with its own cache. */
function alone(model: CausalLM, prompt: number[], n: number): Trace {
  const cache = model.newCache();
  const out: Trace = { tokens: [], logits: [] };
  let row = lastLogits(model, tf.tensor2d([prompt], undefined, 'int32'), cache)[0];
  for (let i = 0; i < n; i++) {
    out.tokens.push(argmax(row));
    out.logits.push(row);
    if (i + 1 < n) row = lastLogits(model, tf.tensor2d([[out.tokens[i]]], [1, 1], 'int32'), cache)[0];
  }
  cache.dispose();
  return out;
}

interface Job { prompt: number[]; budget: number; joinAt: number }

/** Rows join at their step and leave when their budget is spent; the shared cache is merged and trimmed. */
function batched(model: CausalLM, jobs: Job[]): Trace[] {
  const traces = jobs.map((): Trace => ({ tokens: [], logits: [] }));
  let running: { job: number; cached: number }[] = [];
  let cache: DecodeCache | null = null;
  const record = (job: number, logits: Float32Array) => {
    traces[job].tokens.push(argmax(logits));
    traces[job].logits.push(logits);
  };
  for (let step = 0; running.length || jobs.some((j) => j.joinAt >= step); step++) {
    if (running.length) {
      const last = running.map((r) => traces[r.job].tokens.at(-1)!);
      const rows = lastLogits(model, tf.tensor2d(last, [last.length, 1], 'int32'), cache!);
      running.forEach((r, b) => {
        record(r.job, rows[b]);
        r.cached++;
      });
    }
    const joining = jobs.map((j, i) => ({ j, i })).filter(({ j }) => j.joinAt === step);
    if (joining.length) {
      const fresh = model.newCache();
      const padded = leftPad(joining.map(({ j }) => j.prompt), 0);
      const rows = lastLogits(model, padded.tokens, fresh, { keyMask: padded.keyMask, positions: padded.positions });
      padded.keyMask.dispose();
      joining.forEach(({ i, j }, b) => {
        record(i, rows[b]);
        running.push({ job: i, cached: j.prompt.length });
      });
      if (cache) mergeCacheRows(cache, fresh);
      else cache = fresh;
    }
    const keep = running.map((r, b) => ({ r, b })).filter(({ r }) => traces[r.job].tokens.length < jobs[r.job].budget);
    if (keep.length < running.length) {
      running = keep.map(({ r }) => r);
      if (!running.length) {
        cache!.dispose();
        cache = null;
      } else {
        const T = cacheLength(cache!);
        selectCacheRows(cache!, keep.map(({ b }) => b), Math.min(...running.map((r) => T - r.cached)));
      }
    }
  }
  cache?.dispose();
  return traces;
}

const jobs: Job[] = [
  { prompt: [3, 4, 5, 6, 7], budget: 6, joinAt: 0 },
  { prompt: [8, 9, 10], budget: 3, joinAt: 0 }, // leaves early: the batch shrinks and its padding is trimmed
  { prompt: [11, 12, 13, 14, 15, 16, 17, 18, 19], budget: 5, joinAt: 2 }, // longer than the running cache
  { prompt: [20, 21], budget: 4, joinAt: 4 }, // shorter than the running cache
  { prompt: [22], budget: 2, joinAt: 9 }, // joins an empty batch again
];

function check(model: CausalLM): void {
  const before = tf.memory().numTensors;
  const got = batched(model, jobs);
  jobs.forEach((j, i) => {
    const ref = alone(model, j.prompt, j.budget);
    expect(got[i].tokens, `row ${i}`).toEqual(ref.tokens);
    ref.logits.forEach((l, t) => {
      let worst = 0;
      for (let v = 0; v < l.length; v++) worst = Math.max(worst, Math.abs(l[v] - got[i].logits[t][v]));
      expect(worst, `row ${i} token ${t}`).toBeLessThan(1e-5);
    });
  });
  expect(tf.memory().numTensors).toBe(before); // no tensor left behind by the surgery
}

describe('cache rows: continuous batching equals each row decoded alone', () => {
  it('dense qwen2 with GQA (4 query heads, 2 kv heads, attention biases)', () => {
    const model = new DenseModel({ model_type: 'qwen2', vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6, rope_theta: 10000 }, { seed: 5 });
    check(model);
    model.dispose();
  });

  it('dense llama with GQA (8 query heads, 2 kv heads)', () => {
    const model = new DenseModel({ model_type: 'llama', vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2,
      num_attention_heads: 8, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 }, { seed: 6 });
    check(model);
    model.dispose();
  });

  it('DeepSeek MLA caches', () => {
    const model = new DeepSeekModel({ ...presets.tiny, vocab_size: 40, num_nextn_predict_layers: 0 }, { seed: 7 });
    check(model);
    model.dispose();
  });

  it('rejects a bad trim and a foreign cache with a ConfigError', () => {
    const model = new DenseModel({ model_type: 'llama', vocab_size: 16, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
      num_attention_heads: 2, max_position_embeddings: 32, rms_norm_eps: 1e-5 }, { seed: 1 });
    const cache = model.newCache();
    tf.tidy(() => void model.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32'), {}, cache));
    expect(() => selectCacheRows(cache, [0], 3)).toThrow(/trim must be an integer in \[0, 2\], got 3/);
    expect(() => mergeCacheRows(cache, { dispose() {} })).toThrow(/unsupported decode cache/);
    cache.dispose();
    model.dispose();
  });
});
