import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { THREAD_ID_SOURCE, threadCpuMs, watchThread } from './thread-cpu.js';

/** A worker that reports its thread id, then spins (`busy`) or waits on a lock (idle). */
async function startWorker(busy: boolean): Promise<{ worker: Worker; tid: number | null }> {
  const body = busy ? 'for (;;) {}' : 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);';
  const worker = new Worker(`require('node:worker_threads').parentPort.postMessage(${THREAD_ID_SOURCE}()); ${body}`, { eval: true });
  const tid = await new Promise<number | null>((resolve) => worker.once('message', resolve));
  return { worker, tid };
}

describe.runIf(process.platform === 'linux')('thread CPU time', () => {
  it('a spinning thread accumulates CPU time, a blocked one does not', async () => {
    const busy = await startWorker(true);
    const idle = await startWorker(false);
    try {
      const b0 = threadCpuMs(busy.tid!)!;
      const i0 = threadCpuMs(idle.tid!)!;
      await new Promise((r) => setTimeout(r, 300));
      expect(threadCpuMs(busy.tid!)! - b0).toBeGreaterThan(0);
      expect(threadCpuMs(idle.tid!)! - i0).toBeLessThan(5);
    } finally {
      await Promise.all([busy.worker.terminate(), idle.worker.terminate()]);
    }
  });

  it('watchThread: CPU budget for a spinning thread, the wall backstop for a blocked one', async () => {
    const busy = await startWorker(true);
    const idle = await startWorker(false);
    try {
      const why = await Promise.all([
        new Promise((resolve) => watchThread(busy.tid, 50, 60_000, resolve)),
        new Promise((resolve) => watchThread(idle.tid, 50, 400, resolve)),
      ]);
      expect(why).toEqual(['cpu', 'wall']);
    } finally {
      await Promise.all([busy.worker.terminate(), idle.worker.terminate()]);
    }
  });
});
