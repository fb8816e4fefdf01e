// Python code reward (R1 §2.2.2: "a compiler can be used to evaluate the model's responses against
// a suite of predefined test cases"), as open-r1's `code_reward` / `binary_code_reward` score it:
// the completion's last ```python block runs in CPython compiled to WebAssembly (Pyodide) in a
// sandboxed worker thread, against stdin/stdout pairs, function calls or assert statements.
import { checkNumber, RewardConfigError } from '../../errors.js';
import type { RewardFunction, RewardSample } from '../../types.js';
import type { CodeRewardDetails } from '../code-reward.js';
import { lastPythonBlock } from '../extract-code.js';
import type { CodeFailureKind, CodeTestResult } from '../sandbox.js';
import { deepEqual, preview } from '../values.js';
import { outputsMatch, type OutputComparison } from './compare.js';
import { runPythonProgram, warmPythonPool, type ProgramLimits, type ProgramRun } from './pool.js';
import type { PythonOutcome, PythonWorkerTest } from './worker-main.js';
import { checkOptionKeys } from '../../option-keys.js';

/** The keys of {@link PythonCodeRewardOptions} (typed: a key added to or removed from it fails to compile). */
const PYTHON_REWARD_KEYS: Record<keyof PythonCodeRewardOptions, true> = {
  timeoutMs: true, wallTimeoutMs: true, memoryLimitBytes: true, maxOutputChars: true, poolSize: true,
  binary: true, entryPoint: true, compare: true, tolerance: true,
};

/**
 * One test case of {@link createPythonCodeReward}, in the forms the common datasets use:
 *
 * - `{ input, output }`: the program reads `input` on stdin and must print `output` (open-r1's
 *   `verification_info.test_cases`, Codeforces, LiveCodeBench `testtype: 'stdin'`).
 * - `{ input, output, testtype: 'functional' }`: LiveCodeBench's call form: `input` holds one JSON
 *   argument per line, `output` the JSON result; the function is `fn` (or the reward's
 *   `entryPoint`, or `sample.entryPoint`), a top-level def or a method of `class Solution`.
 * - `{ fn?, args, expected }`: calls the function with `args` and compares the JSON result.
 * - `{ assert }`: runs a statement snippet (e.g. `assert add(1, 2) == 3`) after the program;
 *   passes when nothing is raised (HumanEval/MBPP).
 *
 * @example
 * ```ts
 * import type { PythonCodeTest } from '@r1-ts/rewards';
 * const tests: PythonCodeTest[] = [
 *   { input: '1 2\n', output: '3\n' },
 *   { fn: 'add', args: [2, 3], expected: 5 },
 *   { input: '4\n5', output: '9', testtype: 'functional', fn: 'add' },
 *   { assert: 'assert add(-1, 1) == 0' },
 * ];
 * ```
 */
export type PythonCodeTest =
  | { input: string; output: string; testtype?: 'stdin' | 'functional'; type?: string; fn?: string }
  | { fn?: string; args: unknown[]; expected: unknown }
  | { assert: string };

/**
 * Options of {@link createPythonCodeReward}.
 *
 * @example
 * ```ts
 * import type { PythonCodeRewardOptions } from '@r1-ts/rewards';
 * const options: PythonCodeRewardOptions = { timeoutMs: 2000, binary: true, compare: 'tokens' };
 * ```
 */
export interface PythonCodeRewardOptions {
  /** CPU time per test in ms, counted on the interpreter's thread (default 4000). */
  timeoutMs?: number;
  /** Wall-time backstop per test in ms for a program that blocks without using CPU (default 20 × timeoutMs + 20 s: only a program that blocks, e.g. in time.sleep, should meet it; CPU time decides the rest). */
  wallTimeoutMs?: number;
  /**
   * Python heap per interpreter in bytes, enforced on the WebAssembly memory (default 256 MiB);
   * files written to /tmp or the working directory may take a quarter of it besides.
   */
  memoryLimitBytes?: number;
  /** Largest stdout (or JSON return value) per test, in characters (default 1,000,000). */
  maxOutputChars?: number;
  /** `true`: 1 only when every test passes, else 0 (open-r1's `binary_code_reward`). Default: the pass rate. */
  binary?: boolean;
  /** Function called by call tests without their own `fn` (else `sample.entryPoint`). */
  entryPoint?: string;
  /** How stdout is compared with the expected output (default `'lines'`). */
  compare?: OutputComparison;
  /** Relative tolerance for numbers in call results (default 1e-9). */
  tolerance?: number;
  /** Programs graded at once, each in its own warm interpreter (default 1; one spare is kept besides). */
  poolSize?: number;
}

const PY_IDENTIFIER = /^[A-Za-z_]\w*$/;
const DEFAULT_MEMORY = 256 * 2 ** 20;

interface Normalised {
  worker: PythonWorkerTest;
  expectedOutput?: string;
  expectedValue?: unknown;
}

function normaliseTests(sample: RewardSample, entryPoint: string | undefined): Normalised[] {
  const tests = sample.tests as unknown;
  if (!Array.isArray(tests)) throw new RewardConfigError('sample.tests', tests, 'an array of Python code tests');
  const blank = { stdin: '', fn: '', argsJson: '[]', snippet: '' };
  return tests.map((test: unknown, i): Normalised => {
    const field = `sample.tests[${i}]`;
    if (test === null || typeof test !== 'object') throw new RewardConfigError(field, test, '{ input, output }, { args, expected } or { assert }');
    const t = test as Record<string, unknown>;
    if ('assert' in t) {
      if (typeof t.assert !== 'string') throw new RewardConfigError(`${field}.assert`, t.assert, 'a string of Python statements');
      return { worker: { ...blank, mode: 'assert', snippet: t.assert } };
    }
    const fnOf = () => {
      const fn = t.fn ?? entryPoint ?? sample.entryPoint;
      if (typeof fn !== 'string' || !PY_IDENTIFIER.test(fn)) {
        throw new RewardConfigError(`${field}.fn`, fn, 'a Python function name (on the test, as options.entryPoint or as sample.entryPoint)');
      }
      return fn;
    };
    if ('args' in t) {
      if (!Array.isArray(t.args)) throw new RewardConfigError(`${field}.args`, t.args, 'an array of JSON arguments');
      if (!('expected' in t)) throw new RewardConfigError(`${field}.expected`, undefined, 'present (the value the call must return)');
      return { worker: { ...blank, mode: 'call', fn: fnOf(), argsJson: JSON.stringify(t.args) }, expectedValue: t.expected };
    }
    if (typeof t.input !== 'string') throw new RewardConfigError(`${field}.input`, t.input, 'a string (stdin, or JSON arguments one per line)');
    if (typeof t.output !== 'string') throw new RewardConfigError(`${field}.output`, t.output, 'a string (the expected stdout or JSON result)');
    if (t.testtype === 'functional') {
      const lines = t.input.split('\n').filter((l) => l.trim() !== '');
      let expectedValue: unknown;
      try {
        for (const line of lines) JSON.parse(line);
        expectedValue = JSON.parse(t.output);
      } catch {
        throw new RewardConfigError(field, t.input, 'functional input and output as JSON, one argument per line');
      }
      return { worker: { ...blank, mode: 'call', fn: fnOf(), argsJson: `[${lines.join(',')}]` }, expectedValue };
    }
    return { worker: { ...blank, mode: 'stdio', stdin: t.input }, expectedOutput: t.output };
  });
}

const fail = (kind: CodeFailureKind, message: string): CodeTestResult => ({ pass: false, kind, reason: `${kind}: ${message}` });
const PASS: CodeTestResult = { pass: true, kind: null, reason: null };

function errorKind(o: PythonOutcome): CodeFailureKind {
  const type = o.type ?? 'Error';
  if (type === 'OutputLimit') return 'output-too-large';
  if (type === 'MemoryError') return 'memory-limit';
  if (type === 'RecursionError') return 'stack-overflow';
  if (type === 'InterpreterFault') return /stack|recursion/i.test(o.message ?? '') ? 'stack-overflow' : 'sandbox-fault';
  if (o.stage === 'load') return /^(SyntaxError|IndentationError|TabError)$/.test(type) ? 'syntax-error' : 'load-error';
  return 'test-error';
}

function verdict(test: Normalised, index: number, run: ProgramRun, compare: OutputComparison, tolerance: number, memoryLimitBytes: number): CodeTestResult {
  const got = run.outcomes[index];
  const { stopped } = run;
  if (got === undefined) {
    if (stopped === null) return fail('sandbox-fault', 'the interpreter returned no outcome');
    if (stopped.index === index) return fail(stopped.why, stopped.message);
    return fail('not-run', `test ${stopped.index} was stopped (${stopped.why}), so the program's later tests were not run`);
  }
  if (got.memoryLimitHit) return fail('memory-limit', `the program's memory passed the limit of ${memoryLimitBytes} bytes`);
  const o = got.outcome;
  if (o.status === 'error') return fail(errorKind(o), `${o.type}: ${o.message}`);
  if (test.worker.mode === 'assert') return PASS;
  if (test.worker.mode === 'stdio') {
    const actual = o.stdout ?? '';
    return outputsMatch(actual, test.expectedOutput!, compare) ? PASS : fail('wrong-answer', `expected ${preview(test.expectedOutput)}, got ${preview(actual)}`);
  }
  const actual = JSON.parse(o.value ?? 'null') as unknown;
  return deepEqual(actual, test.expectedValue, tolerance) ? PASS : fail('wrong-answer', `expected ${preview(test.expectedValue)}, got ${preview(actual)}`);
}

/**
 * Builds the detailed Python code reward: like {@link createPythonCodeReward} but returning every
 * test's outcome with the reason of each failure. Throws {@link RewardConfigError} for bad options
 * or malformed tests (a data bug), never for anything the completion does.
 *
 * @param options - Limits (`timeoutMs`, `wallTimeoutMs`, `memoryLimitBytes`, `maxOutputChars`, `poolSize`) and scoring (`binary`, `entryPoint`, `compare`, `tolerance`); see {@link PythonCodeRewardOptions}.
 *
 * @example
 * ```ts
 * import { createPythonCodeRewardDetailed } from '@r1-ts/rewards';
 * const grade = createPythonCodeRewardDetailed({ timeoutMs: 1000 });
 * const d = await grade('```python\nwhile True:\n    pass\n```', { prompt: '', tests: [{ input: '', output: '1' }] });
 * // d.score = 0, d.results[0].kind = 'timeout'
 * ```
 */
export function createPythonCodeRewardDetailed(
  options: PythonCodeRewardOptions = {},
): (completion: string, sample: RewardSample) => Promise<CodeRewardDetails> {
  checkOptionKeys('createPythonCodeReward', options, PYTHON_REWARD_KEYS);
  const timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? 4000, { min: 0, exclusiveMin: true });
  const limits: ProgramLimits = {
    timeoutMs,
    wallTimeoutMs: checkNumber('wallTimeoutMs', options.wallTimeoutMs ?? 20 * timeoutMs + 20_000, { min: timeoutMs }),
    memoryLimitBytes: checkNumber('memoryLimitBytes', options.memoryLimitBytes ?? DEFAULT_MEMORY, { min: 16 * 2 ** 20, integer: true }),
    maxOutputChars: checkNumber('maxOutputChars', options.maxOutputChars ?? 1_000_000, { min: 1, integer: true }),
  };
  const tolerance = checkNumber('tolerance', options.tolerance ?? 1e-9, { min: 0 });
  const poolSize = checkNumber('poolSize', options.poolSize ?? 1, { min: 1, integer: true });
  const binary = options.binary ?? false;
  if (typeof binary !== 'boolean') throw new RewardConfigError('binary', binary, 'a boolean');
  const compare = options.compare ?? 'lines';
  if (!['lines', 'tokens', 'exact'].includes(compare)) throw new RewardConfigError('compare', compare, "'lines', 'tokens' or 'exact'");
  if (options.entryPoint !== undefined && !PY_IDENTIFIER.test(options.entryPoint)) {
    throw new RewardConfigError('entryPoint', options.entryPoint, 'a Python identifier');
  }
  return async (completion, sample) => {
    if (sample.tests === undefined || (Array.isArray(sample.tests) && sample.tests.length === 0)) {
      return { score: null, results: [], reason: 'no tests in the sample' };
    }
    const tests = normaliseTests(sample, options.entryPoint);
    const code = lastPythonBlock(completion);
    if (code === null || code.trim() === '') {
      const reason = 'no-code-block: no ```python code block in the answer';
      return { score: 0, reason, results: tests.map(() => ({ pass: false, kind: 'no-code-block' as const, reason })) };
    }
    const run = await runPythonProgram(code, tests.map((t) => t.worker), limits, poolSize);
    const results = tests.map((t, i) => verdict(t, i, run, compare, tolerance, limits.memoryLimitBytes));
    const passed = results.filter((r) => r.pass).length;
    return { score: binary ? (passed === results.length ? 1 : 0) : passed / results.length, results, reason: null };
  };
}

/**
 * Builds the Python code reward: the fraction of `sample.tests` (see {@link PythonCodeTest}) that
 * the answer's last ```python block passes, or 0/1 with `binary`; `null` when the sample has no
 * tests. Programs run in warm, sandboxed CPython interpreters (no network, no host files, no
 * JavaScript FFI) with CPU-time and memory limits.
 *
 * @param options - Limits (`timeoutMs`, `wallTimeoutMs`, `memoryLimitBytes`, `maxOutputChars`, `poolSize`) and scoring (`binary`, `entryPoint`, `compare`, `tolerance`); see {@link PythonCodeRewardOptions}.
 *
 * @example
 * ```ts
 * import { createPythonCodeReward } from '@r1-ts/rewards';
 * const reward = createPythonCodeReward({ binary: true });
 * await reward('<think>sum two ints</think>\n```python\na, b = map(int, input().split())\nprint(a + b)\n```', {
 *   prompt: 'Read a and b, print a + b.',
 *   tests: [{ input: '1 2\n', output: '3\n' }, { input: '-5 5\n', output: '0\n' }],
 * }); // 1
 * ```
 */
export function createPythonCodeReward(options: PythonCodeRewardOptions = {}): RewardFunction {
  const detailed = createPythonCodeRewardDetailed(options);
  const pythonCodeReward: RewardFunction = async (completion, sample) => (await detailed(completion, sample)).score;
  return pythonCodeReward;
}

/**
 * The Python code reward with default limits (4 s CPU per test, 256 MiB), scoring the pass rate.
 *
 * @example
 * ```ts
 * import { pythonCodeReward } from '@r1-ts/rewards';
 * await pythonCodeReward('```python\ndef sq(x):\n    return x * x\n```', {
 *   prompt: '', tests: [{ fn: 'sq', args: [3], expected: 9 }, { assert: 'assert sq(-2) == 4' }],
 * }); // 1
 * ```
 */
export const pythonCodeReward: RewardFunction = createPythonCodeReward();

/**
 * Starts the interpreters that a Python code reward with these options uses (`poolSize` + 1 spare)
 * and resolves when they are idle, so the first graded program does not pay the start-up. Optional:
 * the reward starts them on first use anyway.
 *
 * @param options - the options of the reward that will use the interpreters (pass the same object): its `memoryLimitBytes` and `poolSize` pick the warm pool the reward draws from; its other keys are accepted and unused.
 *
 * @example
 * ```ts
 * import { createPythonCodeReward, warmPythonSandbox } from '@r1-ts/rewards';
 * const options = { poolSize: 2 };
 * await warmPythonSandbox(options);
 * const reward = createPythonCodeReward(options);
 * ```
 */
export function warmPythonSandbox(options: PythonCodeRewardOptions = {}): Promise<void> {
  // The reward's own options object is the documented argument: every key of it is accepted, two are used.
  checkOptionKeys('warmPythonSandbox', options, PYTHON_REWARD_KEYS);
  const memoryLimitBytes = checkNumber('memoryLimitBytes', options.memoryLimitBytes ?? DEFAULT_MEMORY, { min: 16 * 2 ** 20, integer: true });
  return warmPythonPool(memoryLimitBytes, checkNumber('poolSize', options.poolSize ?? 1, { min: 1, integer: true }));
}
