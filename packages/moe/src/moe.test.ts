import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend, Rng } from '@r1-ts/tensor-kernels';
import { MoE } from './moe';
import { sequenceBalanceLoss } from './balance';
import type { MoeConfig } from './config';
import { refMoe, refSeqAuxLoss, relErr } from '../test/reference';
import type { RefParams } from '../test/reference';
import { paramsOf, randn, randomMoe, tinyConfig } from '../test/util';

const B = 2;
const S = 6;
const T = B * S;

// Configs the shipped fixture does not cover (golden §3: any DeepSeek config).
const variants: Record<string, MoeConfig> = {
  'V3 noaux_tc, negative bias': tinyConfig,
  'softmax greedy, n_group 1, no norm, no shared (V2-Lite)': {
    ...tinyConfig, scoring_func: 'softmax', topk_method: 'greedy', n_group: 1, topk_group: 1,
    norm_topk_prob: false, routed_scaling_factor: 1, n_shared_experts: 0,
  },
  'softmax group_limited_greedy, no norm, 2 shared (V2)': {
    ...tinyConfig, scoring_func: 'softmax', topk_method: 'group_limited_greedy', norm_topk_prob: false,
    routed_scaling_factor: 16, n_shared_experts: 2,
  },
  'sigmoid noaux_tc, n_group 1, K 3, no norm': {
    ...tinyConfig, n_group: 1, topk_group: 1, num_experts_per_tok: 3, norm_topk_prob: false, routed_scaling_factor: 1.5,
  },
  'sigmoid noaux_tc, one expert per group': {
    ...tinyConfig, n_routed_experts: 4, n_group: 4, topk_group: 2, n_shared_experts: 2,
  },
  'sigmoid greedy, 2 groups keep 1, K 3': {
    ...tinyConfig, topk_method: 'greedy', n_group: 2, topk_group: 1, num_experts_per_tok: 3,
  },
};

/** Σ y ⊙ dy of the float64 reference. */
function refObjective(c: MoeConfig, p: RefParams, x: ArrayLike<number>, dy: Float32Array): number {
  const { y } = refMoe(c, p, x, T);
  return y.reduce((a, v, i) => a + v * dy[i], 0);
}

/** Central differences of f at a few coordinates of `values` (modified in place, then restored). */
function finiteDiff(values: Float64Array, coords: number[], f: () => number, h = 1e-5): number[] {
  return coords.map((i) => {
    const v = values[i];
    values[i] = v + h;
    const up = f();
    values[i] = v - h;
    const down = f();
    values[i] = v;
    return (up - down) / (2 * h);
  });
}

const pick = (n: number, count: number) => Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * n) / count));

describe.each(['cpu', 'wasm'] as const)('MoE on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  describe.each(Object.entries(variants))('%s', (_, config) => {
    it('routing, output, aux loss and gradients match the float64 reference', () => {
      const D = config.hidden_size;
      const moe = randomMoe(config, 7);
      const p = paramsOf(moe);
      const xData = randn(T * D, 11);
      const dyData = randn(T * D, 12);
      const { y: yRef, routing } = refMoe(config, p, xData, T);
      expect(routing.minMargin, 'test data too close to a tie to be meaningful').toBeGreaterThan(1e-5);

      const x = tf.variable(tf.tensor3d(xData, [B, S, D]));
      const dy = tf.tensor3d(dyData, [B, S, D]);
      tf.tidy(() => {
        const r = moe.forwardWithRouting(x as tf.Tensor3D);
        expect(Array.from(r.topkIdx.dataSync())).toEqual(routing.topkIdx.flat());
        expect(Array.from(r.expertLoad)).toEqual(routing.load);
        expect(relErr(r.topkWeight.dataSync(), routing.topkWeight.flat())).toBeLessThan(1e-5);
        expect(relErr(r.y.dataSync(), yRef)).toBeLessThan(1e-5);
        const aux = sequenceBalanceLoss(r.scores, r.topkIdx, 1e-4).dataSync()[0];
        const auxRef = refSeqAuxLoss(config, routing, B, S, 1e-4);
        expect(Math.abs(aux - auxRef) / auxRef).toBeLessThan(1e-5);
      });

      // Gradients of Σ y ⊙ dy vs central differences of the reference at sampled coordinates.
      const gateW = p.get('mlp.gate.weight')!;
      const down = p.get('mlp.experts.1.down_proj.weight')!;
      const x64 = Float64Array.from(xData);
      const f = () => refObjective(config, p, x64, dyData);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(moe.forward(x as tf.Tensor3D), dy)) as tf.Scalar,
        [x, moe.gate.weight, moe.experts[1].downProj],
      );
      const sampled = (g: tf.Tensor, coords: number[]) => coords.map((i) => g.dataSync()[i]);
      const cx = pick(T * D, 10);
      const cw = pick(gateW.length, 10);
      const cd = pick(down.length, 6);
      expect(relErr(sampled(grads[x.name], cx), finiteDiff(x64, cx, f))).toBeLessThan(1e-3);
      expect(relErr(sampled(grads[moe.gate.weight.name], cw), finiteDiff(gateW, cw, f))).toBeLessThan(1e-3);
      if (routing.load[1] > 0) {
        expect(relErr(sampled(grads[moe.experts[1].downProj.name], cd), finiteDiff(down, cd, f))).toBeLessThan(1e-3);
      }
      // The aux loss reaches the gate weight through P only.
      const auxGrad = tf.variableGrads(() => {
        const r = moe.forwardWithRouting(x as tf.Tensor3D);
        return sequenceBalanceLoss(r.scores, r.topkIdx);
      }, [moe.gate.weight]);
      const fAux = () => refSeqAuxLoss(config, refMoe(config, p, x64, T).routing, B, S, 1e-4);
      expect(relErr(sampled(auxGrad.grads[moe.gate.weight.name], cw), finiteDiff(gateW, cw, fAux))).toBeLessThan(1e-3);

      tf.dispose([...Object.values(grads), ...Object.values(auxGrad.grads), auxGrad.value, x, dy]);
      moe.dispose();
    });
  });

  it('output does not depend on token order', () => {
    const D = tinyConfig.hidden_size;
    const moe = randomMoe(tinyConfig, 3);
    const xData = randn(T * D, 5);
    const order = [7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6]; // token j of the permuted batch = token order[j]
    const permuted = new Float32Array(T * D);
    order.forEach((src, j) => permuted.set(xData.subarray(src * D, (src + 1) * D), j * D));
    tf.tidy(() => {
      const a = moe.forwardWithRouting(tf.tensor3d(xData, [B, S, D]));
      const b = moe.forwardWithRouting(tf.tensor3d(permuted, [B, S, D]));
      const ya = a.y.dataSync();
      const yExpected = new Float32Array(T * D);
      order.forEach((src, j) => yExpected.set(ya.subarray(src * D, (src + 1) * D), j * D));
      expect(relErr(b.y.dataSync(), yExpected)).toBeLessThan(1e-6);
      const K = tinyConfig.num_experts_per_tok;
      const ia = a.topkIdx.dataSync();
      expect(Array.from(b.topkIdx.dataSync())).toEqual(order.flatMap((src) => Array.from(ia.subarray(src * K, (src + 1) * K))));
      expect(Array.from(b.expertLoad)).toEqual(Array.from(a.expertLoad));
    });
    moe.dispose();
  });

  it('tensor count is flat over 50 forward/backward/optimizer steps', () => {
    const D = tinyConfig.hidden_size;
    const moe = randomMoe(tinyConfig, 4);
    const x = tf.tensor3d(randn(T * D, 6), [B, S, D]);
    const opt = tf.train.sgd(0.01);
    const step = () => {
      let load: Int32Array = new Int32Array(0);
      const cost = opt.minimize(() => {
        const r = moe.forwardWithRouting(x);
        load = r.expertLoad;
        return tf.add(tf.mean(tf.square(r.y)), sequenceBalanceLoss(r.scores, r.topkIdx)) as tf.Scalar;
      }, true, moe.trainableVariables());
      cost?.dispose();
      moe.updateBias(load);
    };
    step(); // the optimizer creates its state on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    // Inference outside any tidy: only y survives, and disposing it restores the count.
    for (let i = 0; i < 5; i++) moe.forward(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    x.dispose();
    moe.dispose();
  });

  it('names parameters as the checkpoint does', () => {
    const small = new MoE({ ...tinyConfig, n_routed_experts: 4, n_group: 2, topk_group: 1 }, new Rng(0));
    const names = [...small.namedParameters('mlp.').keys()];
    expect(names.slice(0, 2)).toEqual(['mlp.gate.weight', 'mlp.gate.e_score_correction_bias']);
    expect(names).toContain('mlp.experts.3.up_proj.weight');
    expect(names).toContain('mlp.shared_experts.down_proj.weight');
    expect(names).toHaveLength(2 + 4 * 3 + 3);
    const noShared = new MoE({ ...tinyConfig, topk_method: 'greedy', n_shared_experts: 0 }, new Rng(0));
    expect([...noShared.namedParameters().keys()].some((n) => n.startsWith('shared_experts') || n.includes('bias'))).toBe(false);
    expect(noShared.sharedExperts).toBeNull();
    const wide = new MoE({ ...tinyConfig, n_shared_experts: 2 }, new Rng(0));
    expect(wide.namedParameters().get('shared_experts.gate_proj.weight')!.shape).toEqual([2 * tinyConfig.moe_intermediate_size, tinyConfig.hidden_size]);
    expect(small.trainableVariables()).toHaveLength(names.length - 1); // the bias is not trainable
    [small, noShared, wide].forEach((m) => m.dispose());
  });
});
