import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeBackend, initBackend, setLinearAdapter } from '@r1-ts/tensor-kernels';
import { Mla } from './mla';
import type { MlaConfig } from './config';
import { mlaRow64, relErr } from './reference64';
import type { Params } from './reference64';

// Linear adapters (LoRA) on every MLA projection: the expanded forward applies them through `linear`;
// the absorbed decode folds kv_b_proj per head, so it must apply kv_b_proj's adapter there itself
// (low-rank factors when offered, else a dense fold). Reference: the float64 MLA with W + ΔW.

const config: MlaConfig = {
  hidden_size: 24, num_attention_heads: 3, q_lora_rank: 12, kv_lora_rank: 10, qk_nope_head_dim: 6, qk_rope_head_dim: 4,
  v_head_dim: 5, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 128, rms_norm_eps: 1e-6,
};
const PROJECTIONS = ['q_a_proj', 'q_b_proj', 'kv_a_proj_with_mqa', 'kv_b_proj', 'o_proj'];

describe.each(['cpu', 'wasm'] as const)('Mla with adapters on every projection (%s)', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it.each([['low-rank (LoRA)', true], ['opaque (dense fold)', false]])('%s: forward and prefill + absorbed decode match the float64 reference with W + ΔW', (_, offerFactors) => {
    const mla = new Mla(config, new Rng(4), 0.3);
    const params = mla.namedParameters();
    const p: Params = {};
    const owned: tf.Tensor[] = [];
    const rng = new Rng(9);
    for (const [name, w] of params) {
      const merged = Float64Array.from(w.dataSync());
      const proj = name.replace(/\.weight$/, '');
      if (PROJECTIONS.includes(proj)) {
        const [out, inp] = w.shape as [number, number];
        const r = 2;
        const scale = 1.5;
        const a = tf.tensor2d(rng.normalArray(r * inp, 0.4), [r, inp]);
        const b = tf.tensor2d(rng.normalArray(out * r, 0.4), [out, r]);
        owned.push(a, b);
        const ba = tf.matMul(b, a).dataSync(); // [out, in]
        for (let i = 0; i < merged.length; i++) merged[i] += scale * ba[i];
        const adapter = (x2: tf.Tensor2D) => tf.mul(tf.matMul(tf.matMul(x2, a, false, true), b, false, true), scale) as tf.Tensor2D;
        setLinearAdapter(w, offerFactors ? Object.assign(adapter, { lowRank: () => ({ a, b, scale }) }) : adapter);
      }
      p[name] = merged;
    }
    const S = 6;
    const x = tf.tensor3d(new Rng(3).normalArray(2 * S * config.hidden_size, 1), [2, S, config.hidden_size]);
    const ref = (x.arraySync() as number[][][]).map((row) => mlaRow64(config, p, row, row.map((_, t) => t)).y).flat(2);
    const y = tf.tidy(() => mla.forward(x).dataSync());
    expect(relErr(y, ref)).toBeLessThan(2e-5);
    const { y: yp, cache } = mla.prefill(x.slice([0, 0, 0], [-1, 3, -1]));
    const outs = [yp];
    for (let t = 3; t < S; t++) outs.push(mla.decode(x.slice([0, t, 0], [-1, 1, -1]), cache));
    const cached = tf.tidy(() => tf.concat(outs, 1).dataSync());
    expect(relErr(cached, ref)).toBeLessThan(2e-5);
    for (const w of params.values()) setLinearAdapter(w, null);
    tf.dispose([...outs, x, ...owned]);
    cache.dispose();
    mla.dispose();
  });
});
