import * as tf from '@tensorflow/tfjs';
import type { Completion, LogProbOptions, Policy, PromptInput, SamplingOptions, SequenceBatch } from '../policy';

/** Token ids of the toy vocabulary: 0 'a', 1 'b', 2 'c', 3 end. */
export const EOS = 3;
const V = 4;
const CHARS = ['a', 'b', 'c', ''];

let created = 0;

/**
 * Test-only policy: a bigram table logits[prev, next] over a 4-token vocabulary. Sampling runs in
 * float64 JS; logProbs runs in tfjs (one-hot matmul, so it trains on every backend).
 */
export class ToyPolicy implements Policy {
  readonly table: tf.Variable;
  optimizerSteps = 0;
  private frozen = false;

  constructor(init?: tf.Tensor | number[]) {
    const start = init instanceof tf.Tensor ? init : tf.tensor2d(init ?? [
      [0.3, -0.2, 0.1, -0.8], [0.2, -0.1, 0.0, -0.6], [0.1, -0.3, 0.2, -0.7], [0, 0, 0, 0],
    ], [V, V]);
    this.table = tf.variable(start, true, `toy_policy_${created++}`);
    if (!(init instanceof tf.Tensor)) start.dispose();
  }

  generate(prompts: readonly PromptInput[], o: SamplingOptions): Completion[] {
    const table = this.table.arraySync() as number[][];
    return prompts.map((p) => {
      const promptIds = typeof p === 'string' ? [...p].map((ch) => Math.max(0, CHARS.indexOf(ch))) : [...p];
      const ids: number[] = [];
      const logProbs: number[] = [];
      let prev = promptIds[promptIds.length - 1] ?? 0;
      while (ids.length < o.maxNewTokens) {
        const z = table[prev].map((l) => l / o.temperature);
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const s = e.reduce((a, b) => a + b, 0);
        const probs = e.map((v) => v / s);
        // nucleus: keep the most likely tokens up to mass topP
        const byProb = probs.map((q, k) => [q, k] as const).sort((a, b) => b[0] - a[0]);
        const keep: number[] = [];
        let mass = 0;
        for (const [q, k] of byProb) {
          keep.push(k);
          mass += q;
          if (mass >= o.topP) break;
        }
        let u = o.rng.uniform() * keep.reduce((a, k) => a + probs[k], 0);
        let tok = keep[keep.length - 1];
        for (const k of keep) {
          u -= probs[k];
          if (u < 0) {
            tok = k;
            break;
          }
        }
        ids.push(tok);
        logProbs.push(Math.log(probs[tok]));
        prev = tok;
        if (tok === EOS) break;
      }
      const truncated = ids[ids.length - 1] !== EOS;
      return { promptIds, completionIds: ids, text: ids.map((k) => CHARS[k]).join(''), logProbs, truncated };
    });
  }

  private logits(batch: SequenceBatch, temperature: number): { logits: tf.Tensor3D; targets: tf.Tensor2D } {
    const n = batch.completionIds.length;
    const T = batch.width;
    const prev = new Int32Array(n * T);
    const next = new Int32Array(n * T);
    batch.completionIds.forEach((c, i) => {
      const p = batch.promptIds[i];
      for (let t = 0; t < c.length; t++) {
        prev[i * T + t] = t === 0 ? p[p.length - 1] : c[t - 1];
        next[i * T + t] = c[t];
      }
    });
    const prevOh = tf.oneHot(tf.tensor1d(prev, 'int32'), V); // [N·T, V]
    const logits = tf.div(tf.matMul(prevOh, this.table), temperature).reshape([n, T, V]) as tf.Tensor3D; // [N, T, V]
    return { logits, targets: tf.tensor2d(next, [n, T], 'int32') };
  }

  logProbs(batch: SequenceBatch, options: LogProbOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { logits, targets } = this.logits(batch, options.temperature ?? 1);
      const logSm = tf.logSoftmax(logits); // [N, T, V]
      return tf.sum(tf.mul(logSm, tf.oneHot(targets, V)), -1) as tf.Tensor2D; // [N, T]
    });
  }

  entropy(batch: SequenceBatch, options: LogProbOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const logSm = tf.logSoftmax(this.logits(batch, options.temperature ?? 1).logits); // [N, T, V]
      return tf.neg(tf.sum(tf.mul(tf.exp(logSm), logSm), -1)) as tf.Tensor2D; // [N, T]
    });
  }

  trainableVariables(): tf.Variable[] {
    return this.frozen ? [] : [this.table];
  }

  clone(): ToyPolicy {
    return new ToyPolicy(this.table);
  }

  freeze(): void {
    this.frozen = true;
  }

  afterOptimizerStep(): void {
    this.optimizerSteps++;
  }

  dispose(): void {
    this.table.dispose();
  }
}

/** Reward: the fraction of 'b' characters in the completion (the toy task). */
export function fractionB(completion: string): number {
  return completion.length === 0 ? 0 : [...completion].filter((c) => c === 'b').length / completion.length;
}
