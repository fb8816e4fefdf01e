import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend, readSafetensors, Rng } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { MoE } from './moe';
import { sequenceBalanceLoss } from './balance';
import type { MoeConfig } from './config';
import { refMoe, refSeqAuxLoss, relErr } from '../test/reference';

// golden/README.md §4.5 and §5 "moe": the shipped fixture, read directly.
const file = readSafetensors(resolve(__dirname, '../../../test/fixtures/golden/moe.safetensors'));
const config = JSON.parse(file.metadata.config) as MoeConfig;
const extra = JSON.parse(file.metadata.extra);
const rtol = Number(file.metadata.rtol);
const get = (name: string): StoredTensor => {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
};
const params = new Map([...file.tensors].filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice(6), v]));
const { B, S } = extra as { B: number; S: number };
const T = B * S;

describe('float64 reference vs the fixture (validates the reference used for variants)', () => {
  it('routing, output and aux loss', () => {
    const refParams = new Map([...params].map(([k, v]) => [k, v.data]));
    const { y, routing } = refMoe(config, refParams, get('input.x').data, T);
    expect(routing.topkIdx.flat()).toEqual(Array.from(get('output.topk_idx').data));
    expect(relErr(routing.topkWeight.flat(), get('output.topk_weight').data)).toBeLessThan(1e-6);
    expect(relErr(y, get('output.y').data)).toBeLessThan(1e-6);
    expect(routing.load).toEqual(Array.from(get('output.expert_load').data));
    const aux = refSeqAuxLoss(config, routing, B, S, extra.seq_aux_alpha);
    expect(Math.abs(aux - get('output.seq_aux_loss').data[0]) / Math.abs(aux)).toBeLessThan(1e-6);
  });
});

describe.each(['cpu', 'wasm'] as const)('MoE vs golden fixture on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('outputs, statistics and every gradient within rtol', () => {
    const moe = new MoE(config, new Rng(1));
    moe.loadState(params, { prefix: 'mlp.' });
    const x = tf.variable(tf.tensor(get('input.x').data, get('input.x').shape));
    const dy = tf.tensor(get('input.dy').data, get('input.dy').shape);
    const trainable = [...moe.namedParameters('mlp.')].filter(([, v]) => v.trainable);
    const close = (name: string, values: tf.Tensor) => {
      expect(relErr(values.dataSync(), get(name).data), name).toBeLessThan(rtol);
    };
    let load: Int32Array = new Int32Array(0);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const r = moe.forwardWithRouting(x as tf.Tensor3D);
        close('output.y', r.y);
        close('output.topk_weight', r.topkWeight);
        expect(Array.from(r.topkIdx.dataSync())).toEqual(Array.from(get('output.topk_idx').data));
        load = r.expertLoad;
        return tf.sum(tf.mul(r.y, dy)) as tf.Scalar;
      }, [x, ...trainable.map(([, v]) => v)]);
      close('grad.x', grads[x.name]);
      for (const [name, v] of trainable) close(`grad.${name}`, grads[v.name]);
      const aux = tf.variableGrads(() => {
        const r = moe.forwardWithRouting(x as tf.Tensor3D);
        return sequenceBalanceLoss(r.scores, r.topkIdx, extra.seq_aux_alpha);
      }, [moe.gate.weight]);
      close('output.seq_aux_loss', aux.value);
      close('grad.aux.mlp.gate.weight', aux.grads[moe.gate.weight.name]);
    });
    expect(Array.from(load)).toEqual(Array.from(get('output.expert_load').data));
    expect(trainable.some(([n]) => n.includes('bias'))).toBe(false);
    moe.updateBias(load, extra.bias_update_gamma);
    close('output.bias_updated', moe.gate.eScoreCorrectionBias!);
    x.dispose();
    dy.dispose();
    moe.dispose();
  });
});
