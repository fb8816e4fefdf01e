// The webgpu backend on Dawn: adapter choice and report, device errors thrown, synchronous reads,
// a training loop with a flat tensor count that matches the cpu backend, a clean exit. Runs when
// R1_TEST_WEBGPU=1 (then a missing adapter fails the tests) or when Dawn finds an adapter.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../register_all';
import { ConfigError } from '../errors';
import { adamwUpdate } from '../ops/adamw';
import { tokenLogProbs } from '../ops/cross_entropy';
import { rmsNorm } from '../ops/rms_norm';
import { applyRope } from '../ops/rope';
import { siluMul } from '../ops/swiglu';
import { attention } from '../ops/attention';
import { disposeBackend, initBackend } from './init';
import { probeWebGPU } from './webgpu';
import { WebGPUError } from './webgpu_errors';

const requested = process.env.R1_TEST_WEBGPU === '1';
const available = requested || (await probeWebGPU()).ok;

/** Runs webgpu_probe.ts in a child with extra environment; resolves with its exit code and stdout. */
function probeChild(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const probe = fileURLToPath(new URL('./webgpu_probe.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', probe], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d) => { out += String(d); });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

/** One step of a tiny model: embedding → RMSNorm → RoPE → causal attention → SwiGLU → logits → log-probs. */
function makeModel(seed: number) {
  const [V, D, S] = [11, 8, 5];
  const init = (shape: number[], s: number) => tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed + s));
  const params = { emb: init([V, D], 1), norm: tf.variable(tf.ones([D])), wq: init([D, D], 2), wk: init([D, D], 3), wv: init([D, D], 4), wg: init([D, 16], 5), wu: init([D, 16], 6), wd: init([16, D], 7), out: init([D, V], 8) };
  const tokens = tf.tensor2d([[1, 4, 2, 9, 3, 7]], [1, S + 1], 'int32');
  const inputs = tf.slice(tokens, [0, 0], [1, S]);
  const targets = tf.slice(tokens, [0, 1], [1, S]);
  const angles = tf.tidy(() => tf.mul(tf.range(0, S).reshape([S, 1]), tf.tensor1d([1, 0.1]).reshape([1, 2]))); // [S, 2]
  const cos = tf.cos(angles);
  const sin = tf.sin(angles);
  const loss = () => tf.tidy(() => {
    const x = tf.gather(params.emb, inputs); // [1, S, D]
    const h = rmsNorm(x, params.norm);
    const heads = (w: tf.Tensor) => tf.reshape(tf.matMul(tf.reshape(h, [S, D]), w), [1, S, 2, 4]); // [1, S, H, d]
    const q = tf.transpose(applyRope(heads(params.wq), cos, sin, 'half'), [0, 2, 1, 3]); // [1, H, S, d]
    const k = tf.transpose(applyRope(heads(params.wk), cos, sin, 'half'), [0, 2, 1, 3]);
    const v = tf.transpose(heads(params.wv), [0, 2, 1, 3]);
    const a = tf.reshape(tf.transpose(attention(q, k, v, { scale: 0.5, causal: true }), [0, 2, 1, 3]), [S, D]);
    const y = tf.add(a, tf.reshape(x, [S, D]));
    const f = tf.matMul(siluMul(tf.matMul(y, params.wg), tf.matMul(y, params.wu)), params.wd); // [S, D]
    const logits = tf.reshape(tf.matMul(tf.add(y, f), params.out), [1, S, V]);
    return tf.neg(tf.mean(tokenLogProbs(logits, targets))) as tf.Scalar;
  });
  const list = Object.values(params);
  let m: tf.Tensor[] = list.map((p) => tf.zerosLike(p));
  let v: tf.Tensor[] = list.map((p) => tf.zerosLike(p));
  const step = (t: number): number => {
    const { value, grads } = tf.variableGrads(loss, list);
    const g = list.map((p) => grads[p.name]);
    const r = adamwUpdate(list, g, m, v, { lr: 0.05, beta1: 0.9, beta2: 0.95, eps: 1e-8, step: t, decays: list.map(() => 0.01) });
    list.forEach((p, i) => p.assign(r[i].p));
    tf.dispose([...m, ...v, ...g, ...r.map((x) => x.p)]);
    m = r.map((x) => x.m);
    v = r.map((x) => x.v);
    const out = value.dataSync()[0];
    value.dispose();
    return out;
  };
  const dispose = () => tf.dispose([...list, ...m, ...v, tokens, inputs, targets, angles, cos, sin]);
  return { step, dispose };
}

/** Losses of `steps` steps on `backend`, and the tensor counts after step 2 and after the last. */
async function train(backend: 'cpu' | 'webgpu', steps: number) {
  await initBackend({ backend, quiet: true });
  const model = makeModel(7);
  const losses: number[] = [];
  let after2 = 0;
  for (let t = 1; t <= steps; t++) {
    losses.push(model.step(t));
    if (t === 2) after2 = tf.memory().numTensors;
  }
  const last = tf.memory().numTensors;
  model.dispose();
  return { losses, after2, last };
}

describe('webgpu backend selection', () => {
  it('rejects an unknown R1_BACKEND with a ConfigError naming it', async () => {
    const saved = process.env.R1_BACKEND;
    process.env.R1_BACKEND = 'cuda';
    try {
      await expect(initBackend({ quiet: true })).rejects.toThrow(ConfigError);
      await expect(initBackend({ quiet: true })).rejects.toThrow(/R1_BACKEND must be one of auto, tensorflow, webgpu, wasm, cpu, got "cuda"/);
    } finally {
      if (saved === undefined) delete process.env.R1_BACKEND;
      else process.env.R1_BACKEND = saved;
    }
  });

  it.runIf(available)('fails with a ConfigError when webgpu is requested and no adapter exists', async () => {
    // An ICD list naming no driver hides every Vulkan driver from Dawn.
    const { code, out } = await probeChild({ VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' });
    expect(code).toBe(3);
    expect(out).toMatch(/"error":"ConfigError".*backend \\"webgpu\\" is unavailable.*no WebGPU adapter/);
  }, 60_000);

  it.runIf(available)('runs a matmul in a child process that then exits on its own', async () => {
    const { code, out } = await probeChild({});
    expect(code).toBe(0);
    expect(JSON.parse(out.split('\n')[0])).toMatchObject({ name: 'webgpu', values: [4, 5, 10, 11] });
    expect(out).toContain('finished');
  }, 60_000);
});

describe.runIf(available)('webgpu backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'webgpu', quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('reports the adapter it runs on, and a CPU adapter as not a GPU', async () => {
    const info = await initBackend({ backend: 'webgpu', quiet: true });
    expect(info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.adapter).toBeDefined();
    expect(info.reason).toContain(info.adapter!.description || info.adapter!.device);
    if (info.adapter!.software) expect(info.reason).toMatch(/CPU adapter, not a GPU/);
  });

  it('turns an invalid WGSL shader into a thrown WebGPUError, and keeps working after it', () => {
    const backend = tf.backend() as unknown as { runWebGPUProgram(p: object, inputs: tf.TensorInfo[], dtype: string): tf.TensorInfo };
    const x = tf.ones([4]);
    const broken = {
      variableNames: ['x'], outputShape: [4], shaderKey: 'r1TestBroken', dispatchLayout: { x: [0] }, dispatch: [1, 1, 1], workgroupSize: [64, 1, 1], size: true,
      getUserCode: () => 'fn main(index : i32) { setOutputAtIndex(index, undefinedName); }',
    };
    expect(() => backend.runWebGPUProgram(broken, [x], 'float32')).toThrow(WebGPUError);
    expect(() => backend.runWebGPUProgram(broken, [x], 'float32')).toThrow(/undefinedName/);
    expect(Array.from(tf.add(x, 1).dataSync())).toEqual([2, 2, 2, 2]);
    x.dispose();
  });

  it('sums more tensors than a shader may bind (AddN in groups)', () => {
    const parts = Array.from({ length: 40 }, (_, i) => tf.fill([3], i + 1)); // more than maxStorageBuffersPerShaderStage (16 on lavapipe)
    const sum = tf.addN(parts);
    expect(Array.from(sum.dataSync())).toEqual([820, 820, 820]); // Σ_{i=1}^{40} i
    tf.dispose([...parts, sum]);
  });

  it('auto takes webgpu only on a GPU adapter, never on a CPU one', async () => {
    const probe = await probeWebGPU();
    if (!probe.ok) throw new Error(probe.why);
    await disposeBackend();
    const saved = process.env.R1_BACKEND;
    delete process.env.R1_BACKEND;
    try {
      const info = await initBackend({ quiet: true });
      if (probe.adapter.software) {
        expect(info.name).not.toBe('webgpu');
        // Either the cheap device-node check or the probe itself passes webgpu by.
        expect(info.reason).toMatch(/webgpu skipped: (only a CPU adapter|no GPU device)/);
      } else {
        expect(info.name).toBe('webgpu');
      }
    } finally {
      if (saved !== undefined) process.env.R1_BACKEND = saved;
      await initBackend({ backend: 'webgpu', quiet: true });
    }
  });

  it('reads GPU tensors synchronously with the values an async read gives', async () => {
    const a = tf.randomNormal([33, 17], 0, 1, 'float32', 3);
    const b = tf.matMul(a, a, false, true); // [33, 33], computed on the GPU
    const c = tf.matMul(a, a, false, true);
    const sync = Array.from(b.dataSync());
    expect(sync).toEqual(Array.from(await c.data()));
    expect(sync.length).toBe(33 * 33);
    tf.dispose([a, b, c]);
  });

  it('trains with the fused WGSL kernels: same losses as cpu, falling, and a flat tensor count', async () => {
    const gpu = await train('webgpu', 6);
    const cpu = await train('cpu', 6);
    await initBackend({ backend: 'webgpu', quiet: true });
    expect(gpu.last).toBe(gpu.after2);
    expect(gpu.losses[5]).toBeLessThan(gpu.losses[0]);
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.losses[i]))));
  }, 120_000);
});
