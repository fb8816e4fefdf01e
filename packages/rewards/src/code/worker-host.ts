// The host side of the sandbox worker: one lazily started, unref'd worker thread per process. A
// request that overruns its hard deadline (native built-ins between QuickJS's interrupt polls can)
// gets the worker terminated and replaced, so the host never hangs.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { THREAD_ID_SOURCE, watchThread } from './thread-cpu.js';
import { sandboxWorkerMain, type SandboxRequest, type SandboxResponse } from './worker-main.js';

let worker: Worker | undefined;
let ready: Promise<boolean> | undefined;
let workerTid: number | null = null;
let nextId = 0;
const pending = new Map<number, (res: SandboxResponse) => void>();

function failAll(message: string): void {
  for (const [id, resolve] of pending) resolve({ id, status: 'fault', message });
  pending.clear();
}

function getWorker(): Worker {
  if (worker) return worker;
  const quickjsPath = createRequire(import.meta.url).resolve('quickjs-emscripten');
  // `__name`: the helper esbuild inserts into function bodies under keepNames (tsx does); a no-op here.
  const source = `var __name = (f) => f;\n(${sandboxWorkerMain.toString()})(require('node:worker_threads').parentPort, require(${JSON.stringify(quickjsPath)}), require, ${THREAD_ID_SOURCE}());`;
  // Held (keeping the process alive) only while starting or answering: an idle worker never keeps
  // a process from exiting. (Adding a 'message' listener refs it again, so unref comes after.)
  const w = new Worker(source, { eval: true, resourceLimits: { stackSizeMb: 8, maxOldGenerationSizeMb: 256 } });
  let signalReady: (ok: boolean) => void = () => {};
  ready = new Promise((resolve) => (signalReady = resolve));
  w.on('message', (res: SandboxResponse) => {
    if (res.id === -1) {
      workerTid = res.status === 'ok' ? (res.tid ?? null) : null;
      if (pending.size === 0) w.unref();
      return signalReady(true);
    }
    const resolve = pending.get(res.id);
    pending.delete(res.id);
    if (pending.size === 0) w.unref();
    resolve?.(res);
  });
  const lost = (why: string) => {
    signalReady(false);
    if (worker === w) worker = undefined;
    failAll(why);
  };
  w.on('error', (e) => lost(`sandbox worker failed: ${e.message}`));
  w.on('exit', (code) => lost(`sandbox worker exited with code ${code}`));
  worker = w;
  return w;
}

/**
 * Sends one request to the sandbox worker. Resolves with a `fault` if the worker dies, and with
 * `null` if the worker thread spends `hardDeadlineMs` of CPU time on it (wall time where CPU time
 * cannot be read), or ten times that plus 10 s of wall time, first; the worker is then terminated.
 * Counting CPU time keeps the verdict independent of machine load: a memory bomb reaches its
 * memory limit at the same point of its own work however slowly a busy machine runs it.
 */
export async function runInWorker(req: Omit<SandboxRequest, 'id'>, hardDeadlineMs: number): Promise<SandboxResponse | null> {
  const w = getWorker();
  const id = nextId++;
  if (!(await ready)) return { id, status: 'fault', message: 'sandbox worker failed to start' };
  return new Promise((resolve) => {
    const watch = watchThread(workerTid, hardDeadlineMs, 10 * hardDeadlineMs + 10_000, () => {
      pending.delete(id);
      if (worker === w) worker = undefined;
      void w.terminate();
      resolve(null);
    });
    pending.set(id, (res) => {
      watch.stop();
      resolve(res);
    });
    w.ref();
    w.postMessage({ ...req, id });
  });
}
