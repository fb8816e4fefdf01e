// Backend selection: tfjs-node-gpu → tfjs-node → webgpu (when asked, or on a real GPU adapter) → wasm (SIMD, threads) → cpu.
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { nativeBindingPresent } from './native';
import { useGemm } from './native_gemm';
import { nativeAddonMissing, nativeKernels } from './native_addon';
import { installWasmCopyKernels } from './wasm_copy_kernels';
import { guardWasmHeap } from './wasm_heap';
import { registerR1Kernels } from '../register_all';
import type { GemmChoice, GemmInfo } from './native_gemm';
import { MAX_WASM_THREADS, unrefWasmThreads, withNodeWasmThreads } from './wasm_threads';
import { probeWebGPU, setWebGPUBackend, type WebGPUAdapterSummary } from './webgpu';

/**
 * Backends r1-ts can run on. `tensorflow` = tfjs-node(-gpu) (libtensorflow); `webgpu` = tfjs's WebGPU
 * backend on Dawn (the optional `webgpu` package).
 *
 * @example
 * ```ts
 * import { initBackend, type BackendName } from '@r1-ts/tensor-kernels';
 * const backend: BackendName = 'auto'; // keeps the backend already chosen
 * console.log((await initBackend({ backend, quiet: true })).name); // e.g. 'wasm'
 * ```
 */
export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/**
 * Options of {@link initBackend}.
 *
 * @example
 * ```ts
 * import { initBackend, type InitBackendOptions } from '@r1-ts/tensor-kernels';
 * const options: InitBackendOptions = { backend: 'auto', quiet: true };
 * await initBackend(options);
 * ```
 */
export interface InitBackendOptions {
  /**
   * Which backend; `auto` tries tfjs-node-gpu, tfjs-node, webgpu (only on a real GPU adapter, not a
   * CPU fallback such as lavapipe), wasm, cpu in that order and keeps an earlier choice; an explicit
   * name switches to that backend. Default `auto`, which `R1_BACKEND` in the environment overrides.
   */
  backend?: BackendName;
  /** wasm threads (default: the number of logical cores; at most 8, the size of tfjs's worker pool). */
  threads?: number;
  /** Do not print the choice and the reason (default false: printed once per new choice). */
  quiet?: boolean;
  /**
   * The GEMM behind `tf.matMul` on wasm and cpu (see {@link useGemm}): `auto` (default) takes the
   * system BLAS through r1-ts's native addon when it is built and finds a BLAS library, else tfjs's own;
   * `R1_GEMM=builtin` in the environment makes `auto` mean `builtin`.
   */
  gemm?: GemmChoice;
}

/**
 * What {@link initBackend} chose and why.
 *
 * @example
 * ```ts
 * import { initBackend, type BackendInfo } from '@r1-ts/tensor-kernels';
 * const info: BackendInfo = await initBackend({ quiet: true });
 * console.log(`${info.name} (${info.threads} threads): ${info.reason}`);
 * ```
 */
export interface BackendInfo {
  /** The tfjs backend name now active (`tensorflow`, `webgpu`, `wasm` or `cpu`). */
  name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** Human-readable reason, e.g. `@tensorflow/tfjs-node not installed; wasm with SIMD and 2 threads`. */
  reason: string;
  /** Threads actually used by the wasm backend's XNNPACK pool (1 for the other backends). */
  threads: number;
  /** Which GEMM runs `tf.matMul`: `blas` (native addon), `builtin` (the backend's own). */
  gemm: GemmInfo['name'];
  /** The WebGPU adapter, on the `webgpu` backend (check `software`: a CPU adapter is not a GPU). */
  adapter?: WebGPUAdapterSummary;
}

/** A backend choice before the GEMM behind it is settled. */
type Chosen = Omit<BackendInfo, 'gemm'>;

const BACKENDS: readonly BackendName[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
const WASM_PRIORITY = 2; // tfjs-backend-wasm's own registration priority

let current: BackendInfo | null = null;
/** The live wasm backend instance and the thread count it was built with. */
let wasmBuilt: { instance: tf.KernelBackend; threads: number; used: number; desc: string } | null = null;
const printed = new Set<string>();

// tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js … install our node
// backend" on its first tensor, in every process that touches a tensor before initBackend (README
// examples, tests). r1-ts says which backend runs and why itself (initBackend's line), and the node
// backend is optional here (it downloads libtensorflow), so the banner is silenced on import: for the
// cpu backend instance tfjs has made, and for the ones its registered factory makes later.
silenceCpuBannerOnCreate();

/**
 * Selects and initialises the compute backend and prints the choice and why (once per new
 * choice, unless `quiet`). `auto` keeps the backend already chosen; an explicit `backend` switches
 * to it (tensors already created stay readable: tfjs moves them on first use). Asking wasm for a
 * different thread count rebuilds the wasm backend, which invalidates tensors living on it.
 *
 * @param options - `backend` (default `auto`), wasm `threads`, `quiet` (no line printed), and the `gemm` behind `tf.matMul` on cpu/wasm.
 *
 * @example
 * ```ts
 * import { initBackend, disposeBackend } from '@r1-ts/tensor-kernels';
 * const info = await initBackend({ backend: 'wasm', threads: 2, quiet: true });
 * console.log(info.name, info.threads); // 'wasm' 2
 * await disposeBackend(); // stops the wasm worker threads so the process can exit
 * ```
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  // Serialised: two concurrent calls must not build two wasm thread pools.
  const run = pending.then(() => select(options));
  pending = run.catch(() => undefined);
  return run;
}

let pending: Promise<unknown> = Promise.resolve();

async function select(options: InitBackendOptions): Promise<BackendInfo> {
  registerR1Kernels(); // a no-op unless a bundler dropped the package's top-level call
  const env = process.env.R1_BACKEND;
  const fromEnv = (options.backend ?? 'auto') === 'auto' && env !== undefined && env !== '';
  const want = (fromEnv ? env : options.backend ?? 'auto') as BackendName;
  if (!BACKENDS.includes(want)) {
    const field = fromEnv ? 'R1_BACKEND' : 'backend';
    throw new ConfigError(`${field} must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(want)}`, [field]);
  }
  const threads = options.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new ConfigError(`threads must be a positive integer, got ${JSON.stringify(threads)}`, ['threads']);
  }
  if (options.gemm !== undefined && !['auto', 'blas', 'builtin'].includes(options.gemm)) {
    throw new ConfigError(`gemm must be one of auto, blas, builtin, got ${JSON.stringify(options.gemm)}`, ['gemm']);
  }
  if (current && tf.getBackend() === current.name && (options.gemm === undefined || options.gemm === 'auto' || options.gemm === current.gemm)) {
    if (want === 'auto' && threads === undefined) return current;
    if ((want === 'auto' || want === current.name) && (current.name !== 'wasm' || threads === undefined || wasmBuilt?.threads === threads)) {
      return current;
    }
  }

  const reasons: string[] = [];
  let chosen: Chosen | null = null;
  if (want === 'auto' || want === 'tensorflow') {
    chosen = await tryTensorflow(reasons);
    if (!chosen && want === 'tensorflow') throw new ConfigError(`backend "tensorflow" is unavailable: ${reasons.join('; ')}`, ['backend']);
  }
  if (!chosen && (want === 'auto' || want === 'webgpu')) {
    chosen = await tryWebGPU(want === 'webgpu', reasons);
    if (!chosen && want === 'webgpu') throw new ConfigError(`backend "webgpu" is unavailable: ${reasons.join('; ')}`, ['backend']);
  }
  if (!chosen && (want === 'auto' || want === 'wasm')) {
    chosen = await tryWasm(threads ?? logicalCores(), reasons);
    if (!chosen && want === 'wasm') throw new ConfigError(`backend "wasm" is unavailable: ${reasons.join('; ')}`, ['backend']);
  }
  if (!chosen) {
    await tf.setBackend('cpu');
    silenceCpuBanner();
    chosen = { name: 'cpu', reason: [...reasons, 'pure-JS cpu backend'].join('; '), threads: 1 };
  }
  const reason = want === 'auto' ? chosen.reason : `requested; ${chosen.reason}`;
  let info: BackendInfo;
  if (chosen.name === 'tensorflow' || chosen.name === 'webgpu') {
    info = { ...chosen, reason, gemm: 'builtin' };
  } else {
    if (chosen.name === 'wasm') {
      installWasmCopyKernels();
      guardWasmHeap(tf.backend());
    }
    const gemm = useGemm(options.gemm ?? 'auto');
    const kernels = nativeKernels() ? 'C (native addon)' : `JS (${process.env.R1_NATIVE === 'off' ? 'R1_NATIVE=off' : nativeAddonMissing() || 'native kernels off'})`;
    info = { ...chosen, gemm: gemm.name, reason: `${reason}; GEMM: ${gemm.name === 'blas' ? `BLAS (${gemm.library}${gemm.core ? `, ${gemm.core} kernels` : ''})` : `tfjs builtin (${gemm.reason})`}; fused kernels: ${kernels}` };
  }
  current = info;
  const line = `[r1-ts] backend: ${info.name} (${info.reason})`;
  if (!options.quiet && !printed.has(line)) {
    printed.add(line);
    console.log(line);
  }
  return info;
}

function logicalCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

async function tryTensorflow(reasons: string[]): Promise<Chosen | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const present = nativeBindingPresent(pkg);
    if (!present.ok) {
      reasons.push(`${pkg} ${present.why}`);
      continue;
    }
    try {
      await import(pkg);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") returned false');
      return { name: 'tensorflow', reason: `${pkg} loaded`, threads: 1 };
    } catch (e) {
      reasons.push(`${pkg} unavailable (${firstLine(e)})`);
    }
  }
  return null;
}

/**
 * webgpu when asked for, or in `auto` when Dawn offers a real GPU adapter (a CPU fallback adapter
 * such as lavapipe is slower than wasm, so `auto` passes it by).
 */
async function tryWebGPU(asked: boolean, reasons: string[]): Promise<Chosen | null> {
  if (!asked) {
    // Loading Dawn costs start-up time and prints warnings on stderr: in `auto`, only where a GPU driver exists.
    const driver = gpuDriverHint();
    if (driver) {
      reasons.push(`webgpu skipped: ${driver}`);
      return null;
    }
    const probe = await probeWebGPU();
    if (!probe.ok) {
      reasons.push(`webgpu: ${probe.why}`);
      return null;
    }
    if (probe.adapter.software) {
      reasons.push(`webgpu skipped: only a CPU adapter (${probe.adapter.description})`);
      return null;
    }
  }
  const got = await setWebGPUBackend();
  if (!got.ok) {
    reasons.push(`webgpu: ${got.why}`);
    return null;
  }
  const a = got.adapter;
  const what = `webgpu on ${a.description || a.device} (${a.vendor}, ${a.architecture})`;
  const warning = a.software ? ' — WARNING: a CPU adapter, not a GPU' : '';
  return { name: 'webgpu', reason: [...reasons, `${what}${warning}`].join('; '), threads: 1, adapter: a };
}

/**
 * Why `auto` need not look for a GPU adapter, or null when it should. On Linux every GPU driver Dawn
 * can use (through Vulkan) works on a device node — /dev/nvidia*, /dev/dri/renderD* (AMD, Intel,
 * Mesa), /dev/dxg (WSL) — so without one there is no GPU adapter to find, only lavapipe on the CPU.
 * `VK_ICD_FILENAMES`/`VK_DRIVER_FILES` (a driver named explicitly) and other systems always probe.
 */
function gpuDriverHint(): string | null {
  if (process.platform !== 'linux' || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return null;
  const has = (path: string) => existsSync(path);
  let render = false;
  try {
    render = readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    // no /dev/dri
  }
  if (render || has('/dev/nvidia0') || has('/dev/nvidiactl') || has('/dev/dxg')) return null;
  return 'no GPU device (/dev/nvidia*, /dev/dri/renderD*, /dev/dxg)';
}

async function tryWasm(requested: number, reasons: string[]): Promise<Chosen | null> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    reasons.push(`@tensorflow/tfjs-backend-wasm failed to load (${firstLine(e)})`);
    return null;
  }
  if (wasmBuilt && tf.findBackend('wasm') === wasmBuilt.instance && wasmBuilt.threads === requested && (await tf.setBackend('wasm'))) {
    return { name: 'wasm', reason: [...reasons, wasmBuilt.desc].join('; '), threads: wasmBuilt.used };
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  // tfjs ships the threaded binary only as threaded-SIMD.
  const attempts = requested > 1 && simd && typeof SharedArrayBuffer === 'function' ? [requested, 1] : [1];
  for (const threads of attempts) {
    try {
      if (tf.findBackend('wasm')) rebuildable('wasm', WASM_PRIORITY);
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
      wasm.setThreadsCount(threads);
      const ok = threads > 1 ? await withNodeWasmThreads(threads, () => tf.setBackend('wasm')) : await tf.setBackend('wasm');
      if (!ok) throw new Error('tf.setBackend("wasm") returned false');
      if (threads > 1) unrefWasmThreads(tf.backend());
      const used = threads > 1 ? wasm.getThreadsCount() : 1;
      const capped = requested > MAX_WASM_THREADS && used === MAX_WASM_THREADS ? ` (capped from ${requested})` : '';
      const desc = `wasm with ${simd ? 'SIMD' : 'no SIMD'} and ${used} thread${used === 1 ? '' : 's'}${capped}`;
      wasmBuilt = { instance: tf.backend(), threads: requested, used, desc };
      return { name: 'wasm', reason: [...reasons, desc].join('; '), threads: used };
    } catch (e) {
      reasons.push(`wasm with ${threads} thread${threads === 1 ? '' : 's'} failed (${firstLine(e)})`);
    }
  }
  return null;
}

/** Disposes the live instance of a backend but keeps its factory, so it can be initialised again. */
function rebuildable(name: string, priority: number): void {
  const factory = tf.findBackendFactory(name);
  tf.removeBackend(name);
  tf.registerBackend(name, factory, priority);
}

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js..." on its first
 * tensor; r1-ts already says which backend it chose and why, so mark that first use as done.
 */
function silenceCpuBannerOnCreate(): void {
  type Made = { firstUse?: boolean };
  const engine = tf.engine() as unknown as { registry?: Record<string, Made>; registryFactory?: Record<string, { factory: () => Made }> };
  const made = engine.registry?.cpu;
  if (made && 'firstUse' in made) made.firstUse = false;
  const entry = engine.registryFactory?.cpu;
  if (!entry) return;
  const factory = entry.factory;
  entry.factory = () => {
    const backend = factory();
    if (backend && 'firstUse' in backend) backend.firstUse = false;
    return backend;
  };
}

function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/**
 * The backend chosen by {@link initBackend}, or null before it ran (or after {@link disposeBackend}).
 *
 * @example
 * ```ts
 * import { currentBackend } from '@r1-ts/tensor-kernels';
 * console.log(currentBackend()?.name ?? 'not initialised');
 * ```
 */
export function currentBackend(): BackendInfo | null {
  return current;
}

/**
 * Disposes every initialised backend, including the wasm worker threads that would otherwise
 * keep Node running, and every tensor and variable. Backends stay registered: a later
 * {@link initBackend} starts afresh.
 *
 * @example
 * ```ts
 * import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
 * await initBackend({ backend: 'wasm', quiet: true });
 * await disposeBackend(); // the process now exits on its own
 * ```
 */
export async function disposeBackend(): Promise<void> {
  // engine.reset() disposes every backend instance (BackendWasm.dispose terminates its
  // pthreads), all tensors and variables, and tfjs flags; backend factories stay registered.
  tf.engine().reset();
  current = null;
  wasmBuilt = null;
}
