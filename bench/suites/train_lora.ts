// LoRA training step (issue #19): forward over batch 4 × 256, cross-entropy over all positions,
// backward, AdamW on the adapters only — the unit ../shared/bench/torch_reference.py's `train_lora`
// times — on a random Qwen2.5-0.5B-shaped model, rank 16 / alpha 32 on all seven projections of every
// layer. `R1_BENCH_DENSE_PRESET=dense-small` for a quick look. Each side runs in a process of its own,
// so its peak RSS (maxRSS) is its own; the PyTorch figure comes from the same run when torch imports.
// Activation checkpointing is on (`R1_BENCH_CHECKPOINTING=0` turns it off): on the wasm backend every
// tensor lives in one 32-bit heap of at most 4 GiB, and the 0.5B model's 1.98 GB of float32 weights
// plus 24 layers' activations at 4 × 256 do not fit in it. PyTorch's side runs without it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { AdamW, DenseModel, valueAndNamedGrads } from '@r1-ts/model';
import { LoraModel } from '@r1-ts/lora';
import { report, timeMs } from '../lib';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '../..');
const PYTHON = process.env.R1_TORCH_PYTHON ?? '/usr/bin/python3';

/** torch_reference.py's dense presets (its README's table). */
const PRESETS = {
  'qwen2.5-0.5b': { vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, tie_word_embeddings: true, reps: 3, warmup: 1 },
  'dense-small': { vocab_size: 4096, hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 2, tie_word_embeddings: false, reps: 5, warmup: 2 },
} as const;
type Preset = keyof typeof PRESETS;

interface ChildResult { tokensPerSec: number; peakRssMb: number; trainable: number; firstLoss: number; lastLoss: number; checkpointing: boolean; secondsPerStep: number }

/** The timed side, in this child process. */
async function child(preset: Preset): Promise<void> {
  await initBackend({ quiet: true });
  const { reps, warmup, ...shape } = PRESETS[preset];
  const B = 4, S = 256;
  const gradientCheckpointing = process.env.R1_BENCH_CHECKPOINTING !== '0';
  const model = new DenseModel({ model_type: 'qwen2', ...shape, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1e6 }, { seed: 0, gradientCheckpointing });
  const lora = LoraModel.attach(model, { r: 16, lora_alpha: 32, lora_dropout: 0, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
  const params = lora.namedAdapterParameters();
  const optimizer = new AdamW(params, { lr: 1e-4, beta2: 0.999, weightDecay: 0.01 }); // torch.optim.AdamW's defaults
  let s = 1;
  const ids = new Int32Array(B * S).map(() => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % shape.vocab_size);
  const tokens = tf.tensor2d(ids, [B, S], 'int32'); // [B, S]
  const losses: number[] = [];
  const step = () => {
    const { loss, grads } = valueAndNamedGrads(() => model.loss(tokens).total, params); // mean CE of logits[:, :-1] vs ids[:, 1:]
    optimizer.step(grads);
    losses.push(loss);
  };
  const ms = await timeMs(step, reps, warmup);
  const trainable = [...params.values()].reduce((n, v) => n + v.size, 0);
  const out: ChildResult = { tokensPerSec: (B * S * 1000) / ms, secondsPerStep: ms / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, trainable, firstLoss: losses[0], lastLoss: losses.at(-1)!, checkpointing: gradientCheckpointing };
  console.log(JSON.stringify(out));
}

/** torch_reference.py's train_lora figure and peak RSS, or null when it cannot run here. */
function pytorch(preset: Preset): { value: number; peakRssMb: number } | null {
  const script = [process.env.R1_TORCH_REFERENCE, join(root, '..', 'shared', 'bench', 'torch_reference.py')].find((p): p is string => !!p && existsSync(p));
  if (!script) return null;
  const r = spawnSync(PYTHON, [script, '--family', 'dense', '--preset', preset, '--only', 'train_lora', '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`# pytorch train_lora unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    return null;
  }
  const row = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { bench: string; value: number; peak_rss_mb: number }).find((x) => x.bench.startsWith('train_lora'));
  return row ? { value: row.value, peakRssMb: row.peak_rss_mb } : null;
}

export async function run(): Promise<void> {
  const preset = (process.env.R1_BENCH_DENSE_PRESET ?? 'qwen2.5-0.5b') as Preset;
  if (!(preset in PRESETS)) throw new Error(`R1_BENCH_DENSE_PRESET must be one of ${Object.keys(PRESETS).join(', ')}, got ${preset}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@r1-ts/source', self, '--child', preset], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`train_lora child failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  const ours = JSON.parse(line) as ChildResult;
  const torch = pytorch(preset);
  report('train_lora_r16_b4_s256', ours.tokensPerSec, 'tokens/s', {
    preset, s_per_step: ours.secondsPerStep, checkpointing: ours.checkpointing, peak_rss_mb: ours.peakRssMb, trainable: ours.trainable, loss: `${ours.firstLoss.toFixed(3)}→${ours.lastLoss.toFixed(3)}`,
    pytorch: torch ? torch.value : 'n/a', pytorch_peak_rss_mb: torch ? torch.peakRssMb : 'n/a',
    ratio: torch ? ours.tokensPerSec / torch.value : 'n/a',
  });
}

if (process.argv[2] === '--child') await child(process.argv[3] as Preset);
