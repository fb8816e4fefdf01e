// `npm run bench -- kernels`: fp32 matmul GFLOP/s and per-op dispatch µs for each backend
// configuration (wasm 1 thread, wasm N threads, cpu, and tensorflow when its native binding is
// installed). Each configuration runs in its own child process (this file with `--child`): the
// wasm thread pool is built once per backend instance, and a fresh process keeps figures independent.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { report, timeMs } from '../lib';

const self = fileURLToPath(import.meta.url);
const DISPATCH_REPS = 2000;

/** Median GFLOP/s of an n×n by n×n fp32 matmul on the active backend. */
async function matmulGflops(n: number): Promise<number> {
  const a = tf.randomNormal([n, n]); // [n, n]
  const b = tf.randomNormal([n, n]); // [n, n]
  const ms = await timeMs(async () => {
    const c = tf.matMul(a, b); // [n, n]
    await c.data();
    c.dispose();
  }, 5, 1);
  tf.dispose([a, b]);
  return (2 * n ** 3) / (ms * 1e6);
}

/** Median µs per tf.add of two [8] tensors (kernel dispatch overhead: the work itself is nil). */
async function dispatchMicros(): Promise<number> {
  const a = tf.ones([8]);
  const b = tf.ones([8]);
  const ms = await timeMs(() => {
    for (let i = 0; i < DISPATCH_REPS; i++) tf.add(a, b).dispose();
  }, 5, 1);
  tf.dispose([a, b]);
  return (ms * 1000) / DISPATCH_REPS;
}

/** Child side: one backend configuration, report() lines on stdout. */
async function child(backend: BackendName, threads: number): Promise<void> {
  const info = await initBackend({ backend, threads, quiet: true });
  // The pure-JS cpu backend does ~0.4 GFLOP/s: 1024³ would take seconds per rep, so measure 256³.
  const n = info.name === 'cpu' ? 256 : 1024;
  const tags = { backend: info.name, threads: String(info.threads), size: `${n}^3` };
  report('kernels.matmul_f32', await matmulGflops(n), 'GFLOP/s', tags);
  report('kernels.dispatch_add8', await dispatchMicros(), 'us', { backend: info.name, threads: String(info.threads), reps: String(DISPATCH_REPS) });
  await disposeBackend();
}

function runChild(backend: BackendName, threads: number): Promise<void> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=@r1-ts/source', self, '--child', backend, String(threads)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stdout.on('data', (d: Buffer) => process.stdout.write(d));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => {
      if (code !== 0) console.log(`# kernels: ${backend} threads=${threads} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
      resolve();
    });
  });
}

/** Runs every configuration, one child process each. */
export async function run(): Promise<void> {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  // Cheap when tfjs-node's native binding is absent: initBackend checks before importing it.
  const hasTensorflow = await initBackend({ backend: 'tensorflow', quiet: true }).then(() => true, () => false);
  await disposeBackend();
  if (hasTensorflow) await runChild('tensorflow', 1);
  await runChild('wasm', 1);
  if (cores > 1) await runChild('wasm', cores);
  await runChild('cpu', 1);
}

const at = process.argv.indexOf('--child');
if (at >= 0 && process.argv[1] === self) {
  await child(process.argv[at + 1] as BackendName, Number(process.argv[at + 2]));
}
