// Code reward (R1 §2.2.2 "for code competition prompts, a compiler can be used to evaluate the
// model's responses against a suite of predefined test cases"): the pass rate of the completion's last
// JavaScript block, run in a QuickJS sandbox.
import { checkNumber, RewardConfigError } from '../errors.js';
import type { CodeTest, RewardFunction, RewardSample } from '../types.js';
import { lastJavaScriptBlock, stripExports } from './extract-code.js';
import { runTest, type CodeTestResult, type SandboxLimits } from './sandbox.js';
import { checkOptionKeys } from '../option-keys.js';

/**
 * Options of {@link createCodeReward} and {@link createCodeRewardDetailed}.
 *
 * @example
 * ```ts
 * import type { CodeRewardOptions } from '@r1-ts/rewards';
 * const options: CodeRewardOptions = { timeoutMs: 500, binary: true, entryPoint: 'solve' };
 * ```
 */
export interface CodeRewardOptions {
  /** CPU deadline per test, covering loading the solution and running the test (default 1000 ms). */
  timeoutMs?: number;
  /**
   * Heap limit of the sandbox per test (default 64 MiB): QuickJS's limit plus a hard cap on the WASM
   * memory at this many bytes + 32 MiB, so strings and typed arrays cannot grow the host either.
   */
  memoryLimitBytes?: number;
  /**
   * Sandbox stack limit (default 64 KiB ≈ 370 nested JS calls). Raising it much beyond 128 KiB lets
   * deeply nested built-ins (JSON of a 10⁵-deep array) overflow the host's stack first; that is caught
   * and reported as `sandbox-fault`, but a smaller limit fails them cleanly as `stack-overflow`.
   */
  maxStackBytes?: number;
  /** Largest serialised result, in characters (default 1,000,000). */
  maxOutputChars?: number;
  /** `true`: 1 only when every test passes, else 0. Default: the pass rate. */
  binary?: boolean;
  /** Function called by `{ input: [...] }` tests without their own `fn` (else `sample.entryPoint`). */
  entryPoint?: string;
  /** Relative tolerance when comparing numbers in results (default 1e-9). */
  tolerance?: number;
}

/**
 * What {@link codeRewardDetailed} returns: the score (as {@link codeReward} would), each test's
 * outcome, and a reason when the solution failed as a whole (e.g. no code block).
 *
 * @example
 * ```ts
 * import type { CodeRewardDetails } from '@r1-ts/rewards';
 * const d: CodeRewardDetails = { score: 0.5, reason: null, results: [
 *   { pass: true, kind: null, reason: null },
 *   { pass: false, kind: 'wrong-answer', reason: 'wrong-answer: expected 3, got 4' },
 * ] };
 * ```
 */
export interface CodeRewardDetails {
  /** Pass rate (or 0/1 when `binary`); `null` when the sample has no tests. */
  score: number | null;
  results: CodeTestResult[];
  reason: string | null;
}

const IDENTIFIER_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;

function checkTests(sample: RewardSample, entryPoint: string | undefined): Array<{ test: CodeTest; fn: string | undefined }> {
  const tests = sample.tests as CodeTest[] | undefined; // checked below: Python tests are rejected here
  if (!Array.isArray(tests)) throw new RewardConfigError('sample.tests', tests, 'an array of code tests');
  return tests.map((test, i) => {
    const field = `sample.tests[${i}]`;
    if (test === null || typeof test !== 'object') throw new RewardConfigError(field, test, '{ input, expected } or { assert }');
    if ('assert' in test) {
      if (typeof test.assert !== 'string') throw new RewardConfigError(`${field}.assert`, test.assert, 'a string of JavaScript');
      return { test, fn: undefined };
    }
    if (!('expected' in test)) throw new RewardConfigError(`${field}.expected`, undefined, 'present (the value the call must return)');
    if (typeof test.input === 'string') return { test, fn: undefined };
    if (!Array.isArray(test.input)) throw new RewardConfigError(`${field}.input`, test.input, 'an array of arguments or a JavaScript expression string');
    const fn = ('fn' in test ? test.fn : undefined) ?? entryPoint ?? sample.entryPoint;
    if (typeof fn !== 'string' || !IDENTIFIER_PATH.test(fn)) {
      throw new RewardConfigError(`${field}.fn`, fn, 'a function name (set it on the test, as options.entryPoint or as sample.entryPoint)');
    }
    return { test, fn };
  });
}

/**
 * Builds the detailed code reward: like {@link createCodeReward} but returning every test's
 * outcome and the reason of each failure. Throws {@link RewardConfigError} for bad options or
 * malformed tests (a data bug), never for anything the completion does.
 *
 * @param options - Sandbox limits (`timeoutMs`, `memoryLimitBytes`, `maxStackBytes`, `maxOutputChars`) and scoring (`binary`, `entryPoint`, `tolerance`); see {@link CodeRewardOptions}.
 *
 * @example
 * ```ts
 * import { createCodeRewardDetailed } from '@r1-ts/rewards';
 * const run = createCodeRewardDetailed({ timeoutMs: 200 });
 * const d = await run('```js\nfunction f() { while (true) {} }\n```', {
 *   prompt: '', entryPoint: 'f', tests: [{ input: [], expected: 1 }],
 * });
 * // d.score = 0, d.results[0].kind = 'timeout'
 * ```
 */
export function createCodeRewardDetailed(options: CodeRewardOptions = {}): (completion: string, sample: RewardSample) => Promise<CodeRewardDetails> {
  checkOptionKeys('createCodeReward', options, { timeoutMs: true, memoryLimitBytes: true, maxStackBytes: true, maxOutputChars: true, binary: true, entryPoint: true, tolerance: true });
  const limits: SandboxLimits = {
    timeoutMs: checkNumber('timeoutMs', options.timeoutMs ?? 1000, { min: 0, exclusiveMin: true }),
    memoryLimitBytes: checkNumber('memoryLimitBytes', options.memoryLimitBytes ?? 64 * 2 ** 20, { min: 2 ** 20, integer: true }),
    maxStackBytes: checkNumber('maxStackBytes', options.maxStackBytes ?? 64 * 2 ** 10, { min: 8 * 2 ** 10, integer: true }),
    maxOutputChars: checkNumber('maxOutputChars', options.maxOutputChars ?? 1_000_000, { min: 1, integer: true }),
    tolerance: checkNumber('tolerance', options.tolerance ?? 1e-9, { min: 0 }),
  };
  const binary = options.binary ?? false;
  if (typeof binary !== 'boolean') throw new RewardConfigError('binary', binary, 'a boolean');
  if (options.entryPoint !== undefined && !IDENTIFIER_PATH.test(options.entryPoint)) {
    throw new RewardConfigError('entryPoint', options.entryPoint, 'a JavaScript identifier');
  }
  return async (completion, sample) => {
    if (sample.tests === undefined || (Array.isArray(sample.tests) && sample.tests.length === 0)) {
      return { score: null, results: [], reason: 'no tests in the sample' };
    }
    const tests = checkTests(sample, options.entryPoint);
    const block = lastJavaScriptBlock(completion);
    if (block === null || block.trim() === '') {
      const reason = 'no-code-block: no fenced JavaScript code block in the completion';
      return { score: 0, reason, results: tests.map(() => ({ pass: false, kind: 'no-code-block' as const, reason })) };
    }
    const solution = stripExports(block);
    const results: CodeTestResult[] = [];
    for (const { test, fn } of tests) results.push(await runTest(solution, test, fn, limits)); // sequential: deterministic
    const passed = results.filter((r) => r.pass).length;
    const score = binary ? (passed === results.length ? 1 : 0) : passed / results.length;
    return { score, results, reason: null };
  };
}

/**
 * Builds the code reward: the fraction of `sample.tests` that the completion's last fenced
 * JavaScript block passes (or 0/1 with `binary`), each test in a fresh QuickJS sandbox with CPU,
 * memory and stack limits. `null` when the sample has no tests.
 *
 * @param options - Sandbox limits (`timeoutMs`, `memoryLimitBytes`, `maxStackBytes`, `maxOutputChars`) and scoring (`binary`, `entryPoint`, `tolerance`); see {@link CodeRewardOptions}.
 *
 * @example
 * ```ts
 * import { createCodeReward } from '@r1-ts/rewards';
 * const reward = createCodeReward({ binary: true });
 * await reward('```js\nconst add = (a, b) => a + b;\n```', {
 *   prompt: 'Write add(a, b).', entryPoint: 'add',
 *   tests: [{ input: [1, 2], expected: 3 }, { input: 'add(-1, 1)', expected: 0 }],
 * }); // 1
 * ```
 */
export function createCodeReward(options: CodeRewardOptions = {}): RewardFunction {
  const detailed = createCodeRewardDetailed(options);
  const codeReward: RewardFunction = async (completion, sample) => (await detailed(completion, sample)).score;
  return codeReward;
}

/**
 * The code reward with default limits (1 s per test, 64 MiB, 64 KiB stack), scoring the pass rate.
 *
 * @example
 * ```ts
 * import { codeReward } from '@r1-ts/rewards';
 * await codeReward('```js\nfunction sq(x) { return x * x; }\n```', {
 *   prompt: '', tests: [{ fn: 'sq', input: [3], expected: 9 }, { assert: 'assert(sq(-2) === 4)' }],
 * }); // 1
 * ```
 */
export const codeReward: RewardFunction = createCodeReward();

/**
 * The detailed code reward with default limits; use it to log why completions fail.
 *
 * @example
 * ```ts
 * import { codeRewardDetailed } from '@r1-ts/rewards';
 * const d = await codeRewardDetailed('```js\nconst fs = require("fs");\n```', {
 *   prompt: '', tests: [{ assert: 'true' }],
 * });
 * // d.results[0].reason = "load-error: ReferenceError: 'require' is not defined"
 * ```
 */
export const codeRewardDetailed: (completion: string, sample: RewardSample) => Promise<CodeRewardDetails> = createCodeRewardDetailed();
