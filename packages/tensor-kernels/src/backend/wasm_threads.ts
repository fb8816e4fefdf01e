// Makes @tensorflow/tfjs-backend-wasm 4.22's threaded-SIMD build run under Node.
//
// Upstream turns threads off in Node (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE,
// tfjs issue #3830) because it hands Emscripten two Blob URLs: the pthread worker script and the
// "main script" every worker evaluates. Node's worker_threads only start from file paths and the
// worker reads the main script with fs.readFileSync. So, only while the backend initialises, we:
//  1. record the text of the Blobs tfjs creates and write it to content-addressed files in the
//     temp folder (URL.createObjectURL returns the file path instead of a blob: URL);
//  2. prefix the worker script so that, inside each worker, the main script resolves to its file;
//  3. report 2·threads logical cores: tfjs's C++ caps XNNPACK at min(requested, cores / 2, 8).
// Everything is restored as soon as initialisation settles.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/**
 * Most wasm threads: tfjs-backend-wasm 4.22 pre-creates 8 pthread workers and its C++ caps
 * XNNPACK's pool at 8.
 *
 * @example
 * ```ts
 * const threads = Math.min(requested, MAX_WASM_THREADS);
 * ```
 */
export const MAX_WASM_THREADS = 8;

const MAIN_SCRIPT_MARK = 'var WasmBackendModuleThreadedSimd';

// The factory tfjs stringifies is a closure from its CommonJS bundle; these are the bundle-level
// names it refers to (Node built-ins, the global object, and three tslib down-levelling helpers).
// (`_scriptDir` only matters in browsers: workers receive the compiled module, not a path.)
const MAIN_SCRIPT_PRELUDE = `
var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');
var commonjsGlobal = globalThis, _scriptDir = undefined;
function __values(o) { return o[Symbol.iterator](); }
function __read(o, n) { var a = Array.from(o); return n === undefined ? a : a.slice(0, n); }
function __spreadArray(to, from) { return to.concat(Array.from(from)); }
`;

// Inside a worker, the "load" message carries the main script as a Blob: resolve it to our file.
const workerPrelude = (mainPath: string) =>
  `URL.createObjectURL = function () { return ${JSON.stringify(mainPath)}; }; URL.revokeObjectURL = function () {};\n`;

const written = new Map<string, string>();
let scriptDir: string | null = null;

/** `<tmp>/r1-ts-wasm-<uid>`, created private; refused if someone else owns it or can write to it. */
function privateDir(): string {
  if (scriptDir) return scriptDir;
  const dir = join(os.tmpdir(), `r1-ts-wasm-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a private folder of this user: refusing to run worker scripts from it`);
  }
  return (scriptDir = dir);
}

/**
 * Writes `text` once to `<privateDir>/<sha>.js`, atomically (concurrent processes may race). A
 * file already there is reused only if its content matches: workers execute it.
 */
function writeScript(text: string): string {
  const known = written.get(text);
  if (known) return known;
  const path = join(privateDir(), `${createHash('sha256').update(text).digest('hex').slice(0, 24)}.js`);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
  }
  written.set(text, path);
  return path;
}

/**
 * Runs `init` (which must call `tf.setBackend('wasm')` with WASM_HAS_MULTITHREAD_SUPPORT set)
 * with the Node shims described at the top of this file installed, and removes them afterwards.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
 * await withNodeWasmThreads(2, () => tf.setBackend('wasm'));
 * ```
 */
export async function withNodeWasmThreads<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const RealBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL;
  const realCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  let mainPath: string | null = null;

  class RecordingBlob extends RealBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = [...(args[0] ?? [])];
      if (parts.every((p) => typeof p === 'string')) {
        const text = parts.join('');
        texts.set(this, text);
        if (text.startsWith(MAIN_SCRIPT_MARK)) mainPath = writeScript(MAIN_SCRIPT_PRELUDE + text);
      }
    }
  }

  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (obj: Blob) => {
    const text = texts.get(obj);
    if (text === undefined) return realCreate(obj);
    if (mainPath === null) throw new Error('tfjs-backend-wasm created its worker before its main script');
    return writeScript(workerPrelude(mainPath) + text);
  };
  const fakeCores = Math.max(2, 2 * Math.min(Math.max(1, threads), MAX_WASM_THREADS));
  os.cpus = () => {
    const real = realCpus();
    return Array.from({ length: fakeCores }, (_, i) => real[i % Math.max(1, real.length)]);
  };
  try {
    return await init();
  } finally {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreate;
    os.cpus = realCpus;
  }
}

/**
 * Lets Node exit while the wasm backend's XNNPACK threads are alive. Emscripten ref()s a worker
 * when it starts a pthread, and the pool's threads run until the backend is disposed, so a
 * program that forgot `disposeBackend()` would never exit. The threads only serve synchronous
 * kernels the main thread waits for, so nothing is lost when the process ends under them.
 *
 * @example
 * ```ts
 * await withNodeWasmThreads(2, () => tf.setBackend('wasm'));
 * unrefWasmThreads(tf.backend());
 * ```
 */
export function unrefWasmThreads(backend: unknown): void {
  type Pool = { wasm?: { PThread?: { runningWorkers?: Array<{ unref?: () => void }> } } };
  for (const worker of (backend as Pool).wasm?.PThread?.runningWorkers ?? []) worker.unref?.();
}
