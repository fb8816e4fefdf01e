// Runs one test of a solution inside QuickJS (quickjs-emscripten) in a worker thread: a fresh runtime
// and context per test, a memory limit (a hard cap on the WASM heap, see worker-main.ts), a stack
// limit, a CPU deadline enforced by the interrupt handler and a hard deadline enforced by terminating
// the worker (both count the worker thread's CPU time, so a verdict does not depend on machine load). The context has no fs, network, process, require, import, timers, shared memory or
// running clock (Date reads a frozen instant); queued Promise jobs never run. The host only reads
// back JSON of at most `maxOutputChars` characters and error messages clipped to 2,000.
import type { CodeTest } from '../types.js';
import { decodeValue, deepEqual, preludeSource, preview } from './values.js';
import { runInWorker } from './worker-host.js';
import type { SandboxResponse } from './worker-main.js';

/**
 * Why a test failed: the code block is missing or does not parse, loading it threw, the test's CPU
 * deadline passed, it ran out of memory or stack, its result was too large or wrong, the test's own
 * code threw (an assertion), or the sandbox itself faulted (the WASM instance is then replaced);
 * `not-run`: the Python reward stopped the program's remaining tests after one was killed.
 *
 * @example
 * ```ts
 * import type { CodeFailureKind } from '@r1-ts/rewards';
 * const retryable: CodeFailureKind[] = ['timeout', 'sandbox-fault'];
 * ```
 */
export type CodeFailureKind =
  | 'no-code-block'
  | 'syntax-error'
  | 'load-error'
  | 'timeout'
  | 'memory-limit'
  | 'stack-overflow'
  | 'output-too-large'
  | 'wrong-answer'
  | 'test-error'
  | 'sandbox-fault'
  | 'not-run';

/**
 * The outcome of one test: `pass`, and when it failed, a `kind` and a human-readable `reason`.
 *
 * @example
 * ```ts
 * import type { CodeTestResult } from '@r1-ts/rewards';
 * const r: CodeTestResult = { pass: false, kind: 'timeout', reason: 'timeout: CPU deadline of 1000 ms exceeded' };
 * ```
 */
export interface CodeTestResult {
  pass: boolean;
  kind: CodeFailureKind | null;
  reason: string | null;
}

/** Resource limits of one test. */
export interface SandboxLimits {
  timeoutMs: number;
  memoryLimitBytes: number;
  maxStackBytes: number;
  maxOutputChars: number;
  tolerance: number;
}

/** Maps the worker's raw outcome to a test result. */
function classify(res: SandboxResponse, limits: SandboxLimits): { kind: CodeFailureKind; message: string } | null {
  if (res.status === 'ok') return null;
  if (res.status === 'fault') return { kind: 'sandbox-fault', message: res.message };
  const { name, message, stage } = res;
  if (name === 'InternalError' && message === 'interrupted') return { kind: 'timeout', message: `CPU deadline of ${limits.timeoutMs} ms exceeded` };
  if (/out of memory|string too long/i.test(message)) return { kind: 'memory-limit', message: `${name}: ${message}` };
  if (/stack overflow/i.test(message)) return { kind: 'stack-overflow', message: `${name}: ${message}` };
  if (/^output too large/.test(message)) return { kind: 'output-too-large', message };
  if (stage === 'load') return { kind: name === 'SyntaxError' ? 'syntax-error' : 'load-error', message: `${name}: ${message}` };
  return { kind: 'test-error', message: `${name}: ${message}` };
}

const fail = (kind: CodeFailureKind, message: string): CodeTestResult => ({ pass: false, kind, reason: `${kind}: ${message}` });

/**
 * Runs `test` against `solution` in a fresh QuickJS runtime inside the sandbox worker thread. Never
 * throws; a worker that overruns twice the CPU deadline (plus a second) of CPU time is terminated and
 * replaced.
 */
export async function runTest(solution: string, test: CodeTest, fnName: string | undefined, limits: SandboxLimits): Promise<CodeTestResult> {
  const code =
    'assert' in test ? test.assert : typeof test.input === 'string' ? `(${test.input}\n)` : `${fnName}(...${JSON.stringify(test.input)})`;
  const res = await runInWorker(
    {
      prelude: preludeSource(limits.maxOutputChars),
      solution,
      mode: 'assert' in test ? 'assert' : 'expr',
      code,
      timeoutMs: limits.timeoutMs,
      memoryLimitBytes: limits.memoryLimitBytes,
      maxStackBytes: limits.maxStackBytes,
    },
    2 * limits.timeoutMs + 1000,
  );
  if (res === null) return fail('timeout', `hard deadline of ${2 * limits.timeoutMs + 1000} ms of CPU time exceeded; sandbox worker terminated`);
  const failure = classify(res, limits);
  if (failure) return fail(failure.kind, failure.message);
  if ('assert' in test || res.status !== 'ok' || res.encoded === null) return { pass: true, kind: null, reason: null };
  const actual = decodeValue(res.encoded);
  if (deepEqual(actual, test.expected, limits.tolerance)) return { pass: true, kind: null, reason: null };
  return fail('wrong-answer', `expected ${preview(test.expected)}, got ${preview(actual)}`);
}
