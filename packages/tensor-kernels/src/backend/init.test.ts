import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors';
import { currentBackend, disposeBackend, initBackend } from './init';
import { nativeBindingPresent } from './native';

/** Deterministic inputs in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Plain float64 C = A·B for row-major A [m, k], B [k, n]. */
function matmulRef(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) - rtol * Math.abs(expected[i]));
  expect(worst).toBeLessThanOrEqual(atol);
}

const [M, K, N] = [96, 80, 72];
const A = values(M * K, 1);
const B = values(K * N, 2);
const W = values(M * N, 3);

/** matmul and the gradients of Σ W ⊙ tanh(A·B) on the active backend. */
function matmulAndGrads(): { c: Float32Array; dA: Float32Array; dB: Float32Array } {
  return tf.tidy(() => {
    const a = tf.tensor2d(A, [M, K]);
    const b = tf.tensor2d(B, [K, N]);
    const w = tf.tensor2d(W, [M, N]);
    const c = tf.matMul(a, b); // [M, N]
    const [dA, dB] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.matMul(x, y)), w)))([a, b]);
    return { c: c.dataSync() as Float32Array, dA: dA.dataSync() as Float32Array, dB: dB.dataSync() as Float32Array };
  });
}

afterAll(async () => {
  await disposeBackend();
});

describe('initBackend', () => {
  it('runs wasm with 2 threads and matches a float64 reference and the cpu backend (forward and gradient)', async () => {
    const info = await initBackend({ backend: 'wasm', threads: 2, quiet: true });
    expect(info).toMatchObject({ name: 'wasm', threads: 2 });
    expect(info.reason).toMatch(/SIMD and 2 threads/);
    expect(tf.getBackend()).toBe('wasm');
    const onWasm = matmulAndGrads();
    expectClose(onWasm.c, matmulRef(A, B, M, K, N));

    await initBackend({ backend: 'cpu', quiet: true });
    expect(tf.getBackend()).toBe('cpu');
    const onCpu = matmulAndGrads();
    expectClose(onWasm.c, onCpu.c);
    expectClose(onWasm.dA, onCpu.dA);
    expectClose(onWasm.dB, onCpu.dB);
  });

  it('keeps the current choice for auto, switches on an explicit name, rebuilds wasm for a new thread count', async () => {
    await initBackend({ backend: 'cpu', quiet: true });
    expect((await initBackend({ quiet: true })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const one = await initBackend({ backend: 'wasm', threads: 1, quiet: true });
    expect(one).toMatchObject({ name: 'wasm', threads: 1 });
    expect(currentBackend()).toEqual(one);
    const before = tf.memory().numTensors;
    tf.tidy(() => expectClose(tf.matMul(tf.tensor2d(A, [M, K]), tf.tensor2d(B, [K, N])).dataSync(), matmulRef(A, B, M, K, N)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('prints the choice once, and stays silent when quiet', async () => {
    await disposeBackend();
    expect(currentBackend()).toBeNull();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      await initBackend({ backend: 'cpu' });
      await initBackend({ backend: 'cpu' });
      await initBackend({});
      const lines = log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('[r1-ts] backend:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^\[r1-ts\] backend: cpu \(requested; pure-JS cpu backend; GEMM: (BLAS \(.+\)|tfjs builtin \(.+\))\)$/);
      tf.tensor1d([1, 2]).dispose(); // the cpu backend's first tensor would print tfjs's Node banner
      expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).not.toMatch(/looks like you are running TensorFlow\.js in Node/);
    } finally {
      log.mockRestore();
      warn.mockRestore();
    }
  });

  it('rejects bad options with a ConfigError naming the field and the value', async () => {
    await expect(initBackend({ backend: 'gpu' as never })).rejects.toThrow(ConfigError);
    await expect(initBackend({ backend: 'gpu' as never })).rejects.toThrow(/backend must be one of auto, tensorflow, webgpu, wasm, cpu, got "gpu"/);
    await expect(initBackend({ threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
    await expect(initBackend({ threads: 1.5 })).rejects.toThrow(ConfigError);
  });

  const native = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((p) => nativeBindingPresent(p).ok);
  it.skipIf(native)('explains why the tensorflow backend is unavailable', async () => {
    await expect(initBackend({ backend: 'tensorflow', quiet: true })).rejects.toThrow(/backend "tensorflow" is unavailable: @tensorflow\/tfjs-node-gpu/);
  });

  /** Runs exit_probe.ts in a child; resolves with its exit code, stdout and ms from 'finished' to exit. */
  function runProbe(arg: string): Promise<{ code: number | null; out: string; err: string; lingerMs: number }> {
    const probe = fileURLToPath(new URL('./exit_probe.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', probe, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let finishedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!finishedAt && out.includes('finished')) finishedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    return new Promise((resolve) =>
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, out, err, lingerMs: finishedAt ? Date.now() - finishedAt : Infinity });
      }),
    );
  }

  it('a child process using 2 wasm threads exits on its own, with and without disposeBackend', async () => {
    const runs = await Promise.all([runProbe('dispose'), runProbe('no-dispose')]);
    for (const { code, out, err, lingerMs } of runs) {
      expect(code, err).toBe(0);
      expect(JSON.parse(out.split('\n')[0])).toEqual({ name: 'wasm', threads: 2, values: [4, 5, 10, 11] });
      expect(lingerMs).toBeLessThan(5_000);
    }
  });
});
