import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';

const requireFromHere = createRequire(import.meta.url);

/**
 * Whether a tfjs-node package is installed with its native binding. Checked before importing: a
 * package installed with its install script denied has no binding, and importing it would register
 * half its kernels before throwing.
 */
function nativeBindingPresent(pkg: string): { ok: boolean; why: string } {
  let dir: string;
  try {
    dir = dirname(requireFromHere.resolve(`${pkg}/package.json`));
  } catch {
    return { ok: false, why: 'not installed' };
  }
  const lib = join(dir, 'lib');
  const found = existsSync(lib) && readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')));
  return found ? { ok: true, why: '' } : { ok: false, why: 'installed without its native binding (install script denied)' };
}

/** Backends r1-ts can run on. `tensorflow` = tfjs-node(-gpu) (libtensorflow). */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Which backend; `auto` tries tfjs-node-gpu, tfjs-node, wasm, cpu in that order. Default `auto`. */
  backend?: BackendName;
  /** wasm threads (default: the number of logical cores). */
  threads?: number;
  /** Print the choice and the reason once (default true). */
  quiet?: boolean;
}

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The tfjs backend name now active (`tensorflow`, `wasm` or `cpu`). */
  name: string;
  /** Human-readable reason, e.g. `tfjs-node not installed; wasm with SIMD and 2 threads`. */
  reason: string;
  /** wasm threads in use (1 for other backends). */
  threads: number;
}

let current: BackendInfo | null = null;

/**
 * Selects and initialises the compute backend. Safe to call more than once; the backend is chosen
 * once per process. Prints the choice and why.
 *
 * @example
 * ```ts
 * import { initBackend, disposeBackend } from '@r1-ts/tensor-kernels';
 * const info = await initBackend({ backend: 'cpu', quiet: true });
 * console.log(info.name); // 'cpu'
 * await disposeBackend();
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const want = options.backend ?? 'auto';
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(want)) {
    throw new ConfigError(`backend must be one of auto, tensorflow, wasm, cpu, got ${JSON.stringify(want)}`, ['backend']);
  }
  if (current && (want === 'auto' || current.name === want)) return current;
  const reasons: string[] = [];
  let info: BackendInfo | null = null;
  if (want === 'auto' || want === 'tensorflow') {
    info = await tryTensorflow(reasons);
    if (!info && want === 'tensorflow') throw new ConfigError(`backend "tensorflow" is unavailable: ${reasons.join('; ')}`, ['backend']);
  }
  if (!info && (want === 'auto' || want === 'wasm')) {
    info = await tryWasm(options.threads, reasons);
    if (!info && want === 'wasm') throw new ConfigError(`backend "wasm" is unavailable: ${reasons.join('; ')}`, ['backend']);
  }
  if (!info) {
    await tf.setBackend('cpu');
    await tf.ready();
    info = { name: 'cpu', reason: [...reasons, 'using the pure-JS cpu backend'].join('; '), threads: 1 };
  }
  current = info;
  if (!options.quiet) console.log(`[r1-ts] backend: ${info.name} (${info.reason})`);
  return info;
}

async function tryTensorflow(reasons: string[]): Promise<BackendInfo | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const present = nativeBindingPresent(pkg);
    if (!present.ok) {
      reasons.push(`${pkg} ${present.why}`);
      continue;
    }
    try {
      await import(pkg);
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { name: 'tensorflow', reason: `${pkg} loaded`, threads: 1 };
    } catch (e) {
      reasons.push(`${pkg} unavailable (${firstLine(e)})`);
    }
  }
  return null;
}

async function tryWasm(threads: number | undefined, reasons: string[]): Promise<BackendInfo | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    return { name: 'wasm', reason: `${reasons.length ? 'native backends missing; ' : ''}wasm with SIMD, 1 thread`, threads: threads ?? 1 };
  } catch (e) {
    reasons.push(`wasm failed (${firstLine(e)})`);
    return null;
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/**
 * The backend chosen by {@link initBackend}, or null before it ran.
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
 * Disposes the active backend (and its wasm worker threads) so the process can exit.
 *
 * @example
 * ```ts
 * import { disposeBackend } from '@r1-ts/tensor-kernels';
 * await disposeBackend();
 * ```
 */
export async function disposeBackend(): Promise<void> {
  if (!current) return;
  tf.engine().disposeVariables();
  tf.removeBackend(current.name);
  current = null;
}
