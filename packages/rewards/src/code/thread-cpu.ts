// CPU time of one thread of this process, read from Linux's /proc. The sandboxes' deadlines count
// the CPU time their worker thread spent, not wall time: on a busy machine a program gets the same
// verdict as on an idle one (wall time stretches with load, a thread's CPU time does not).
import { readFileSync } from 'node:fs';

const USER_HZ = 100; // the fixed tick rate of /proc/<pid>/task/<tid>/stat on Linux

/**
 * CPU time in ms that thread `tid` of this process has used, or `null` where /proc is not
 * available (then callers fall back to wall time). Prefers `schedstat` (ns) over `stat` (10 ms ticks).
 */
export function threadCpuMs(tid: number): number | null {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // fall through to stat
  }
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is the state (field 3)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ; // utime + stime
  } catch {
    return null;
  }
}

/** Source of a function, run inside a worker, that returns the worker thread's OS id (or null). */
export const THREAD_ID_SOURCE = `(function () {
  try { return Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) || null; } catch (e) { return null; }
})`;

/**
 * Watches a worker thread: calls `onExpire('cpu')` once the thread has spent `cpuLimitMs` of CPU
 * since the call (wall time where its CPU time cannot be read), or `onExpire('wall')` after
 * `wallLimitMs` of wall time (a backstop for a thread that blocks without using CPU). Returns a
 * function that stops the watch; `restart()` on it begins a new budget (the next test).
 */
export function watchThread(
  tid: number | null,
  cpuLimitMs: number,
  wallLimitMs: number,
  onExpire: (why: 'cpu' | 'wall') => void,
): { stop(): void; restart(): void } {
  const cpu = () => (tid === null ? null : threadCpuMs(tid));
  let wall0 = performance.now();
  let cpu0 = cpu();
  const check = () => {
    const wall = performance.now() - wall0;
    if (wall < cpuLimitMs) return; // CPU time never outruns wall time on one thread
    const now = cpu();
    const used = now === null || cpu0 === null ? wall : now - cpu0;
    if (used > cpuLimitMs) finish('cpu');
    else if (wall > wallLimitMs) finish('wall');
  };
  const timer = setInterval(check, Math.max(5, Math.min(50, cpuLimitMs / 10)));
  const finish = (why: 'cpu' | 'wall') => {
    clearInterval(timer);
    onExpire(why);
  };
  return {
    stop: () => clearInterval(timer),
    restart: () => {
      wall0 = performance.now();
      cpu0 = cpu();
    },
  };
}
