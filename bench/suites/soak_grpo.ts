// Memory over a long GRPO run (issue #11): R1_SOAK_STEPS (default 500) GRPO steps of a tiny
// DeepSeekPolicy (2 layers, hidden 32, MoE) with a reference model (β > 0, synced every 100 steps),
// μ = 2 iterations and micro-batches, printing the tfjs tensor count, tfjs bytes and process RSS every
// 50 steps, then the least-squares slope of each over the steps after warm-up. A flat tensor count
// (slope 0) is the contract; RSS may wander with V8's and the allocator's heuristics.
//   R1_SOAK_STEPS=500 npm run bench -- soak_grpo
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { CharTokenizer, DeepSeekModel, DeepSeekPolicy, SPECIAL_TOKENS, presets } from '@r1-ts/model';
import { GrpoTrainer } from '@r1-ts/grpo';
import { report } from '../lib';

/** Least-squares slope of ys over xs. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function run(): Promise<void> {
  const steps = Number(process.env.R1_SOAK_STEPS ?? 500);
  if (!Number.isInteger(steps) || steps < 100) throw new Error(`R1_SOAK_STEPS must be an integer ≥ 100, got ${process.env.R1_SOAK_STEPS}`);
  const every = 50;
  await initBackend({ backend: (process.env.R1_SOAK_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm', quiet: true });
  const prompts = Array.from({ length: 16 }, (_, i) => `What is ${i}+${(7 * i) % 10}?`);
  const tokenizer = CharTokenizer.fromCorpus([Object.values(SPECIAL_TOKENS).join(''), ...prompts, '0123456789<>/thinkanswer ']);
  const model = new DeepSeekModel(
    { ...presets.tiny, vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, q_lora_rank: 16, kv_lora_rank: 16, num_nextn_predict_layers: 0, max_position_embeddings: 64 },
    { seed: 0 },
  );
  const policy = new DeepSeekPolicy(model, tokenizer);
  // Reward: the share of digits in the completion (dense, so advantages are rarely all zero).
  const digits = (c: string) => (c.length === 0 ? 0 : [...c].filter((ch) => ch >= '0' && ch <= '9').length / c.length);
  const trainer = new GrpoTrainer({
    policy, dataset: prompts.map((prompt) => ({ prompt })), rewardFunctions: [digits], numGenerations: 4, promptsPerStep: 2,
    maxCompletionLength: 6, learningRate: 3e-3, beta: 0.04, numIterations: 2, miniBatchSize: 8, microBatchSize: 4,
    refModelSyncSteps: 100, seed: 0, quiet: true,
  });
  const rows: Array<{ step: number; tensors: number; mb: number; rss: number }> = [];
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    await trainer.step();
    if (step % every === 0) {
      const m = tf.memory();
      const row = { step, tensors: m.numTensors, mb: m.numBytes / 2 ** 20, rss: process.memoryUsage().rss / 2 ** 20 };
      rows.push(row);
      report('soak_grpo.tensors', row.tensors, 'tensors', { step, tf_mb: row.mb, rss_mb: row.rss, s: (performance.now() - t0) / 1000 });
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const warm = rows.slice(1); // from step 100: the reference model and optimizer state exist by then
  const xs = warm.map((r) => r.step);
  report('soak_grpo.tensor_slope', slope(xs, warm.map((r) => r.tensors)) * 100, 'tensors/100 steps', { steps, first: rows[0].tensors, last: rows[rows.length - 1].tensors });
  report('soak_grpo.rss_slope', slope(xs, warm.map((r) => r.rss)) * 100, 'MB/100 steps', { first: rows[0].rss, last: rows[rows.length - 1].rss });
  report('soak_grpo.tf_bytes_slope', slope(xs, warm.map((r) => r.mb)) * 100, 'MB/100 steps');
  report('soak_grpo.step_ms', (1000 * seconds) / steps, 'ms', { steps, seconds });
  trainer.dispose();
  policy.dispose();
}
