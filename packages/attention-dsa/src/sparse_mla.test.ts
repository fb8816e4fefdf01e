import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, disposeBackend, initBackend, readSafetensors } from '@r1-ts/tensor-kernels';
import { Mla } from '@r1-ts/attention-mla';
import { SparseMla } from './sparse_mla';
import type { DsaConfig } from './config';
import { dsaRow64, kl64 } from './reference64';

const fixture = resolve(__dirname, '../../../test/fixtures/golden/dsa.safetensors');

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(b[i])) continue; // reference −inf / NaN above the diagonal: not compared
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const yarn = { type: 'yarn', factor: 4, original_max_position_embeddings: 16, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 } as const;
const base: DsaConfig = {
  hidden_size: 24, num_attention_heads: 3, q_lora_rank: 12, kv_lora_rank: 10, qk_nope_head_dim: 6, qk_rope_head_dim: 4,
  v_head_dim: 5, rope_theta: 10000, rope_scaling: yarn, max_position_embeddings: 128, rms_norm_eps: 1e-6,
  index_n_heads: 3, index_head_dim: 8, index_topk: 4,
};

const params64 = (m: SparseMla) => Object.fromEntries([...m.namedParameters()].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
const meanHeads = (probs: number[][][]) => probs[0].map((row, t) => row.map((_, s) => probs.reduce((a, ph) => a + ph[t][s], 0) / probs.length));

/** The golden fixture's layer, input and output gradient. */
function goldenCase() {
  const file = readSafetensors(fixture);
  const get = (n: string) => file.tensors.get(n)!;
  const dsa = new SparseMla(JSON.parse(file.metadata.config) as DsaConfig);
  dsa.loadState(new Map([...file.tensors].filter(([n]) => n.startsWith('param.')).map(([n, t]) => [n.slice(6), t])), { prefix: 'self_attn.' });
  const x = tf.tensor(get('input.x').data, get('input.x').shape);
  const dy = tf.tensor(get('input.dy').data, get('input.dy').shape);
  return { get, dsa, x, dy };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});
afterAll(async () => {
  await disposeBackend();
});

describe('SparseMla', () => {
  it('matches the golden fixture (y, index scores, top-k, KLs, gradients)', () => {
    const { get, dsa, x, dy } = goldenCase();
    const r = dsa.forwardDetailed(x);
    expect(relErr(r.y.dataSync(), get('output.y').data)).toBeLessThan(1e-4);
    expect(relErr(r.indexScores.dataSync(), get('output.index_scores').data)).toBeLessThan(1e-4);
    expect(Array.from(r.indices.dataSync())).toEqual(Array.from(get('output.topk_idx').data));
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(dsa.forward(xx), dy)))(x);
    expect(relErr(g.dataSync(), get('grad.x').data)).toBeLessThan(1e-4);
    const ivars = dsa.indexer.namedParameters('self_attn.indexer.');
    for (const [tag, out, f] of [
      ['kl', 'indexer_kl_dense', () => dsa.indexerLossDense(x)],
      ['kl_sparse_attn', 'indexer_kl_sparse_attn', () => dsa.indexerLossSparse(x)],
    ] as const) {
      const { value, grads } = tf.variableGrads(f, [...ivars.values()]);
      expect(relErr([value.dataSync()[0]], get(`output.${out}`).data)).toBeLessThan(1e-4);
      for (const [n, v] of ivars) expect(relErr(grads[v.name].dataSync(), get(`grad.${tag}.${n}`).data), `${tag}.${n}`).toBeLessThan(1e-4);
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose([x, dy, r.y, r.indexScores, r.indices, g]);
    dsa.dispose();
  });

  it('the latent (MQA) form matches the golden fixture too (y, dy/dx, parameter gradients equal to the expanded form\'s)', () => {
    const { get, dsa, x, dy } = goldenCase();
    const y = dsa.forwardLatent(x);
    expect(relErr(y.dataSync(), get('output.y').data)).toBeLessThan(1e-4);
    dsa.latentFrom = 0; // forward takes the latent form at every length
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(dsa.forward(xx), dy)))(x);
    expect(relErr(g.dataSync(), get('grad.x').data)).toBeLessThan(1e-4);
    const vars = [...dsa.namedParameters()].filter(([n, v]) => !n.startsWith('indexer.') && v.trainable).map(([, v]) => v); // the indexer learns only from its KL
    const grads = (latentFrom: number) => {
      dsa.latentFrom = latentFrom;
      const { value, grads: gs } = tf.variableGrads(() => tf.sum(tf.mul(dsa.forward(x), dy)) as tf.Scalar, vars);
      value.dispose();
      return gs;
    };
    const [lat, exp] = [grads(0), grads(Infinity)];
    expect(vars.length).toBeGreaterThan(5);
    for (const v of vars) expect(relErr(lat[v.name].dataSync(), exp[v.name].dataSync()), v.name).toBeLessThan(1e-5);
    tf.dispose([x, dy, y, g, ...Object.values(lat), ...Object.values(exp)]);
    dsa.dispose();
  });

  const variants: [string, DsaConfig][] = [
    ['YaRN', base],
    ['rope_scaling null, Di = dr (fully roped indexer)', { ...base, rope_scaling: null, index_head_dim: 4, index_n_heads: 2, index_topk: 3 }],
  ];
  for (const [name, config] of variants) {
    it(`${name}: forward, scores, top-k and KLs equal a float64 reference; prefill-then-decode equals forward`, () => {
      const dsa = new SparseMla(config, new Rng(21), 0.4);
      const p = params64(dsa);
      const S = 10;
      const x = tf.randomNormal([2, S, config.hidden_size], 0, 1, 'float32', 8);
      const xr = x.arraySync() as number[][][];
      const refs = xr.map((row) => dsaRow64(config, p, row, row.map((_, t) => t + 3)));
      const r = dsa.forwardDetailed(x, { startPos: 3 });
      expect(relErr(r.y.dataSync(), refs.flatMap((ref) => ref.y.flat()))).toBeLessThan(2e-5);
      expect(relErr(r.indexScores.dataSync(), refs.flatMap((ref) => ref.scores.flat()))).toBeLessThan(2e-5);
      const k = config.index_topk;
      const want = refs.flatMap((ref) => ref.sets.flatMap((set) => [...set, ...new Array(k - set.length).fill(-1)]));
      expect(Array.from(r.indices.dataSync())).toEqual(want);
      // Sparsity matters here: some query drops keys.
      expect(refs[0].sets.some((set, t) => set.length < t + 1)).toBe(true);

      const dense = kl64Mean(refs, (ref) => [ref.scores, meanHeads(ref.denseProbs), ref.scores.map((_, t) => Array.from({ length: t + 1 }, (_, s) => s))]);
      const sparse = kl64Mean(refs, (ref) => [ref.scores, meanHeads(ref.sparseProbs), ref.sets]);
      const klD = dsa.indexerLossDense(x, { startPos: 3 });
      const klS = dsa.indexerLossSparse(x, { startPos: 3 });
      expect(Math.abs(klD.dataSync()[0] - dense) / dense).toBeLessThan(1e-4);
      expect(Math.abs(klS.dataSync()[0] - sparse) / sparse).toBeLessThan(1e-4);

      for (const prefix of [1, 5, 9]) {
        const { y: yp, cache } = dsa.prefill(x.slice([0, 0, 0], [-1, prefix, -1]), { startPos: 3 });
        const outs = [yp];
        for (let t = prefix; t < S; t++) outs.push(dsa.decode(x.slice([0, t, 0], [-1, 1, -1]), cache));
        const yd = tf.concat(outs, 1);
        expect(relErr(yd.dataSync(), r.y.dataSync()), `prefix ${prefix}`).toBeLessThan(2e-5);
        expect(cache.indexKeys!.shape).toEqual([2, S, config.index_head_dim]);
        tf.dispose([...outs, yd]);
        cache.dispose();
      }
      tf.dispose([x, r.y, r.indexScores, r.indices, klD, klS]);
      dsa.dispose();
    });
  }

  it('with L ≤ index_topk equals dense MLA, in forward and in decode', () => {
    const config = { ...base, index_topk: 8 };
    const dsa = new SparseMla(config, new Rng(4), 0.4);
    const mla = new Mla(config);
    const state = new Map([...dsa.namedParameters()].filter(([n]) => !n.startsWith('indexer.')));
    mla.loadState(state);
    const x = tf.randomNormal([2, 8, config.hidden_size], 0, 1, 'float32', 9);
    const a = dsa.forward(x);
    const b = mla.forward(x);
    expect(relErr(a.dataSync(), b.dataSync())).toBeLessThan(1e-6);
    const { y, cache } = dsa.prefill(x.slice([0, 0, 0], [-1, 7, -1]));
    const last = dsa.decode(x.slice([0, 7, 0], [-1, 1, -1]), cache);
    expect(relErr(last.dataSync(), b.slice([0, 7, 0], [-1, 1, -1]).dataSync())).toBeLessThan(2e-5);
    tf.dispose([x, a, b, y, last]);
    cache.dispose();
    mla.dispose();
    dsa.dispose();
  });

  it('gathered sparse paths equal masked dense MLA attention (expanded and absorbed, T > 1, left padding)', () => {
    // Same index sets through the gathered kernels (SparseMla) and through Mla's masked dense attention.
    const dsa = new SparseMla(base, new Rng(6), 0.4);
    const mla = new Mla(base);
    mla.loadState(new Map([...dsa.namedParameters()].filter(([n]) => !n.startsWith('indexer.'))));
    const [B, Sk, T] = [2, 11, 3];
    const x = tf.randomNormal([B, Sk, base.hidden_size], 0, 1, 'float32', 12);
    const keyMask = tf.tensor2d([[0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]);
    const rng = new Rng(8);
    const idx = Int32Array.from({ length: B * T * 5 }, () => rng.int(-1, Sk - 1)); // random sets: −1, duplicates, non-causal keys
    const indices = tf.tensor3d(idx, [B, T, 5], 'int32');
    const p = dsa.project(x);
    const last = (t: tf.Tensor) => tf.slice(t, [0, Sk - T], [-1, T]) as tf.Tensor4D;
    const q = { qNope: last(p.qNope), qPe: last(p.qPe) };
    const masks = { keyMask, indices };
    const want = mla.attendExpanded(q, p.c, p.kPe, masks).y;
    const expanded = dsa.attendExpanded(q, p.c, p.kPe, masks).y;
    const absorbed = dsa.attendAbsorbed(q, p.c, p.kPe, masks);
    expect(relErr(expanded.dataSync(), want.dataSync())).toBeLessThan(2e-5);
    expect(relErr(absorbed.dataSync(), want.dataSync())).toBeLessThan(2e-5);
    tf.dispose([x, keyMask, indices, p.qr!, p.qNope, p.qPe, p.c, p.kPe, q.qNope, q.qPe, want, expanded, absorbed]);
    mla.dispose();
    dsa.dispose();
  });

  it('indexer losses reach only the indexer; y does not reach the indexer', () => {
    const dsa = new SparseMla(base, new Rng(2), 0.3);
    const x = tf.randomNormal([1, 9, base.hidden_size], 0, 1, 'float32', 10);
    const indexerVars = new Set(dsa.indexer.trainableVariables().map((v) => v.name));
    for (const loss of [() => dsa.indexerLossDense(x), () => dsa.indexerLossSparse(x), () => dsa.forwardTrain(x).indexerLoss]) {
      const { value, grads } = tf.variableGrads(loss);
      for (const [name, g] of Object.entries(grads)) {
        const norm = tf.norm(g).dataSync()[0];
        if (indexerVars.has(name)) expect(norm).toBeGreaterThan(0);
        else expect(norm).toBe(0);
      }
      tf.dispose([value, ...Object.values(grads)]);
    }
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(dsa.forward(x))) as tf.Scalar);
    for (const [name, g] of Object.entries(grads)) {
      const norm = tf.norm(g).dataSync()[0];
      if (indexerVars.has(name)) expect(norm).toBe(0);
      else expect(norm).toBeGreaterThan(0);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    dsa.dispose();
  });

  it('keeps tf.memory().numTensors flat over 50 training steps and decodes', () => {
    const dsa = new SparseMla(base, new Rng(3));
    const x = tf.randomNormal([2, 7, base.hidden_size]);
    const opt = tf.train.adam(1e-3);
    const step = () => {
      opt.minimize(() => {
        const { y, indexerLoss } = dsa.forwardTrain(x);
        return tf.add(tf.mean(tf.square(y)), indexerLoss) as tf.Scalar;
      })?.dispose();
      dsa.latentFrom = 0; // the latent form's forward and backward too
      opt.minimize(() => tf.mean(tf.square(dsa.forward(x))) as tf.Scalar)?.dispose();
      dsa.latentFrom = Infinity;
      const { y, cache } = dsa.prefill(x);
      tf.tidy(() => {
        dsa.decode(x.slice([0, 0, 0], [-1, 1, -1]), cache);
      });
      y.dispose();
      cache.dispose();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    opt.dispose();
    dsa.dispose();
  });

  it('rejects configs DSA cannot run with a ConfigError naming the field', () => {
    const cases: [Partial<DsaConfig>, string][] = [
      [{ q_lora_rank: null }, 'q_lora_rank'],
      [{ index_head_dim: 2 }, 'index_head_dim'],
      [{ index_topk: 0 }, 'index_topk'],
      [{ index_n_heads: -1 }, 'index_n_heads'],
      [{ qk_rope_head_dim: 3 }, 'qk_rope_head_dim'],
    ];
    for (const [patch, field] of cases) {
      let err: unknown;
      try {
        new SparseMla({ ...base, ...patch } as DsaConfig);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).fields).toEqual([field]);
      expect((err as Error).message).toContain(`config.${field}`);
    }
  });
});

/** KL of every batch row's reference, averaged over all B·S rows. */
function kl64Mean<T>(refs: T[], pick: (r: T) => [number[][], number[][], number[][]]): number {
  return refs.reduce((a, r) => a + kl64(...pick(r)), 0) / refs.length;
}
