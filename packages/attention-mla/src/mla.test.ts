import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeBackend, initBackend, readSafetensors } from '@r1-ts/tensor-kernels';
import { Mla } from './mla';
import type { MlaConfig } from './config';
import { mlaRow64, relErr } from './reference64';
import type { Params } from './reference64';

const fixture = resolve(__dirname, '../../../test/fixtures/golden/mla.safetensors');

const yarn = { type: 'yarn', factor: 4, original_max_position_embeddings: 16, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 } as const;
const base: MlaConfig = {
  hidden_size: 24, num_attention_heads: 3, q_lora_rank: 12, kv_lora_rank: 10, qk_nope_head_dim: 6, qk_rope_head_dim: 4,
  v_head_dim: 5, rope_theta: 10000, rope_scaling: yarn, max_position_embeddings: 128, rms_norm_eps: 1e-6,
};

function params64(mla: Mla): Params {
  const out: Params = {};
  for (const [n, v] of mla.namedParameters()) out[n] = Float64Array.from(v.dataSync());
  return out;
}

const rows = (t: tf.Tensor) => t.arraySync() as number[][][];

describe.each(['wasm', 'cpu'] as const)('Mla on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('matches the golden fixture (forward, gradients, caches, absorbed decode)', () => {
    const file = readSafetensors(fixture);
    const config = JSON.parse(file.metadata.config) as MlaConfig;
    const get = (n: string) => file.tensors.get(n)!;
    const mla = new Mla(config);
    mla.loadState(new Map([...file.tensors].filter(([n]) => n.startsWith('param.')).map(([n, t]) => [n.slice(6), t])), { prefix: 'self_attn.' });
    const x = tf.tensor(get('input.x').data, get('input.x').shape);
    const dy = tf.tensor(get('input.dy').data, get('input.dy').shape);
    const S = x.shape[1] as number;
    const check = (name: string, t: tf.Tensor) => {
      expect(relErr(t.dataSync(), get(name).data), name).toBeLessThan(1e-4);
      t.dispose();
    };
    check('output.y', mla.forward(x));
    const params = mla.namedParameters('self_attn.');
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(mla.forward(x), dy)) as tf.Scalar, [...params.values()]);
    value.dispose();
    for (const [n, v] of params) check(`grad.${n}`, grads[v.name]);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(mla.forward(xx), dy)))(x);
    check('grad.x', gx);
    const full = mla.prefill(x);
    check('output.kv_cache', full.cache.c!.clone());
    check('output.pe_cache', full.cache.kPe!.clone());
    full.y.dispose();
    full.cache.dispose();
    const head = mla.prefill(x.slice([0, 0, 0], [-1, S - 1, -1]));
    head.y.dispose();
    check('output.y_decode_last', mla.decode(x.slice([0, S - 1, 0], [-1, 1, -1]), head.cache).squeeze([1]));
    head.cache.dispose();
    tf.dispose([x, dy]);
    mla.dispose();
  });
});

describe('Mla vs a float64 reference (config variants)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  const variants: [string, MlaConfig][] = [
    ['q_lora_rank null', { ...base, q_lora_rank: null }],
    ['rope_scaling null', { ...base, rope_scaling: null }],
    ['both null', { ...base, q_lora_rank: null, rope_scaling: null }],
    ['YaRN + q_lora', base],
  ];
  for (const [name, config] of variants) {
    it(`${name}: forward, prefill-then-decode at several lengths, batch 2`, () => {
      const mla = new Mla(config, new Rng(7), 0.3);
      const p = params64(mla);
      const B = 2;
      const S = 9;
      const x = tf.randomNormal([B, S, config.hidden_size], 0, 1, 'float32', 3);
      const start = 5;
      const ref = rows(x).map((row) => mlaRow64(config, p, row, row.map((_, t) => start + t)).y); // [B][S][D]
      const y = mla.forward(x, { startPos: start });
      expect(relErr(y.dataSync(), ref.flat(2))).toBeLessThan(2e-5);
      for (const prefix of [1, 4, 8]) {
        const { y: yp, cache } = mla.prefill(x.slice([0, 0, 0], [-1, prefix, -1]), { startPos: start });
        expect(cache.length).toBe(prefix);
        const outs = [yp];
        for (let t = prefix; t < S; t++) outs.push(mla.decode(x.slice([0, t, 0], [-1, 1, -1]), cache)); // positions from the cache
        expect(cache.length).toBe(S);
        const yd = tf.concat(outs, 1);
        expect(relErr(yd.dataSync(), ref.flat(2)), `prefix ${prefix}`).toBeLessThan(2e-5);
        tf.dispose([...outs, yd]);
        cache.dispose();
      }
      // A chunked decode (T > 1 new tokens) takes the tiled causal path.
      const { y: y0, cache } = mla.prefill(x.slice([0, 0, 0], [-1, 3, -1]), { startPos: start });
      const y1 = mla.decode(x.slice([0, 3, 0], [-1, S - 3, -1]), cache);
      const both = tf.concat([y0, y1], 1);
      expect(relErr(both.dataSync(), ref.flat(2))).toBeLessThan(2e-5);
      tf.dispose([x, y, y0, y1, both]);
      cache.dispose();
      mla.dispose();
    });
  }

  it('gradients without q_lora_rank match a float64 finite difference of the reference', () => {
    const config = { ...base, q_lora_rank: null, rope_scaling: null };
    const mla = new Mla(config, new Rng(3), 0.3);
    const p = params64(mla);
    const x = tf.randomNormal([1, 5, config.hidden_size], 0, 1, 'float32', 4);
    const dy = tf.randomNormal([1, 5, config.hidden_size], 0, 1, 'float32', 5);
    const dyv = dy.dataSync();
    const xs = rows(x)[0];
    const pos = xs.map((_, t) => t);
    const objective = (pp: Params) => mlaRow64(config, pp, xs, pos).y.flat().reduce((a, v, i) => a + v * dyv[i], 0);
    const params = mla.namedParameters();
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(mla.forward(x), dy)) as tf.Scalar);
    value.dispose();
    for (const [n, v] of params) {
      // Directional derivative along a fixed random direction, central differences in float64.
      const dir = new Rng(11).normalArray(v.size, 1);
      const h = 1e-5;
      const plus = { ...p, [n]: p[n].map((w, i) => w + h * dir[i]) };
      const minus = { ...p, [n]: p[n].map((w, i) => w - h * dir[i]) };
      const fd = (objective(plus) - objective(minus)) / (2 * h);
      const g = Array.from(grads[v.name].dataSync());
      const an = g.reduce((a, gi, i) => a + gi * dir[i], 0);
      expect(Math.abs(an - fd) / Math.abs(fd), n).toBeLessThan(1e-3);
    }
    tf.dispose(Object.values(grads));
    tf.dispose([x, dy]);
    mla.dispose();
  });

  it('left-padded rows with per-row positions and a key mask equal the unpadded rows', () => {
    const mla = new Mla(base, new Rng(5), 0.3);
    const p = params64(mla);
    const S = 6;
    const pad = 2;
    const x = tf.randomNormal([2, S, base.hidden_size], 0, 1, 'float32', 6);
    const keyMask = tf.tensor2d([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]);
    const positions = [[0, 0, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5]];
    const xr = rows(x);
    const y = rows(mla.forward(x, { positions, keyMask }));
    const ref0 = mlaRow64(base, p, xr[0].slice(pad), [0, 1, 2, 3]).y;
    const ref1 = mlaRow64(base, p, xr[1], positions[1]).y;
    expect(relErr(y[0].slice(pad).flat(), ref0.flat())).toBeLessThan(2e-5);
    expect(relErr(y[1].flat(), ref1.flat())).toBeLessThan(2e-5);
    // Prefill the padded prompt, then decode two tokens: each row continues from its own length.
    const { y: yp, cache } = mla.prefill(x.slice([0, 0, 0], [-1, 4, -1]), { positions: positions.map((r) => r.slice(0, 4)), keyMask: keyMask.slice([0, 0], [-1, 4]) });
    expect(cache.nextPositions).toEqual([2, 4]);
    const y4 = rows(mla.decode(x.slice([0, 4, 0], [-1, 1, -1]), cache));
    const y5 = rows(mla.decode(x.slice([0, 5, 0], [-1, 1, -1]), cache));
    expect(relErr([...y4[0][0], ...y5[0][0]], [...ref0[2], ...ref0[3]])).toBeLessThan(2e-5);
    expect(relErr([...y4[1][0], ...y5[1][0]], [...ref1[4], ...ref1[5]])).toBeLessThan(2e-5);
    tf.dispose([x, keyMask, yp]);
    cache.dispose();
    mla.dispose();
  });

  it('keeps tf.memory().numTensors flat over 50 forward/backward steps and decodes', () => {
    const mla = new Mla(base, new Rng(1));
    const x = tf.randomNormal([2, 7, base.hidden_size]);
    const opt = tf.train.sgd(1e-3);
    const step = () => {
      const cost = opt.minimize(() => tf.mean(tf.square(mla.forward(x))) as tf.Scalar, true);
      cost?.dispose();
      const { y, cache } = mla.prefill(x);
      tf.tidy(() => { mla.decode(x.slice([0, 0, 0], [-1, 1, -1]), cache); });
      y.dispose();
      cache.dispose();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    opt.dispose();
    mla.dispose();
  });
});
