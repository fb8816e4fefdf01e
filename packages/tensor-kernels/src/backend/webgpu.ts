/// <reference types="@webgpu/types" />
// The WebGPU backend in Node: Dawn from the optional `webgpu` package provides navigator.gpu, tfjs's
// WebGPU backend runs on it. r1-ts registers its own backend factory so that it knows which adapter
// it got (a run that lands on a CPU adapter such as lavapipe must say so), turns device errors into
// thrown WebGPUErrors, reads GPU tensors synchronously, and destroys the device on dispose.
import * as tf from '@tensorflow/tfjs';
import { fixTransposeProgram } from '../kernels/webgpu/transpose_int32';
import { DeviceErrors, WebGPUError } from './webgpu_errors';
import { readSyncWebGPU, type WebGPUBackendLike } from './webgpu_sync';

/**
 * The WebGPU adapter a backend runs on, from the adapter's `info`.
 *
 * @example
 * ```ts
 * import { initBackend } from '@r1-ts/tensor-kernels';
 * const info = await initBackend({ backend: 'webgpu', quiet: true });
 * if (info.adapter?.software) console.warn(`not a GPU: ${info.adapter.description}`);
 * ```
 */
export interface WebGPUAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter says it is a fallback (CPU) adapter. */
  fallback: boolean;
  /** A CPU implementation (fallback adapter, or a software rasteriser such as llvmpipe/lavapipe, SwiftShader, WARP). */
  software: boolean;
}

/**
 * Outcome of looking for a WebGPU adapter: the adapter, or why there is none.
 *
 * @example
 * ```ts
 * import { probeWebGPU, type WebGPUProbe } from '@r1-ts/tensor-kernels';
 * const probe: WebGPUProbe = await probeWebGPU();
 * if (!probe.ok) console.log(probe.why);
 * ```
 */
export type WebGPUProbe = { ok: true; adapter: WebGPUAdapterSummary } | { ok: false; why: string };

const WEBGPU_PRIORITY = 1; // below wasm (2): only an explicit setBackend picks it

let gpu: GPU | null = null;
let probed: Promise<WebGPUProbe> | null = null;
let registered = false;

/**
 * An optional package's name, passed through a function so that bundlers (tsup/esbuild) leave the
 * dynamic import alone: the packages are optional dependencies, loaded only on the webgpu path.
 */
const optional = (name: string): string => name;

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];

/** Loads Dawn and installs the WebGPU globals (GPUBufferUsage, navigator.gpu, ...) once. */
async function loadDawn(): Promise<GPU> {
  if (gpu) return gpu;
  const dawn = (await import(optional('webgpu'))) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const g = globalThis as { navigator?: object };
  if (!g.navigator) g.navigator = {};
  // Dawn options such as `backend=vulkan` or `adapter=<name>` from the environment, comma-separated.
  const flags = (process.env.R1_WEBGPU_DAWN_FLAGS ?? '').split(',').filter(Boolean);
  gpu = dawn.create(flags);
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  return gpu;
}

/** The best adapter Dawn offers: a discrete or integrated GPU before a CPU fallback. */
async function requestAdapter(g: GPU): Promise<GPUAdapter | null> {
  return g.requestAdapter({ powerPreference: 'high-performance' });
}

/** The adapter's `info` (newer than some @webgpu/types releases, which only have requestAdapterInfo). */
const infoOf = (adapter: GPUAdapter) => (adapter as unknown as { info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean } }).info;

function summarise(adapter: GPUAdapter): WebGPUAdapterSummary {
  const info = infoOf(adapter);
  const fallback = info.isFallbackAdapter === true || (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  const software = fallback || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader|warp|software/.test(text);
  return { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, fallback, software };
}

/**
 * Looks for a WebGPU adapter through Dawn (once per process): which one, or why there is none.
 * Loading Dawn is cheap (no download); it needs a Vulkan (Linux), Metal (macOS) or D3D12 driver.
 *
 * @example
 * ```ts
 * import { probeWebGPU } from '@r1-ts/tensor-kernels';
 * const p = await probeWebGPU();
 * console.log(p.ok ? `${p.adapter.description} (software: ${p.adapter.software})` : p.why);
 * ```
 */
export function probeWebGPU(): Promise<WebGPUProbe> {
  probed ??= (async (): Promise<WebGPUProbe> => {
    let g: GPU;
    try {
      g = await loadDawn();
    } catch (e) {
      return { ok: false, why: `the optional package webgpu (Dawn) failed to load (${firstLine(e)})` };
    }
    try {
      const adapter = await requestAdapter(g);
      if (!adapter) {
        return { ok: false, why: 'Dawn found no WebGPU adapter (needs libvulkan1 and a Vulkan driver: the GPU vendor\'s ICD, or Mesa ≥ 25 lavapipe on the CPU)' };
      }
      return { ok: true, adapter: summarise(adapter) };
    } catch (e) {
      return { ok: false, why: `requesting a WebGPU adapter failed (${firstLine(e)})` };
    }
  })();
  return probed;
}

/** Registers r1-ts's factory for tfjs's `webgpu` backend (after tfjs-backend-webgpu has loaded). */
async function registerFactory(): Promise<void> {
  if (registered) return;
  const { WebGPUBackend } = (await import(optional('@tensorflow/tfjs-backend-webgpu'))) as typeof import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const adapter = await requestAdapter(await loadDawn());
    if (!adapter) throw new WebGPUError('no WebGPU adapter');
    // The limits tfjs's own factory asks for: the adapter's maxima for the buffers and workgroups it uses.
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        // Beyond tfjs's list: AddN and the fused kernels bind one storage buffer per input.
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      },
    });
    const backend = new WebGPUBackend(device, infoOf(adapter) as never);
    instrument(backend as unknown as InstrumentedBackend, device);
    return backend;
  }, WEBGPU_PRIORITY);
  registered = true;
}

type InstrumentedBackend = WebGPUBackendLike & {
  read(dataId: object): Promise<tf.backend_util.BackendValues>;
  readSync(dataId: object): tf.backend_util.BackendValues;
  runWebGPUProgram(program: { constructor: { name: string }; shaderKey?: string }, ...rest: unknown[]): tf.TensorInfo;
  pipelineCache: Record<string, unknown>;
  dispose(): void;
};

/** Error checks after every program and read, synchronous reads, and a device destroyed on dispose. */
function instrument(backend: InstrumentedBackend, device: GPUDevice): void {
  const errors = new DeviceErrors(device);
  // Dawn reports an invalid shader inside the create call: throwing there, before tfjs records the
  // dispatch, keeps the broken pipeline out of the command buffer (which would poison later work).
  for (const name of ['createShaderModule', 'createComputePipeline'] as const) {
    const create = (device[name] as (d: unknown) => unknown).bind(device);
    (device as unknown as Record<string, (d: { label?: string }) => unknown>)[name] = (descriptor) => {
      const made = create(descriptor);
      errors.check(`${name}(${descriptor?.label ?? ''})`);
      return made;
    };
  }
  const run = backend.runWebGPUProgram.bind(backend);
  const bufferDtype = (t: tf.TensorInfo) => backend.tensorMap.get(t.dataId)?.dtype;
  backend.runWebGPUProgram = (program, ...rest) => {
    const [inputs, dtype] = rest as [tf.TensorInfo[], string];
    fixTransposeProgram(program as never, inputs, bufferDtype, dtype);
    const out = run(program, ...rest);
    try {
      errors.check(`${program.constructor.name} (${program.shaderKey ?? 'no shader key'})`);
    } catch (e) {
      // Recompile next time rather than reuse a pipeline Dawn rejected.
      if (program.shaderKey) delete backend.pipelineCache[program.shaderKey];
      throw e;
    }
    return out;
  };
  const read = backend.read.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    errors.check('a tensor read');
    return values;
  };
  backend.readSync = (dataId) => {
    errors.check('a tensor read');
    const values = readSyncWebGPU(backend, dataId);
    errors.check('a tensor read');
    return values;
  };
  const dispose = backend.dispose.bind(backend);
  backend.dispose = () => {
    dispose();
    device.destroy(); // frees the GPU memory now rather than whenever the device is garbage-collected
  };
}

/**
 * Switches tfjs to the WebGPU backend on the best adapter Dawn offers; returns that adapter, or
 * why it could not.
 */
export async function setWebGPUBackend(): Promise<WebGPUProbe> {
  const probe = await probeWebGPU();
  if (!probe.ok) return probe;
  try {
    await registerFactory();
    (await import('../register_webgpu')).registerWebGPUKernels();
    if (!(await tf.setBackend('webgpu'))) return { ok: false, why: 'tf.setBackend("webgpu") returned false' };
  } catch (e) {
    return { ok: false, why: `the webgpu backend failed to start (${firstLine(e)})` };
  }
  return probe;
}
