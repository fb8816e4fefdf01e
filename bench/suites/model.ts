// Whole-model figures on the `small` (dense MLA, as the PyTorch reference trains it) and `tiny`
// presets: a training step (forward + backward + clip + AdamW), cached greedy generation, the tfjs
// kernels one training step dispatches, and GEMM. bench/compare.ts reuses these functions.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { AdamW, DeepSeekModel, generate, presets, trainStep, withAttention } from '@r1-ts/model';
import type { Tokenizer } from '@r1-ts/model';
import { report, timeMs } from '../lib';

/** A preset name of @r1-ts/model. */
export type PresetName = keyof typeof presets;

/** The preset with dense MLA (the PyTorch reference trains and generates with dense MLA). */
export const denseConfig = (preset: PresetName) => withAttention(presets[preset], 'mla');

/** Seeded int32 tokens [B, S] in [0, vocab). */
function randomTokens(B: number, S: number, vocab: number, seed: number): tf.Tensor2D {
  let s = seed >>> 0;
  const ids = new Int32Array(B * S);
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = s % vocab;
  }
  return tf.tensor2d(ids, [B, S], 'int32');
}

/** GEMM 1024³ fp32 throughput in GFLOP/s (median of `reps`). */
/** Note: tidy callbacks below return nothing — tf.tidy walks a returned typed array element by element (≈1.4 s for 1M values). */
export async function gemmGflops(n = 1024, reps = 10): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  // Synchronised on one element: as the PyTorch reference times `a @ b`, the figure is the product,
  // not a 4 MB copy out of the backend.
  const ms = await timeMs(() => tf.tidy(() => void tf.slice(tf.matMul(a, b), [0, 0], [1, 1]).dataSync()), reps, 2);
  tf.dispose([a, b]);
  return (2 * n ** 3) / (ms * 1e6);
}

/** A model, an AdamW and a fixed batch for timing training steps. */
export function trainSetup(preset: PresetName, B: number, S: number) {
  const model = new DeepSeekModel(denseConfig(preset), { seed: 0 });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3 });
  const tokens = randomTokens(B, S, model.config.vocab_size, 1);
  const batch = { tokens, lossMask: tf.ones([B, S]) as tf.Tensor2D, lengths: new Array<number>(B).fill(S) };
  const dispose = () => {
    tf.dispose([tokens, batch.lossMask]);
    optimizer.disposeState();
    model.dispose();
  };
  return { model, optimizer, batch, step: () => trainStep(model, optimizer, batch), dispose };
}

/** Training-step throughput (tokens/s) of a preset at batch B × sequence S. */
export async function trainTokensPerSec(preset: PresetName, B = 8, S = 256, reps = 3, warmup = 1): Promise<number> {
  const t = trainSetup(preset, B, S);
  try {
    return (B * S * 1000) / (await timeMs(() => t.step(), reps, warmup));
  } finally {
    t.dispose();
  }
}

/** tfjs kernels dispatched by one training step, by kernel name (first step excluded: warm-up). */
export async function opsPerTrainStep(preset: PresetName, B = 2, S = 32): Promise<{ total: number; byKernel: Map<string, number> }> {
  const t = trainSetup(preset, B, S);
  try {
    t.step();
    const info = await tf.profile(() => {
      t.step();
    });
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + 1);
    return { total: info.kernels.length, byKernel };
  } finally {
    t.dispose();
  }
}

/** A tokenizer stub for generate(): ids only, no stop token (every row runs to maxNewTokens). */
function idTokenizer(vocab: number): Tokenizer {
  const special = { bos: 0, eos: -1, pad: 0 } as unknown as Tokenizer['special'];
  return { vocabSize: vocab, special, encode: () => [], decode: () => '', toJSON: () => ({}) };
}

/** Greedy cached generation throughput (new tokens/s) with B prompts of `prompt` tokens. */
export async function generateTokensPerSec(preset: PresetName, B = 16, prompt = 16, newTokens = 128, reps = 1): Promise<number> {
  const model = new DeepSeekModel(denseConfig(preset), { seed: 0 });
  const ids = randomTokens(B, prompt, model.config.vocab_size, 2);
  const prompts = ids.arraySync() as number[][];
  ids.dispose();
  const tok = idTokenizer(model.config.vocab_size);
  try {
    const ms = await timeMs(() => generate(model, tok, prompts, { maxNewTokens: newTokens, temperature: 0, stopIds: [] }), reps, 1);
    return (B * newTokens * 1000) / ms;
  } finally {
    model.dispose();
  }
}

/** Bench entry point. */
export async function run(): Promise<void> {
  const info = await initBackend({ quiet: true });
  report('model.gemm_1024', await gemmGflops(), 'GFLOP/s', { backend: info.name, threads: info.threads });
  for (const preset of ['tiny', 'small'] as const) {
    const ops = await opsPerTrainStep(preset);
    const top = [...ops.byKernel].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k}:${n}`).join(',');
    report(`model.ops_per_train_step.${preset}`, ops.total, 'kernels', { top });
    report(`model.train_step.${preset}_b8_s256`, await trainTokensPerSec(preset), 'tokens/s');
    report(`model.generate.${preset}_b16_n128`, await generateTokensPerSec(preset), 'tokens/s');
  }
}
