// Fast path (native addon + BLAS GEMM) against the builtin path (tfjs's GEMM, JS loops) on the same
// inputs, in one process: the losses and every parameter gradient of the recipe's training steps,
// and the forward-only parts of RL (sampling with the latent cache, old/reference log-probs).
// Issue #24: rules out a path that computes something different, as opposed to rounding.
import * as tf from '@tensorflow/tfjs';
import { Rng, nativeKernels, useGemm, useNativeKernels } from '@r1-ts/tensor-kernels';
import { DeepSeekPolicy, sftBatch, valueAndNamedGrads } from '@r1-ts/model';
import type { DeepSeekModel, PolicyCompletion, SftExample, Tokenizer } from '@r1-ts/model';
import { groupRelativeAdvantages, policyLoss, stopGradient } from '@r1-ts/grpo';

/** Which kernels compute: the defaults (BLAS + C loops, when built) or tfjs's own with the JS loops. */
export type ComputePath = 'fast' | 'builtin';

/**
 * Runs `f` with the kernels of `path`, then restores what was in use.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { withComputePath } from '@r1-ts/pipeline';
 * const y = withComputePath('builtin', () => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
 * ```
 */
export function withComputePath<T>(path: ComputePath, f: () => T): T {
  const native = nativeKernels() !== null;
  useGemm(path === 'fast' ? 'auto' : 'builtin');
  useNativeKernels(path === 'fast');
  try {
    return f();
  } finally {
    useGemm('auto');
    useNativeKernels(native);
  }
}

/** Difference of two sets of named arrays: the worst parameter's relative L2 error and its name. */
export interface PathDiff {
  /** max over tensors of ‖a − b‖ / max(‖b‖, floor). */
  worstRelL2: number;
  worst: string;
  /** ‖a − b‖ / ‖b‖ over all tensors together. */
  globalRelL2: number;
}

/**
 * Relative L2 differences of named float arrays (`floor` keeps near-zero tensors — an expert no
 * token reached — from dividing by zero: it is a fraction of the global norm).
 */
export function compareNamed(a: Map<string, Float32Array>, b: Map<string, Float32Array>, floorFraction = 1e-3): PathDiff {
  let num = 0;
  let den = 0;
  const per: [string, number, number][] = [];
  for (const [name, vb] of b) {
    const va = a.get(name);
    if (!va || va.length !== vb.length) throw new Error(`${name}: missing or shape differs between paths`);
    let d = 0;
    let n = 0;
    for (let i = 0; i < vb.length; i++) {
      d += (va[i] - vb[i]) ** 2;
      n += vb[i] ** 2;
    }
    num += d;
    den += n;
    per.push([name, d, n]);
  }
  const floor = (floorFraction * Math.sqrt(den)) ** 2;
  let worstRelL2 = 0;
  let worst = '';
  for (const [name, d, n] of per) {
    const r = Math.sqrt(d / Math.max(n, floor, 1e-30));
    if (r > worstRelL2) [worstRelL2, worst] = [r, name];
  }
  return { worstRelL2, worst, globalRelL2: Math.sqrt(num / Math.max(den, 1e-30)) };
}

function readGrads(grads: Map<string, tf.Tensor>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, g] of grads) {
    out.set(k, g.dataSync() as Float32Array);
    g.dispose();
  }
  return out;
}

/** Loss and named gradients of an SFT step (the loss the recipe's SFT stages take). */
export function sftGradients(model: DeepSeekModel, tok: Tokenizer, examples: SftExample[]): { loss: number; grads: Map<string, Float32Array> } {
  const batch = sftBatch(tok, examples);
  try {
    const { loss, grads } = valueAndNamedGrads(() => model.loss(batch.tokens, { lossMask: batch.lossMask }).total, model.namedParameters());
    return { loss, grads: readGrads(grads) };
  } finally {
    tf.dispose([batch.tokens, batch.lossMask]);
  }
}

/** A scored RL batch: completions with their group-relative advantages. */
export interface RlBatch {
  rows: PolicyCompletion[];
  advantages: number[];
}

/** Samples G completions per prompt and their advantages under `reward` (the rollout of a GRPO step). */
export function sampleRlBatch(policy: DeepSeekPolicy, prompts: string[], G: number, reward: (text: string, i: number) => number, seed: number, maxNewTokens = 30): RlBatch {
  const all = prompts.flatMap((p) => Array.from({ length: G }, () => p));
  const rows = policy.generate(all, { temperature: 1, topP: 1, maxNewTokens, rng: new Rng(seed) });
  const rewards = rows.map((r, i) => reward(r.text, Math.floor(i / G)));
  return { rows, advantages: groupRelativeAdvantages(rewards, G) };
}

/**
 * Loss and named gradients of one GRPO update on `batch` (first update of a step: π_old = π, DAPO
 * clipping ε 0.2 / 0.28, token-level normalisation), with an optional reference for the KL term.
 */
export function grpoGradients(policy: DeepSeekPolicy, batch: RlBatch, options: { beta?: number; ref?: DeepSeekPolicy } = {}): { loss: number; grads: Map<string, Float32Array> } {
  const { rows, advantages } = batch;
  const width = Math.max(1, ...rows.map((r) => r.completionIds.length));
  const seqs = { promptIds: rows.map((r) => r.promptIds), completionIds: rows.map((r) => r.completionIds), width };
  const maskValues = new Float32Array(rows.length * width);
  rows.forEach((r, i) => maskValues.fill(1, i * width, i * width + r.completionIds.length));
  const mask = tf.tensor2d(maskValues, [rows.length, width]); // [N, T]
  const refLogp = options.ref ? options.ref.logProbs(seqs) : undefined; // [N, T]
  const tokens = maskValues.reduce((a, b) => a + b, 0);
  try {
    const params = policy.model.namedParameters();
    const { loss, grads } = valueAndNamedGrads(() => {
      const logp = policy.logProbs(seqs); // [N, T]
      return policyLoss(
        { logp, oldLogp: stopGradient(logp), refLogp, mask, advantages, numItemsInBatch: tokens },
        { lossType: 'dapo', epsilonLow: 0.2, epsilonHigh: 0.28, beta: options.beta ?? 0, maxCompletionLength: width },
      ).loss;
    }, params);
    return { loss, grads: readGrads(grads) };
  } finally {
    tf.dispose([mask, refLogp ?? []]);
  }
}

/** Log-probs [N][T] of the completions under the policy's full (teacher-forced) forward. */
export function completionLogProbs(policy: DeepSeekPolicy, rows: PolicyCompletion[]): number[][] {
  const width = Math.max(1, ...rows.map((r) => r.completionIds.length));
  const t = policy.logProbs({ promptIds: rows.map((r) => r.promptIds), completionIds: rows.map((r) => r.completionIds), width });
  const v = t.arraySync();
  t.dispose();
  return v.map((row, i) => row.slice(0, rows[i].completionIds.length));
}
