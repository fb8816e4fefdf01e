// `npm run bench:gpu [-- --allow-software]`: the GPU figures on tfjs's WebGPU backend (Dawn) — GEMM
// TFLOP/s, `small` preset training and generation tokens/s, and the Qwen2.5-0.5B-shaped LoRA step of
// bench/suites/train_lora.ts. It refuses to run on a CPU adapter (Dawn's fallback, Mesa's lavapipe)
// unless given --allow-software, and then runs every figure at a toy size: the point there is that
// the script works, not the numbers. Figures only: nothing here is asserted.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { disposeBackend, initBackend, probeWebGPU } from '@r1-ts/tensor-kernels';
import { report } from './lib';
import { gemmGflops, generateTokensPerSec, trainTokensPerSec } from './suites/model';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const allowSoftware = process.argv.includes('--allow-software');

const probe = await probeWebGPU();
if (!probe.ok) {
  console.error(`bench:gpu: no WebGPU adapter: ${probe.why}`);
  process.exit(1);
}
if (probe.adapter.software && !allowSoftware) {
  console.error(`bench:gpu: the only WebGPU adapter is a CPU implementation (${probe.adapter.description}); pass --allow-software to run anyway (toy sizes)`);
  process.exit(1);
}
const toy = probe.adapter.software;
const info = await initBackend({ backend: 'webgpu' });
const adapter = `${info.adapter!.description || info.adapter!.device}`.replace(/\s+/g, '_');
const sizes = toy
  ? { gemm: 256, gemmReps: 3, train: [1, 64, 1, 1], gen: [2, 8, 8], lora: '' }
  : { gemm: 4096, gemmReps: 10, train: [8, 256, 3, 1], gen: [16, 16, 128], lora: 'qwen2.5-0.5b' };

report(`gpu.gemm_${sizes.gemm}`, (await gemmGflops(sizes.gemm, sizes.gemmReps)) / 1000, 'TFLOP/s', { adapter, software: String(toy) });
const [B, S, reps, warmup] = sizes.train;
report(`gpu.train_step.small_b${B}_s${S}`, await trainTokensPerSec('small', B, S, reps, warmup), 'tokens/s');
const [gB, prompt, n] = sizes.gen;
report(`gpu.generate.small_b${gB}_n${n}`, await generateTokensPerSec('small', gB, prompt, n), 'tokens/s');
await disposeBackend();

// The LoRA step runs in a child process of its own (its peak memory is its own), on webgpu. Its
// batch is fixed (4 × 256), minutes per step on a CPU adapter: only on a GPU.
if (toy) {
  console.log('# gpu.train_lora skipped: a CPU adapter (4 × 256 tokens per step would take minutes)');
  process.exit();
}
const lora = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@r1-ts/source', join(root, 'bench/suites/train_lora.ts'), '--child', sizes.lora], {
  cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, R1_BACKEND: 'webgpu' },
});
const line = lora.stdout.split('\n').find((l) => l.startsWith('{'));
if (lora.status !== 0 || !line) {
  console.log(`# gpu.train_lora failed: ${(lora.stderr || '').trim().split('\n').slice(-2).join(' | ')}`);
  process.exitCode = 1;
} else {
  const r = JSON.parse(line) as { tokensPerSec: number; peakRssMb: number; firstLoss: number; lastLoss: number };
  report(`gpu.train_lora_r16_b4_s256`, r.tokensPerSec, 'tokens/s', { preset: sizes.lora, peak_rss_mb: r.peakRssMb, loss: `${r.firstLoss.toFixed(3)}→${r.lastLoss.toFixed(3)}` });
}
