// Issue #24: the fast path (BLAS GEMM + the native addon's C loops) and the builtin path (tfjs's GEMM,
// the JS loops) must compute the same training signal on the demo's teacher (MLA + MoE, hidden 64):
// the SFT loss of cold start / rejection-sampling SFT, the GRPO loss of reasoning RL / RL for all (with
// and without the KL term), every parameter gradient, the log-probs of sampled completions (latent
// cache decode vs full forward), the sampled tokens themselves, and an AdamW update — at init and after
// training steps. Compared to float32 tolerance, in one process, on the same inputs.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend, nativeKernels, useGemm } from '@r1-ts/tensor-kernels';
import { AdamW, DeepSeekModel, DeepSeekPolicy } from '@r1-ts/model';
import { buildRunData, coldStartData } from './corpus';
import { resolveRecipeConfig } from './config';
import { stageModelConfig } from './recipe';
import { compareNamed, completionLogProbs, grpoGradients, sampleRlBatch, sftGradients, withComputePath } from './path_compare';
import type { RlBatch } from './path_compare';

/** Relative L2 error (per tensor, worst one) that float32 rounding stays under on this model (measured ≤ 2e-5). */
const GRAD_TOL = 1e-4;
/** Log-probs are O(1): absolute agreement (measured ≤ 1e-5). */
const LOGP_TOL = 1e-4;

const cfg = resolveRecipeConfig('demo', { task: { trainProblems: 200, evalProblems: 8 }, pretrain: { documents: 50 }, rejection: { generalExamples: 8 } });
const data = buildRunData(cfg);
const tok = data.tokenizer;
const sft = coldStartData(data, 16);
const prompts = data.train.slice(0, 4).map((s) => s.prompt);
/** Any reward with spread works for comparing gradients: here the completion's length parity and digits. */
const reward = (text: string) => (text.length % 3) + (/\d/.test(text) ? 1 : 0);

let policy: DeepSeekPolicy;
/** The KL reference: the init weights (after the first updates it differs from the policy, so the KL term has a gradient). */
let reference: DeepSeekPolicy;
let blas = false;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  blas = useGemm('auto').name === 'blas';
  policy = new DeepSeekPolicy(new DeepSeekModel(stageModelConfig(cfg, 'teacher', tok.vocabSize), { seed: 3 }), tok);
  reference = policy.clone();
});
afterAll(() => {
  policy?.dispose();
  reference?.dispose();
});

/** Runs the comparisons at the policy's current weights. */
function checkHere(label: string) {
  const a = withComputePath('fast', () => sftGradients(policy.model, tok, sft));
  const b = withComputePath('builtin', () => sftGradients(policy.model, tok, sft));
  expect(Math.abs(a.loss - b.loss), `${label}: SFT loss`).toBeLessThan(1e-5 * Math.max(1, b.loss));
  const dSft = compareNamed(a.grads, b.grads);
  expect(dSft.worstRelL2, `${label}: SFT gradient of ${dSft.worst}`).toBeLessThan(GRAD_TOL);

  const batch: RlBatch = withComputePath('fast', () => sampleRlBatch(policy, prompts, 4, reward, 11, 12));
  const other = withComputePath('builtin', () => sampleRlBatch(policy, prompts, 4, reward, 11, 12));
  // Same weights, same RNG stream: the same tokens are drawn unless a draw falls within rounding of a
  // cumulative-probability boundary (measured: never on these batches).
  const same = batch.rows.filter((r, i) => r.completionIds.join() === other.rows[i].completionIds.join()).length;
  expect(same, `${label}: identical samples`).toBeGreaterThanOrEqual(batch.rows.length - 1);
  expect(batch.advantages.some((x) => x !== 0), `${label}: the batch carries signal`).toBe(true);
  for (const [path, b2] of [['fast', batch], ['builtin', other]] as const) {
    const forward = withComputePath(path, () => completionLogProbs(policy, b2.rows));
    const cross = withComputePath(path === 'fast' ? 'builtin' : 'fast', () => completionLogProbs(policy, b2.rows));
    b2.rows.forEach((r, i) => r.logProbs.forEach((lp, t) => {
      expect(Math.abs(lp - forward[i][t]), `${label} ${path}: cached decode vs forward, row ${i} token ${t}`).toBeLessThan(LOGP_TOL);
      expect(Math.abs(cross[i][t] - forward[i][t]), `${label}: forward log-prob fast vs builtin, row ${i} token ${t}`).toBeLessThan(LOGP_TOL);
    }));
  }
  for (const beta of [0, 0.04]) {
    const ga = withComputePath('fast', () => grpoGradients(policy, batch, { beta, ref: reference }));
    const gb = withComputePath('builtin', () => grpoGradients(policy, batch, { beta, ref: reference }));
    expect(Math.abs(ga.loss - gb.loss), `${label}: GRPO loss β ${beta}`).toBeLessThan(1e-5);
    const d = compareNamed(ga.grads, gb.grads);
    expect(d.worstRelL2, `${label}: GRPO gradient of ${d.worst}, β ${beta}`).toBeLessThan(GRAD_TOL);
  }
}

/** One AdamW update of a copy of the weights from the same gradients, under each path. */
function adamwAfterOneStep(path: 'fast' | 'builtin', grads: Map<string, Float32Array>): Map<string, Float32Array> {
  const copy = policy.clone().model;
  const opt = new AdamW(copy.namedParameters(), { lr: 3e-3, weightDecay: 0.01 });
  withComputePath(path, () => {
    opt.step(new Map([...grads].map(([k, g]) => [k, tf.tensor(g, copy.namedParameters().get(k)!.shape)])));
  });
  const out = new Map([...copy.namedParameters()].map(([k, v]) => [k, v.dataSync() as Float32Array]));
  opt.disposeState();
  copy.dispose();
  return out;
}

describe('fast and builtin kernels compute the same training signal (demo teacher)', () => {
  it('states which paths are compared', () => {
    // Without BLAS or the addon both sides run the same code and the test proves nothing: say so.
    console.log(`fast path: ${blas ? 'BLAS GEMM' : 'tfjs GEMM (no BLAS found)'}, ${nativeKernels() ? 'C loops' : 'JS loops (addon not built)'}`);
    expect(typeof blas).toBe('boolean');
  });

  it('at init: losses, gradients, samples and log-probs agree to float32 rounding', () => {
    checkHere('init');
  });

  it('AdamW applies the same update on both paths', () => {
    const { grads } = withComputePath('fast', () => sftGradients(policy.model, tok, sft));
    const a = adamwAfterOneStep('fast', grads);
    const b = adamwAfterOneStep('builtin', grads);
    const d = compareNamed(a, b);
    expect(d.worstRelL2, d.worst).toBeLessThan(1e-6);
  });

  it('after SFT and GRPO updates (MoE biases moved): still agree', () => {
    const opt = new AdamW(policy.model.namedParameters(), { lr: 3e-3, weightDecay: 0.01 });
    for (let s = 0; s < 15; s++) {
      const { grads } = sftGradients(policy.model, tok, coldStartData(data, 16 + s).slice(s));
      opt.step(new Map([...grads].map(([k, g]) => [k, tf.tensor(g, policy.model.namedParameters().get(k)!.shape)])));
    }
    checkHere('after 15 SFT steps');
    for (let s = 0; s < 3; s++) {
      const batch = sampleRlBatch(policy, prompts, 4, reward, 100 + s, 12);
      const { grads } = grpoGradients(policy, batch);
      opt.step(new Map([...grads].map(([k, g]) => [k, tf.tensor(g, policy.model.namedParameters().get(k)!.shape)])));
      policy.afterOptimizerStep();
    }
    checkHere('after 3 GRPO updates');
    // The KL comparison above is not vacuous: the policy has moved away from the reference.
    const batch = sampleRlBatch(policy, prompts, 4, reward, 7, 12);
    const withKl = grpoGradients(policy, batch, { beta: 0.04, ref: reference }).loss;
    const without = grpoGradients(policy, batch, { beta: 0, ref: reference }).loss;
    expect(Math.abs(withKl - without)).toBeGreaterThan(1e-7);
    opt.disposeState();
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    checkHere('leak check');
    expect(tf.memory().numTensors).toBe(before);
  });
});
