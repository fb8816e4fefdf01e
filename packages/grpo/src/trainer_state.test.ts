import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, initBackend, parseSafetensors, serializeSafetensors } from '@r1-ts/tensor-kernels';
import { GrpoTrainer } from './trainer';
import type { GrpoTrainerOptions } from './options';
import { ToyPolicy, fractionB } from './testing/toy_policy';

type Sample = { prompt: number[] };
const dataset: Sample[] = [{ prompt: [0] }, { prompt: [1] }, { prompt: [2] }, { prompt: [1] }, { prompt: [0] }];

const options = (policy: ToyPolicy, over: Partial<GrpoTrainerOptions<Sample>> = {}): GrpoTrainerOptions<Sample> => ({
  policy, dataset, rewardFunctions: [fractionB], numGenerations: 4, promptsPerStep: 2, maxCompletionLength: 5,
  learningRate: 0.05, beta: 0.04, numIterations: 2, miniBatchSize: 4, dynamicSampling: true, seed: 3, quiet: true, ...over,
});

/** Bytes of a tensor's float32 values (exact comparison). */
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

describe('GrpoTrainer.getState / setState', () => {
  it('a trainer restored from a state saved at step 3 (through safetensors + JSON) continues bit-identically', async () => {
    // Uninterrupted: 6 steps; the state is taken at step 3 and serialized as a checkpoint would.
    const a = new ToyPolicy();
    const ta = new GrpoTrainer<Sample>(options(a));
    for (let i = 0; i < 3; i++) await ta.step();
    const snap = await ta.getState();
    const json = JSON.stringify(snap.state);
    const bytes = serializeSafetensors(snap.tensors);
    const policyAt3 = tf.clone(a.table);
    const refAt3 = tf.clone((ta.reference as ToyPolicy).table);
    const restAfter: number[] = [];
    for (let i = 0; i < 3; i++) restAfter.push((await ta.step()).metrics.reward);
    const finalA = bits(a.table);

    // Resumed: a fresh trainer (another seed, to show nothing comes from it) on the step-3 weights.
    const b = new ToyPolicy(policyAt3);
    const tb = new GrpoTrainer<Sample>(options(b, { seed: 999 }));
    await tb.setState({ state: JSON.parse(json), tensors: parseSafetensors(bytes).tensors }, { reference: new ToyPolicy(refAt3) });
    expect(tb.stepCount).toBe(3);
    const restB: number[] = [];
    for (let i = 0; i < 3; i++) restB.push((await tb.step()).metrics.reward);
    expect(restB).toEqual(restAfter);
    expect(bits(b.table)).toEqual(finalA);
    expect(tb.optimizerStepCount).toBe(ta.optimizerStepCount);

    // Without restoring, the same resumed weights diverge (the check above can fail).
    const c = new ToyPolicy(tf.clone(policyAt3));
    const tc = new GrpoTrainer<Sample>(options(c, { seed: 999 }));
    for (let i = 0; i < 3; i++) await tc.step();
    expect(bits(c.table)).not.toEqual(finalA);
    for (const t of [ta, tb, tc]) t.dispose();
    for (const p of [a, b, c]) p.dispose();
  });

  it('keeps Adam’s bias-correction accumulators exactly (not recomputed with pow)', async () => {
    const p = new ToyPolicy();
    const t = new GrpoTrainer<Sample>(options(p, { beta: 0 }));
    for (let i = 0; i < 4; i++) await t.step();
    const { state, tensors } = await t.getState();
    expect(state.optimizer.className).toBe('Adam');
    expect(state.optimizer.iterations).toBe(t.optimizerStepCount);
    expect(state.optimizer.variables).toEqual(['optimizer.accBeta1', 'optimizer.accBeta2']);
    expect(state.reference).toBeNull();
    const acc = tensors['optimizer.accBeta2'].dataSync()[0];
    // accBeta2 = fl(fl(β2·β2)·β2…): a float32 product, one factor per update after the first.
    let want = Math.fround(0.999);
    for (let i = 0; i < state.optimizer.iterations; i++) want = Math.fround(want * Math.fround(0.999));
    expect(acc).toBe(want);
    t.dispose();
    p.dispose();
  });

  it('rejects a state that does not fit: another dataset, a missing reference, after a step', async () => {
    const p = new ToyPolicy();
    const t = new GrpoTrainer<Sample>(options(p));
    await t.step();
    const snap = await t.getState();
    const state = JSON.parse(JSON.stringify(snap.state));
    const tensors = parseSafetensors(serializeSafetensors(snap.tensors)).tensors;
    const other = new GrpoTrainer<Sample>({ ...options(new ToyPolicy()), dataset: dataset.slice(0, 2) });
    await expect(other.setState({ state, tensors })).rejects.toThrow(CheckpointError);
    const fresh = new GrpoTrainer<Sample>(options(new ToyPolicy()));
    await expect(fresh.setState({ state, tensors })).rejects.toThrow(/reference/);
    await expect(t.setState({ state, tensors }, { reference: new ToyPolicy() })).rejects.toThrow(ConfigError);
    await expect(fresh.setState({ state: { ...state, format: 'x' }, tensors })).rejects.toThrow(/unknown format/);
    for (const x of [t, other, fresh]) x.dispose();
    p.dispose();
  });

  it('leaves no tensors behind across save/restore cycles', async () => {
    const p = new ToyPolicy();
    let t = new GrpoTrainer<Sample>(options(p, { beta: 0 }));
    await t.step();
    const cycle = async () => {
      const snap = await t.getState();
      const bytes = serializeSafetensors(snap.tensors);
      const next = new GrpoTrainer<Sample>(options(p, { beta: 0 }));
      await next.setState({ state: snap.state, tensors: parseSafetensors(bytes).tensors });
      t.dispose();
      t = next;
      await t.step();
    };
    await cycle();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await cycle();
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    p.dispose();
  });
});
