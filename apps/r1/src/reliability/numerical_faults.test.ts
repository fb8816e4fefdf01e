// Issue #11's numerical faults: a non-finite loss or gradient skips the update (weights and optimizer
// state unchanged), the step is logged as skipped, and N consecutive faults stop a stage with a
// clear message and a usable last checkpoint.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { R1Error, initBackend } from '@r1-ts/tensor-kernels';
import { AdamW, CharTokenizer, DeepSeekModel, DeepSeekPolicy, SPECIAL_TOKENS, loadCheckpoint, presets, sftBatch, trainStep } from '@r1-ts/model';
import type { Tokenizer } from '@r1-ts/model';
import { GrpoTrainer } from '@r1-ts/grpo';
import type { Policy, TrainerEvent } from '@r1-ts/grpo';
import { RunDir } from '@r1-ts/pipeline';
import type { PipelineEvent } from '@r1-ts/pipeline';
// The stage runners are internal to @r1-ts/pipeline (runRecipe drives them); tested here directly.
import { MAX_CONSECUTIVE_FAULTS, runSftStage } from '../../../../packages/pipeline/src/sft_stage';
import { runRlStage } from '../../../../packages/pipeline/src/rl_stage';

const dir = mkdtempSync(join(tmpdir(), 'r1-faults-'));
const data = [
  { prompt: 'What is 1+2?', completion: '<think>1+2=3</think><answer>3</answer>' },
  { prompt: 'What is 2+2?', completion: '<think>2+2=4</think><answer>4</answer>' },
];
let tokenizer: Tokenizer;

const config = () => ({
  ...presets.tiny, vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, q_lora_rank: 16, kv_lora_rank: 16,
  num_nextn_predict_layers: 0, max_position_embeddings: 64,
});

/** Float copies of every parameter. */
const snapshot = (m: DeepSeekModel) => new Map([...m.namedParameters()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
const expectSame = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
};

/** Makes `model.loss` return a NaN total on the calls `bad` selects (counting from 1). */
function poison(model: DeepSeekModel, bad: (call: number) => boolean, onCall?: (call: number) => void): void {
  const loss = model.loss.bind(model);
  let calls = 0;
  model.loss = ((tokens: tf.Tensor, options: never) => {
    calls++;
    onCall?.(calls);
    const res = loss(tokens as never, options);
    return bad(calls) ? { ...res, total: tf.mul(res.total, NaN) } : res;
  }) as typeof model.loss;
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  tokenizer = CharTokenizer.fromCorpus([Object.values(SPECIAL_TOKENS).join(''), ...data.flatMap((d) => [d.prompt, d.completion])]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a non-finite step changes nothing', () => {
  it('trainStep with a NaN weight: skipped, weights and optimizer untouched, no tensor leaked', () => {
    const model = new DeepSeekModel(config(), { seed: 0 });
    const opt = new AdamW(model.namedParameters(), { lr: 1e-2 });
    const batch = sftBatch(tokenizer, data);
    trainStep(model, opt, batch); // one good step so Adam has moments to poison
    const w = model.namedParameters().get('model.norm.weight')!;
    w.assign(tf.fill(w.shape, NaN));
    const before = snapshot(model);
    const optBefore = new Map(Object.entries(opt.stateTensors().tensors).map(([k, t]) => [k, Float32Array.from((t as tf.Tensor).dataSync())]));
    const tensors = tf.memory().numTensors;
    const stats = trainStep(model, opt, batch);
    expect(stats.skipped).toBe(true);
    expect(Number.isFinite(stats.loss)).toBe(false);
    expect(stats.step).toBe(1); // the optimizer did not count it
    expectSame(before, snapshot(model));
    const optAfter = new Map(Object.entries(opt.stateTensors().tensors).map(([k, t]) => [k, Float32Array.from((t as tf.Tensor).dataSync())]));
    expectSame(optBefore, optAfter);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([batch.tokens, batch.lossMask]);
    opt.disposeState();
    model.dispose();
  });

  it('GrpoTrainer with a NaN policy loss: the update is skipped and reported in metrics.skipped', async () => {
    const model = new DeepSeekModel(config(), { seed: 0 });
    const inner = new DeepSeekPolicy(model, tokenizer);
    let poisoned = true;
    let afterSteps = 0;
    // A wrapper whose log-probabilities turn NaN while `poisoned`: loss and gradients are NaN.
    const policy: Policy = {
      generate: (p, o) => inner.generate(p, o),
      logProbs: (b, o) => (poisoned ? tf.tidy(() => tf.mul(inner.logProbs(b, o), NaN)) : inner.logProbs(b, o)) as tf.Tensor2D,
      trainableVariables: () => inner.trainableVariables(),
      clone: () => inner.clone(),
      freeze: () => inner.freeze(),
      afterOptimizerStep: (s) => {
        afterSteps++;
        inner.afterOptimizerStep();
      },
      dispose: () => inner.dispose(),
    } as Policy;
    const events: TrainerEvent[] = [];
    const trainer = new GrpoTrainer({
      policy, dataset: [{ prompt: 'What is 1+2?' }], rewardFunctions: [(c: string) => c.length / 10], numGenerations: 2,
      promptsPerStep: 1, maxCompletionLength: 4, learningRate: 1e-2, seed: 0, quiet: true, onEvent: (e) => events.push(e),
    });
    const before = snapshot(model);
    const bad = await trainer.step();
    expect(bad.metrics.skipped).toBe(1);
    expect(Number.isFinite(bad.metrics.loss)).toBe(false);
    expectSame(before, snapshot(model));
    expect(afterSteps).toBe(0);
    expect(trainer.optimizerStepCount).toBe(0);
    expect(events.some((e) => e.type === 'warning' && /step 1: update skipped, loss NaN/.test(e.message))).toBe(true);
    // Adam's moments were not poisoned: the next finite step trains normally.
    poisoned = false;
    const good = await trainer.step();
    expect(good.metrics.skipped).toBe(0);
    expect(Number.isFinite(good.metrics.grad_norm)).toBe(true);
    const after = snapshot(model);
    expect([...after.values()].every((v) => v.every(Number.isFinite))).toBe(true);
    expect([...after].some(([k, v]) => v.some((x, i) => x !== before.get(k)![i]))).toBe(true);
    trainer.dispose();
    policy.dispose();
  });
});

describe('GRPO on an MoE policy', () => {
  it('survives updates in which different experts get gradients (tf.train slots are positional)', async () => {
    const model = new DeepSeekModel(config(), { seed: 0 });
    const policy = new DeepSeekPolicy(model, tokenizer);
    const trainer = new GrpoTrainer({
      policy, dataset: [{ prompt: 'What is 1+2?' }], rewardFunctions: [(c: string) => c.length / 10], numGenerations: 2,
      promptsPerStep: 1, maxCompletionLength: 4, learningRate: 1e-2, seed: 0, quiet: true,
    });
    // Before the fix the second update crashed: "shape of the new value (32,32) and previous value (32) must match".
    for (let i = 0; i < 3; i++) expect(Number.isFinite((await trainer.step()).metrics.grad_norm)).toBe(true);
    expect(trainer.optimizerStepCount).toBe(3);
    trainer.dispose();
    policy.dispose();
  });
});

describe('a stage under numerical faults (runSftStage)', () => {
  const stage = (name: string, bad: (call: number) => boolean, steps: number, checkpointEvery: number, onCall?: (call: number, m: DeepSeekModel) => void) => {
    const run = new RunDir(join(dir, name));
    run.ensure();
    const events: PipelineEvent[] = [];
    const ctx = { run, tokenizer, seed: 0, emit: (e: PipelineEvent) => events.push(e) };
    const init = () => {
      const m = new DeepSeekModel(config(), { seed: 0 });
      poison(m, bad, (call) => onCall?.(call, m));
      return m;
    };
    const go = () => runSftStage(ctx, 'cold-start', init, data, { steps, batchSize: 2, lr: 3e-3, checkpointEvery });
    return { run, events, go };
  };

  it('isolated faults are logged and skipped, and the stage finishes', () => {
    const { run, events, go } = stage('isolated', (c) => c === 2 || c === 4, 6, 3);
    expect(go()).toBe(run.path('cold-start', 'ckpt-6'));
    const rows = run.readJsonl('metrics.jsonl');
    expect(rows.map((r) => r.skipped)).toEqual([0, 1, 0, 1, 0, 0]);
    const logs = events.filter((e): e is Extract<PipelineEvent, { type: 'log' }> => e.type === 'log').map((e) => e.message);
    expect(logs).toEqual([
      expect.stringMatching(/^cold-start step 2: update skipped \(loss NaN, grad_norm NaN\); 1 in a row$/),
      expect.stringMatching(/^cold-start step 4: update skipped \(loss NaN, grad_norm NaN\); 1 in a row$/),
    ]);
  });

  it(`${MAX_CONSECUTIVE_FAULTS} faults in a row stop the stage, saving the last good weights`, () => {
    let lastGood: Map<string, Float32Array> | null = null;
    // Steps 1–4 train; from step 5 every loss is NaN. Checkpoints every 3 steps: ckpt-3 is older than
    // step 4, and ckpt-6 (mid-streak) already holds step 4's weights, so nothing new is saved.
    const { run, events, go } = stage('diverged', (c) => c >= 5, 20, 3, (call, m) => {
      if (call === 5) lastGood = snapshot(m);
    });
    const e = (() => {
      try {
        go();
      } catch (err) {
        return err as Error;
      }
      throw new Error('the stage did not stop');
    })();
    expect(e).toBeInstanceOf(R1Error);
    expect((e as R1Error).code).toBe('E_NONFINITE');
    expect(e.message).toMatch(/^cold-start: stopped at step 9 after 5 consecutive non-finite steps \(5-9; last: loss NaN, grad_norm NaN\); last good checkpoint: .*cold-start\/ckpt-6 \(the weights of step 4\)$/);
    const rows = run.readJsonl('metrics.jsonl');
    expect(rows.map((r) => r.skipped)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(events.filter((ev) => ev.type === 'log')).toHaveLength(5);
    expect(existsSync(run.path('cold-start', 'ckpt-3'))).toBe(true);
    expect(run.latestCheckpoint('cold-start')).toEqual({ dir: run.path('cold-start', 'ckpt-6'), step: 6 });
    const { model } = loadCheckpoint(run.path('cold-start', 'ckpt-6'));
    expectSame(lastGood!, snapshot(model));
    model.dispose();
  });

  it('when the last checkpoint is older than the last good step, one is saved before stopping', () => {
    let lastGood: Map<string, Float32Array> | null = null;
    // No scheduled checkpoint before the faults (every 10 steps): ckpt-7 is written on the way out.
    const { run, go } = stage('diverged-unsaved', (c) => c >= 3, 20, 10, (call, m) => {
      if (call === 3) lastGood = snapshot(m);
    });
    expect(() => go()).toThrow(/^cold-start: stopped at step 7 after 5 consecutive non-finite steps \(3-7; .*\); last good checkpoint: .*cold-start\/ckpt-7 \(the weights of step 2\)$/);
    expect(run.latestCheckpoint('cold-start')).toEqual({ dir: run.path('cold-start', 'ckpt-7'), step: 7 });
    expect(run.state().current).toEqual({ stage: 'cold-start', step: 7 });
    const { model } = loadCheckpoint(run.path('cold-start', 'ckpt-7'));
    expectSame(lastGood!, snapshot(model));
    model.dispose();
  });
});

describe('an RL stage under numerical faults (runRlStage)', () => {
  it(`${MAX_CONSECUTIVE_FAULTS} NaN policy losses in a row stop the stage with a usable checkpoint`, async () => {
    const run = new RunDir(join(dir, 'rl'));
    run.ensure();
    const events: PipelineEvent[] = [];
    const ctx = { run, tokenizer, seed: 0, emit: (e: PipelineEvent) => events.push(e) };
    const model = new DeepSeekModel(config(), { seed: 0 });
    let lastGood: Map<string, Float32Array> | null = null;
    let calls = 0;
    // Steps 1–2 train; from step 3 the policy's log-probabilities (so loss and gradients) are NaN.
    const logProbs = DeepSeekPolicy.prototype.logProbs;
    const spy = vi.spyOn(DeepSeekPolicy.prototype, 'logProbs').mockImplementation(function (this: DeepSeekPolicy, b, o) {
      calls++;
      if (calls === 3) lastGood = snapshot(this.model);
      const lp = logProbs.call(this, b, o);
      return calls >= 3 ? tf.tidy(() => tf.mul(lp, NaN) as tf.Tensor2D) : lp;
    });
    const rl = {
      steps: 20, promptsPerStep: 1, numGenerations: 2, lr: 1e-2, beta: 0, temperature: 1, topP: 1, maxCompletionLength: 4,
      epsilonLow: 0.2, epsilonHigh: 0.28, dynamicSampling: false, checkpointEvery: 10,
    };
    try {
      const reward = { name: 'length', fn: (c: string) => c.length / 10, weight: 1 };
      await expect(runRlStage(ctx, 'reasoning-rl', () => model, [{ prompt: 'What is 1+2?' }], [reward], rl, 'grpo')).rejects.toThrow(
        /^reasoning-rl: stopped at step 7 after 5 consecutive non-finite steps \(3-7; last: loss NaN, grad_norm NaN\); last good checkpoint: .*reasoning-rl\/ckpt-7 \(the weights of step 2\)$/,
      );
    } finally {
      spy.mockRestore();
    }
    expect(run.readJsonl('metrics.jsonl').map((r) => r.skipped)).toEqual([0, 0, 1, 1, 1, 1, 1]);
    expect(events.filter((e) => e.type === 'log')).toHaveLength(5);
    const { model: saved } = loadCheckpoint(run.path('reasoning-rl', 'ckpt-7'));
    expectSame(lastGood!, snapshot(saved));
    saved.dispose();
  });
});
