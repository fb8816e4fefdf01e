// The host side of the Python sandbox: a pool of warm Pyodide worker threads per memory limit, one
// program at a time per worker, plus one started spare so a killed worker is replaced at once. The
// first worker of the process starts CPython from scratch and hands back a memory snapshot; every
// later one starts from that snapshot and from the module the host compiled once (well under the
// cold start). A worker is killed when its test exceeds its CPU time (read from /proc, see
// thread-cpu.ts) or a generous wall-time backstop, and replaced after any fault, after a
// memory-limit verdict (its memory cannot shrink) or once its heap has grown past a bound.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { THREAD_ID_SOURCE, watchThread } from '../thread-cpu.js';
import { HARNESS_SOURCE } from './harness.js';
import {
  pythonWorkerMain,
  type PythonOutcome,
  type PythonWorkerInit,
  type PythonWorkerMessage,
  type PythonWorkerRequest,
  type PythonWorkerTest,
} from './worker-main.js';

/** What one program's run produced: an outcome per test it reached, and why it stopped early. */
export interface ProgramRun {
  outcomes: Array<{ outcome: PythonOutcome; memoryLimitHit: boolean } | undefined>;
  /** Set when the worker was killed or died before the last test: the test it was on, and why. */
  stopped: { index: number; why: 'timeout' | 'memory-limit' | 'sandbox-fault'; message: string } | null;
}

/** Limits of one program's run. */
export interface ProgramLimits {
  /** CPU time per test, ms. */
  timeoutMs: number;
  /** Wall-time backstop per test, ms (for a thread that blocks without using CPU). */
  wallTimeoutMs: number;
  memoryLimitBytes: number;
  maxOutputChars: number;
}

const RECYCLE_HEAP_ABOVE_BYTES = 128 * 2 ** 20; // WebAssembly memory cannot shrink: a worker grown past this is replaced
const START_TIMEOUT_MS = 300_000;

let shared: { indexURL: string; wasmModule: Promise<unknown>; wasmBytes: number } | undefined;
let snapshot: Promise<Uint8Array> | undefined;

function pyodideFiles(): { indexURL: string; wasmModule: Promise<unknown>; wasmBytes: number } {
  if (shared) return shared;
  const indexURL = dirname(createRequire(import.meta.url).resolve('pyodide/package.json')) + '/';
  const bytes = readFileSync(join(indexURL, 'pyodide.asm.wasm'));
  shared = { indexURL, wasmModule: (globalThis as any).WebAssembly.compile(bytes) as Promise<unknown>, wasmBytes: bytes.byteLength };
  return shared;
}

class Interpreter {
  readonly ready: Promise<boolean>;
  tid: number | null = null;
  dead = false;
  private readonly worker: Worker;
  private listener: ((m: PythonWorkerMessage) => void) | null = null;
  private onLost: ((why: string, oom: boolean) => void) | null = null;

  constructor(init: PythonWorkerInit, onSnapshot: (s: Uint8Array) => void) {
    const source = `var __name = (f) => f;\n(${pythonWorkerMain.toString()})(require('node:worker_threads').parentPort, require('node:worker_threads').workerData, require, ${THREAD_ID_SOURCE}());`;
    this.worker = new Worker(source, { eval: true, workerData: init, resourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 8 } });
    let signal: (ok: boolean) => void = () => {};
    this.ready = new Promise((resolve) => (signal = resolve));
    const startTimer = setTimeout(() => this.kill(), START_TIMEOUT_MS);
    startTimer.unref();
    this.worker.on('message', (m: PythonWorkerMessage) => {
      if (m.kind === 'ready') {
        clearTimeout(startTimer);
        this.worker.unref();
        this.tid = m.tid;
        if (m.snapshot) onSnapshot(m.snapshot);
        signal(true);
      } else if (m.kind === 'start-failed') {
        clearTimeout(startTimer);
        signal(false);
        this.kill();
      } else this.listener?.(m);
    });
    const lost = (why: string, oom = false) => {
      clearTimeout(startTimer);
      this.dead = true;
      signal(false);
      this.onLost?.(why, oom);
    };
    this.worker.on('error', (e: Error & { code?: string }) => lost(`sandbox worker failed: ${e.message}`, e.code === 'ERR_WORKER_OUT_OF_MEMORY'));
    this.worker.on('exit', (code) => lost(`sandbox worker exited with code ${code}`));
    // Held (keeping the process alive) only while starting or running a program: an idle pool
    // never keeps a process from exiting.
  }

  kill(): void {
    this.dead = true;
    void this.worker.terminate();
  }

  /** Runs one program; never rejects. `reuse` is false when this worker must not be used again. */
  run(req: PythonWorkerRequest, limits: ProgramLimits): Promise<{ run: ProgramRun; reuse: boolean }> {
    const outcomes: ProgramRun['outcomes'] = req.tests.map(() => undefined);
    return new Promise((resolve) => {
      let next = 0; // the test in progress
      let faultAt: number | null = null; // the test during which the interpreter itself failed
      const finish = (stopped: ProgramRun['stopped'], reuse: boolean) => {
        watch.stop();
        this.worker.unref();
        this.listener = null;
        this.onLost = null;
        if (!reuse) this.kill();
        resolve({ run: { outcomes, stopped }, reuse });
      };
      const watch = watchThread(this.tid, limits.timeoutMs, limits.wallTimeoutMs, (why) => {
        const message = why === 'cpu' ? `CPU time limit of ${limits.timeoutMs} ms exceeded` : `wall-time limit of ${limits.wallTimeoutMs} ms exceeded`;
        finish({ index: next, why: 'timeout', message: `${message}; interpreter terminated` }, false);
      });
      this.onLost = (why, oom) => finish({ index: next, why: oom ? 'memory-limit' : 'sandbox-fault', message: why }, false);
      this.listener = (m) => {
        if (m.kind === 'test' && m.id === req.id) {
          if (m.index < 0) {
            outcomes[next] = { outcome: m.outcome, memoryLimitHit: m.memoryLimitHit };
            faultAt = next;
            return;
          }
          outcomes[m.index] = { outcome: m.outcome, memoryLimitHit: m.memoryLimitHit };
          next = m.index + 1;
          watch.restart();
        } else if (m.kind === 'done' && m.id === req.id) {
          const hit = outcomes.some((o) => o?.memoryLimitHit);
          const stopped = faultAt === null ? null : { index: faultAt, why: 'sandbox-fault' as const, message: 'the interpreter failed' };
          finish(stopped, m.healthy && !hit && m.heapBytes <= RECYCLE_HEAP_ABOVE_BYTES);
        }
      };
      this.worker.ref();
      this.worker.postMessage(req);
    });
  }
}

/** Warm interpreters for one memory limit: `size` programs at a time, one more started as a spare. */
class Pool {
  private idle: Interpreter[] = [];
  private waiters: Array<{ resolve: (i: Interpreter) => void; reject: (e: Error) => void }> = [];
  private alive = 0; // started or starting
  private running = 0;
  private queue: Array<() => void> = [];

  constructor(
    private readonly memoryLimitBytes: number,
    private readonly size: number,
  ) {}

  private async spawn(): Promise<Interpreter> {
    const files = pyodideFiles();
    const wasmModule = await files.wasmModule;
    if (snapshot === undefined) {
      // The first interpreter of the process starts cold and provides the snapshot for the rest.
      let provide: (s: Uint8Array) => void = () => {};
      let fail: (e: Error) => void = () => {};
      snapshot = new Promise((resolve, reject) => ((provide = resolve), (fail = reject)));
      snapshot.catch(() => {});
      const interp = this.make(files, wasmModule, null, provide);
      if (!(await interp.ready)) {
        snapshot = undefined;
        fail(new Error('the Python interpreter failed to start'));
        throw new Error('the Python interpreter failed to start');
      }
      return interp;
    }
    const interp = this.make(files, wasmModule, await snapshot, () => {});
    if (!(await interp.ready)) throw new Error('the Python interpreter failed to start');
    return interp;
  }

  private make(files: { indexURL: string; wasmBytes: number }, wasmModule: unknown, snap: Uint8Array | null, onSnapshot: (s: Uint8Array) => void): Interpreter {
    const base = snap ? snap.byteLength : 32 * 2 ** 20;
    return new Interpreter(
      {
        indexURL: files.indexURL,
        wasmModule,
        wasmBytes: files.wasmBytes,
        snapshot: snap,
        memoryCapBytes: Math.ceil((base + this.memoryLimitBytes) / 65536) * 65536,
        fileQuotaBytes: Math.floor(this.memoryLimitBytes / 4),
        harness: HARNESS_SOURCE,
      },
      onSnapshot,
    );
  }

  /** Starts interpreters until `size` + 1 are alive or starting. */
  private fill(): void {
    while (this.alive < this.size + 1) {
      this.alive++;
      this.spawn().then(
        (i) => this.offer(i),
        (e: Error) => {
          this.alive--;
          this.waiters.shift()?.reject(e); // no retry loop: the next acquire tries again
        },
      );
    }
  }

  private offer(i: Interpreter): void {
    const w = this.waiters.shift();
    if (w) w.resolve(i);
    else this.idle.push(i);
  }

  private acquire(): Promise<Interpreter> {
    this.fill();
    const i = this.idle.pop();
    return i ? Promise.resolve(i) : new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(i: Interpreter, reuse: boolean): void {
    if (reuse && !i.dead) return this.offer(i);
    this.alive--;
    this.fill(); // the spare takes over; a new spare starts
  }

  /** Resolves once `size` + 1 interpreters are started and idle (nothing is running). */
  async warm(): Promise<void> {
    this.fill();
    while (this.idle.length < this.size + 1) {
      const i = await this.acquire();
      this.offer(i);
      if (this.idle.length < this.size + 1) await new Promise((r) => setTimeout(r, 50));
    }
  }

  async run(req: PythonWorkerRequest, limits: ProgramLimits): Promise<ProgramRun> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve)); // the slot is handed over
    else this.running++;
    try {
      const interp = await this.acquire();
      const { run, reuse } = await interp.run(req, limits);
      this.release(interp, reuse);
      return run;
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}

const pools = new Map<string, Pool>();
let nextId = 0;

function poolFor(memoryLimitBytes: number, size: number): Pool {
  const key = `${memoryLimitBytes}/${size}`;
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = new Pool(memoryLimitBytes, size)));
  return pool;
}

/** Starts the interpreters of the pool for this memory limit and size, resolving when all are idle. */
export function warmPythonPool(memoryLimitBytes: number, size: number): Promise<void> {
  return poolFor(memoryLimitBytes, size).warm();
}

/**
 * Runs `code` against `tests` in a warm interpreter of the pool for this memory limit. Resolves
 * with each test's raw outcome; throws only when no interpreter can be started at all.
 */
export async function runPythonProgram(code: string, tests: PythonWorkerTest[], limits: ProgramLimits, poolSize: number): Promise<ProgramRun> {
  return poolFor(limits.memoryLimitBytes, poolSize).run({ id: nextId++, code, tests, maxOutputChars: limits.maxOutputChars }, limits);
}
