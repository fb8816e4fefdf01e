import type { PythonCodeTest } from './code/python/python-reward.js';

/**
 * One test case for {@link codeReward}. Three forms:
 *
 * - `{ input: [...args], expected, fn? }` calls the function named `fn` (else the code reward's
 *   `entryPoint` option, else `sample.entryPoint`) with `args` and compares the result with `expected`
 *   by deep equality.
 * - `{ input: 'expression', expected }` evaluates a JavaScript expression after the solution (e.g.
 *   `'add(2, 3)'`) and compares its value with `expected`.
 * - `{ assert: 'snippet' }` runs a statement snippet after the solution; it passes when it does not
 *   throw. An `assert(cond, message?)` helper is defined in the sandbox.
 *
 * Values cross the sandbox boundary as JSON, with `undefined`, `NaN`, `±Infinity` and `-0` kept.
 *
 * @example
 * ```ts
 * import type { CodeTest } from '@r1-ts/rewards';
 * const tests: CodeTest[] = [
 *   { fn: 'add', input: [2, 3], expected: 5 },
 *   { input: 'add(-1, 1)', expected: 0 },
 *   { assert: 'assert(add(0.5, 0.25) === 0.75)' },
 * ];
 * ```
 */
export type CodeTest =
  | { input: unknown[]; expected: unknown; fn?: string }
  | { input: string; expected: unknown }
  | { assert: string };

/**
 * What a reward function sees besides the completion: the prompt, and whatever reference the reward
 * needs (`answer` for math, `tests` for code, `language` for language consistency). Extra fields pass
 * through untouched.
 *
 * @example
 * ```ts
 * import type { RewardSample } from '@r1-ts/rewards';
 * const sample: RewardSample = { prompt: 'What is 6 × 7?', answer: '42', language: 'en' };
 * ```
 */
export interface RewardSample {
  prompt: string;
  /** Reference answer (LaTeX or plain text; a `\boxed{}` inside is extracted). */
  answer?: string;
  /** Test cases for {@link codeReward} (JavaScript) or {@link createPythonCodeReward} (Python). */
  tests?: CodeTest[] | PythonCodeTest[];
  /** Target language of the reasoning for {@link languageConsistencyReward} (default `'en'`). */
  language?: string;
  [key: string]: unknown;
}

/**
 * A rule-based reward: a score for one completion of one sample. `null` means "not applicable"
 * (e.g. no reference answer): such a value is excluded from the group baseline and from
 * {@link combineRewards}' total.
 *
 * @example
 * ```ts
 * import type { RewardFunction } from '@r1-ts/rewards';
 * const shortIsBetter: RewardFunction = (completion) => (completion.length < 100 ? 1 : 0);
 * ```
 */
export type RewardFunction = (completion: string, sample: RewardSample) => number | null | Promise<number | null>;
