// End to end: GrpoTrainer with an EnginePolicy against TWO `r1 serve` child processes on loopback,
// weights synced by disk after every step. Checks each rollout's weights version, that the engines'
// logprobs equal the trainer's recomputation (so the servers really load each synced version), the
// TIS/MIS metrics, and that SIGKILLing one server mid-step loses and duplicates nothing.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { DeepSeekPolicy, loadCheckpoint, openThinkSuffix, saveCheckpoint } from '@r1-ts/model';
import type { DeepSeekModel, Tokenizer } from '@r1-ts/model';
import { DiskWeightSync, EnginePolicy, GrpoTrainer } from '@r1-ts/grpo';
import type { TrainerEvent } from '@r1-ts/grpo';
import type { TaskSample } from '@r1-ts/tasks';
import { startServe } from '../commands/testing/cli';
import { makeTinyCheckpoint } from './tiny_checkpoint';

const dir = mkdtempSync(join(tmpdir(), 'r1-engine-e2e-'));
const ckpt = join(dir, 'ckpt');
const children: ChildProcess[] = [];
let urls: string[] = [];
let train: TaskSample[];

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  train = makeTinyCheckpoint(ckpt, { steps: 6 }).train;
  urls = (await Promise.all([startServe(ckpt, { backend: 'wasm' }), startServe(ckpt, { backend: 'wasm' })])).map(({ child, url }) => (children.push(child), url));
}, 180_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Fraction of digits in a completion: a reward with spread, so every step changes the weights. */
const digits = (c: string) => [...c].filter((ch) => /\d/.test(ch)).length / Math.max(1, c.length);

describe('GRPO on two r1 serve processes', () => {
  it('trains with disk sync; versions, logprob agreement, TIS/MIS metrics; survives SIGKILL of one server', async () => {
    const { model, tokenizer } = loadCheckpoint(ckpt) as { model: DeepSeekModel; tokenizer: Tokenizer };
    const local = new DeepSeekPolicy(model, tokenizer);
    const policy = new EnginePolicy({
      policy: local,
      engine: { urls, vocabSize: tokenizer.vocabSize, timeoutMs: 60_000, maxConcurrency: 4 },
      sync: new DiskWeightSync({ dir: join(dir, 'weights'), modelName: 'tiny', save: (d) => void saveCheckpoint(d, model, tokenizer) }),
      encode: (p) => local.encodePrompt(p),
      decode: (p, c) => openThinkSuffix(tokenizer.decode([...p])) + tokenizer.decode([...c], { skipSpecial: true }),
    });
    const events: TrainerEvent[] = [];
    const G = 4;
    const P = 4;
    const trainer = new GrpoTrainer<TaskSample>({
      policy, dataset: train.slice(0, 16), rewardFunctions: [digits], numGenerations: G, promptsPerStep: P,
      maxCompletionLength: 24, learningRate: 3e-3, beta: 0, temperature: 1, seed: 1, quiet: true,
      rolloutCorrection: 'token_mask', rolloutCorrectionCap: 2, onEvent: (e) => events.push(e),
    });

    for (let step = 1; step <= 2; step++) {
      const { rollouts, metrics } = await trainer.step();
      expect(rollouts).toHaveLength(P * G);
      expect(rollouts.every((r) => r.weightsVersion === step - 1)).toBe(true);
      // Same weights on both sides: only float32 rounding (cached decode vs one full forward) differs.
      expect(metrics['sampling/sampling_logp_difference/max']).toBeLessThan(1e-4);
      expect(metrics['sampling/is_capped_frac']).toBe(0);
      expect(metrics['sampling/importance_sampling_ratio/mean']).toBeCloseTo(1, 4);
      expect(Math.abs(metrics['sampling/mismatch_kl'])).toBeLessThan(1e-5);
      expect(metrics.weights_version).toBe(step);
      console.log(`e2e step ${step}: reward ${metrics.reward.toFixed(3)}, max |Δlogp| ${metrics['sampling/sampling_logp_difference/max'].toExponential(2)}`);
    }
    expect(policy.client.stats().every((s) => s.answered > 0)).toBe(true); // both servers served

    // Step 3: SIGKILL the first server while it holds requests.
    const victim = children[0];
    const running = trainer.step();
    const deadline = Date.now() + 60_000;
    while (!(policy.client.stats()[0].inFlight > 0) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(policy.client.stats()[0].inFlight).toBeGreaterThan(0);
    victim.kill('SIGKILL');
    const third = await running;
    expect(policy.client.stats()[0].failures).toBeGreaterThan(0); // the kill hit requests in flight
    expect(third.rollouts).toHaveLength(P * G);
    const perSample = new Map<TaskSample, number>();
    for (const r of third.rollouts) perSample.set(r.sample, (perSample.get(r.sample) ?? 0) + 1);
    expect([...perSample.values()]).toEqual(Array(P).fill(G)); // every group whole: nothing lost or duplicated
    expect(third.rollouts.every((r) => r.weightsVersion === 2)).toBe(true);
    expect(third.metrics['sampling/sampling_logp_difference/max']).toBeLessThan(1e-4);

    // Step 4 runs on the survivor; the sync after step 3 could not reach the dead server.
    const fourth = await trainer.step();
    expect(fourth.rollouts.every((r) => r.weightsVersion === 3)).toBe(true);
    expect(events.some((e) => e.type === 'warning' && e.message.includes(urls[0]))).toBe(true);
    const stats = policy.client.stats();
    expect(stats[0].outOfSync).toBe(true);
    // one answer per request (P per step), none counted twice
    expect(stats[0].answered + stats[1].answered).toBe(4 * P);
    trainer.dispose();
    policy.dispose();
    model.dispose();
  }, 300_000);
});
