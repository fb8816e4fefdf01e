// MLA decode with the latent cache vs recomputing the prefix, and DSA (indexer + top-k gated attention)
// vs dense MLA attention on the `small` preset attention sizes. Figures only. One rep at L ≥ 2048 keeps the
// suite short on 2 cores (dense attention at L = 4096 dominates).
import * as tf from '@tensorflow/tfjs';
import { Rng, indexerTopK, initBackend } from '@r1-ts/tensor-kernels';
import { Mla, kvCacheBytesPerToken, mhaKvCacheBytesPerToken, ropeTables } from '@r1-ts/attention-mla';
import type { MlaConfig } from '@r1-ts/attention-mla';
import { SparseMla } from '@r1-ts/attention-dsa';
import type { DsaConfig } from '@r1-ts/attention-dsa';
import { report, timeMs } from '../lib';

const small: MlaConfig = {
  hidden_size: 256, num_attention_heads: 8, q_lora_rank: 128, kv_lora_rank: 64, qk_nope_head_dim: 32, qk_rope_head_dim: 16,
  v_head_dim: 32, rope_theta: 10000, max_position_embeddings: 8192, rms_norm_eps: 1e-6,
  rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 256, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 },
};
const dsaConfig: DsaConfig = { ...small, index_n_heads: 4, index_head_dim: 32, index_topk: 64 };

async function decodeVsRecompute(): Promise<void> {
  const mla = new Mla(small, new Rng(0));
  report('mla.cache_bytes_per_token', kvCacheBytesPerToken(small), 'B', { mha: mhaKvCacheBytesPerToken(small) });
  {
    // V8 compiles the decode path's many small functions over its first ~100 calls (a step takes 3–7 ms
    // then, 0.3–0.5 ms after): warm it on a scratch cache, so the figures below are the steady state.
    const x = tf.randomNormal([1, 32, small.hidden_size]);
    const { y, cache } = mla.prefill(x.slice([0, 0, 0], [-1, 31, -1]));
    const last = x.slice([0, 31, 0], [-1, 1, -1]);
    for (let i = 0; i < 150; i++) tf.tidy(() => void mla.decode(last, cache, { startPos: 31 + i }).dataSync());
    tf.dispose([x, y, last]);
    cache.dispose();
  }
  for (const n of [64, 256, 1024]) {
    const x = tf.randomNormal([1, n, small.hidden_size]);
    const prompt = x.slice([0, 0, 0], [-1, n - 1, -1]);
    const last = x.slice([0, n - 1, 0], [-1, 1, -1]);
    const { y, cache } = mla.prefill(prompt);
    y.dispose();
    // Each timed decode appends one token: the cache grows by reps + warmup tokens (small next to n).
    // A decode step is ~45 small kernels, so a GC pause or a descheduled thread (3–5 ms) can land on any
    // one of them: the median of 21 steps.
    const cached = await timeMs(() => tf.tidy(() => void mla.decode(last, cache, { startPos: n - 1 }).dataSync()), 21, 3);
    const recompute = await timeMs(() => tf.tidy(() => void mla.forward(x).slice([0, n - 1, 0], [-1, 1, -1]).dataSync()), n >= 1024 ? 3 : 5, 1);
    report(`mla.decode.cached.n${n}`, 1000 / cached, 'tokens/s', { ms: cached });
    report(`mla.decode.recompute.n${n}`, 1000 / recompute, 'tokens/s', { ms: recompute, ratio: recompute / cached });
    cache.dispose();
    tf.dispose([x, prompt, last]);
  }
  mla.dispose();
}

async function sparseVsDense(): Promise<void> {
  const dsa = new SparseMla(dsaConfig, new Rng(1));
  for (const L of [512, 1024, 2048, 4096]) {
    const reps = L >= 2048 ? 1 : 3;
    // Always one warm-up: a cold first call pays heap growth and page faults ([1, H, L, L] scores are
    // 512 MB at L = 4096), which made dense read 3.7 s instead of 0.7 s and flattered DSA 5×.
    const warm = 1;
    const x = tf.randomNormal([1, L, small.hidden_size]);
    const p = dsa.project(x);
    try {
      // The indexer run that is timed last also provides the selection the gated attention uses. What
      // SparseMla.forward runs: chunked q·k GEMMs + streaming ReLU-weighted head sum and top-k.
      const { cos, sin } = ropeTables(dsaConfig, 1, L, {});
      let indices: tf.Tensor3D | null = null;
      const indexer = await timeMs(() => {
        indices?.dispose();
        indices = tf.tidy(() => {
          const { q, w } = dsa.indexer.queries(p.qr!, x, cos, sin);
          return indexerTopK(q, w, dsa.indexer.keys(x, cos, sin), dsaConfig.index_topk, { scale: dsaConfig.index_head_dim ** -0.5 }); // [1, L, k]
        });
      }, reps, warm);
      const sel = indices!;
      const gated = await timeMs(() => tf.tidy(() => void dsa.attendExpanded(p, p.c, p.kPe, { indices: sel }).y.dataSync()), reps, warm);
      const dense = await timeMs(() => tf.tidy(() => void dsa.attendExpanded(p, p.c, p.kPe).y.dataSync()), reps, warm);
      report(`dsa.indexer.L${L}`, indexer, 'ms', { ns_per_pair: (indexer * 1e6) / ((L * (L + 1)) / 2) });
      // Gathered sparse attention over each query's k keys: O(L·k).
      report(`dsa.gated_attention.L${L}`, gated, 'ms', { k: dsaConfig.index_topk, kernel: 'gathered', us_per_query: (gated * 1000) / L });
      report(`dsa.total.L${L}`, indexer + gated, 'ms', { dense, ratio: dense / (indexer + gated) });
      report(`mla.dense_attention.L${L}`, dense, 'ms');
      tf.dispose([cos, sin]);
      sel.dispose();
    } catch (e) {
      report(`dsa.L${L}`, NaN, 'ms', { skipped: (e as Error).message.slice(0, 60).replace(/\s+/g, '_') });
    }
    tf.dispose([x, p.qr!, p.qNope, p.qPe, p.c, p.kPe]);
  }
  dsa.dispose();
}

/** Bench entry point. */
export async function run(): Promise<void> {
  await initBackend({ backend: 'auto', quiet: true });
  await decodeVsRecompute();
  await sparseVsDense();
}
