import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, disposeBackend, initBackend, Rng } from '@r1-ts/tensor-kernels';
import { expertLoadStats, ExpertLoadTracker, sequenceBalanceLoss } from './balance';
import { MoE } from './moe';
import { tinyConfig } from '../test/util';

describe('expert load statistics', () => {
  it('summarises loads', () => {
    const s = expertLoadStats([4, 2, 2, 0]);
    expect(s.total).toBe(8);
    expect(s.mean).toBe(2);
    expect(s.maxOverMean).toBe(2);
    expect(s.minOverMean).toBe(0);
    expect(s.cv).toBeCloseTo(Math.sqrt(2) / 2, 12);
    expect(expertLoadStats([0, 0]).maxOverMean).toBe(0);
  });

  it('accumulates over micro-batches and resets', () => {
    const tracker = new ExpertLoadTracker(3);
    tracker.add([1, 2, 3]);
    tracker.add(Int32Array.from([3, 0, 1]));
    expect(tracker.loads).toEqual([4, 2, 4]);
    expect(tracker.batches).toBe(2);
    expect(tracker.stats().max).toBe(4);
    tracker.reset();
    expect(tracker.loads).toEqual([0, 0, 0]);
    expect(() => tracker.add([1, 2])).toThrow(RangeError);
  });
});

describe('bias update and balance loss (cpu)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('updateBias moves b by γ·sign(mean − load), sign(0) = 0', () => {
    const moe = new MoE({ ...tinyConfig, n_routed_experts: 4, n_group: 2, topk_group: 1 }, new Rng(0));
    moe.updateBias([5, 1, 3, 3], 0.5); // mean 3
    expect(Array.from(moe.gate.eScoreCorrectionBias!.dataSync())).toEqual([-0.5, 0.5, 0, 0]);
    moe.updateBias([1, 1, 1, 1]); // balanced: no change, even though mean is computed
    expect(Array.from(moe.gate.eScoreCorrectionBias!.dataSync())).toEqual([-0.5, 0.5, 0, 0]);
    expect(() => moe.updateBias([1, 2])).toThrow(RangeError);
    moe.dispose();
  });

  it('updateBias is refused without a correction bias', () => {
    const moe = new MoE({ ...tinyConfig, topk_method: 'greedy' }, new Rng(0));
    expect(() => moe.updateBias(new Array(8).fill(1))).toThrow(ConfigError);
    moe.dispose();
  });

  it('sequenceBalanceLoss follows V3 eqs. 17–20 on a hand-worked case', () => {
    // B 2, S 2, E 2, K 1. Sequence 0: both tokens pick expert 0 → f = [2, 0];
    // P = mean of row-normalised scores = [(0.5 + 0.75)/2, ...] = [0.625, 0.375] → 1.25.
    // Sequence 1: one token each → f = [1, 1] → Σ P = 1. Mean 1.125, × α.
    const scores = tf.tensor3d([[[0.4, 0.4], [0.6, 0.2]], [[0.1, 0.3], [0.5, 0.5]]]);
    const idx = tf.tensor3d([[[0], [0]], [[1], [0]]], undefined, 'int32');
    expect(sequenceBalanceLoss(scores, idx, 2).dataSync()[0]).toBeCloseTo(2 * 1.125, 6);
    expect(() => sequenceBalanceLoss(scores, tf.zeros([1, 2, 1], 'int32') as tf.Tensor3D)).toThrow(RangeError);
    tf.dispose([scores, idx]);
  });
});
